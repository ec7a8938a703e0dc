"""The Classroom reporter's two readings of our runners agree, for any score the rubric gives.

``reporter_points`` is what Classroom receives (src/notify-classroom.js), ``reporter_log`` what
the reporter prints (src/helpers/test-helpers.js getTestScore, src/aggregate-results.js); both
add in doubles in the runners' order, as JavaScript does, so a sum like 0.1 + 0.2 shows up here
as it would there.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from grader import classroom
from grader.results import CheckResult, SubmissionResult
from grader.rubric.schema import Rubric

NOW = datetime(2025, 3, 1, tzinfo=timezone.utc)


def rubric(points: list[float], bonus: float = 0.0) -> Rubric:
    checks = [{"id": f"c{i}", "title": f"C{i}", "points": p, "kind": "k"} for i, p in enumerate(points)]
    if bonus:
        checks.append({"id": "extra", "title": "Extra", "points": bonus, "kind": "k", "bonus": True})
    return Rubric.model_validate({"assignment": "t", "title": "T", "lang": "en", "checks": checks})


def graded(spec: Rubric, earned: list[float], penalty: float = 0.0) -> SubmissionResult:
    checks = tuple(CheckResult(c.id, str(c.title), "pass" if e == c.points else ("fail" if e == 0 else "partial"),
                               e, c.points, "m") for c, e in zip(spec.checks, earned))
    score = round(sum(earned) - penalty, 4)
    return SubmissionResult("s", "hw.ipynb", "", "graded", score, spec.max_score, 0.0, None, checks,
                            penalty=penalty, late_days=1 if penalty else 0)


def agree(outcome: classroom.CiOutcome, total: float, maximum: float) -> None:
    assert classroom.reporter_points(outcome.runners) == (total, maximum)
    assert classroom.reporter_log(outcome.runners) == (total, maximum)
    assert outcome.points_line == f"Points {classroom.js_number(total)}/{classroom.js_number(maximum)}"


@pytest.mark.parametrize("maximum", [1, 5, 6, 7.5, 8, 10, 12.25, 100])
def test_every_hundredth_adds_up_exactly(maximum: float) -> None:
    spec = rubric([maximum])
    for hundredths in range(0, int(maximum * 100) + 1, 7 if maximum > 20 else 1):
        score = hundredths / 100
        agree(classroom.classroom_outcome(graded(spec, [score]), spec, "en", NOW), score, maximum)


def test_a_late_penalty_sends_the_rubrics_hundredths() -> None:
    spec = rubric([0.5, 0.5])  # 10 % of 1 point earned: a penalty of 0.1 leaves 0.9
    outcome = classroom.classroom_outcome(graded(spec, [0.5, 0.5], penalty=0.1), spec, "en", NOW)
    agree(outcome, 0.9, 1)
    assert "0.8999999999999999" not in str(outcome.runners) and outcome.points_line == "Points 0.9/1"


def test_bonus_above_the_maximum_keeps_the_maximum() -> None:
    spec = rubric([4, 4], bonus=2)
    outcome = classroom.classroom_outcome(graded(spec, [4, 4, 2]), spec, "en", NOW)
    agree(outcome, 10, 8)
    remaining = outcome.runners["remaining"]
    assert remaining["max_score"] == -2 and remaining["tests"][0]["name"] == "Bonus above the maximum"
    assert "The maximum stays 8" in remaining["tests"][0]["message"]


def test_the_runners_never_fail_the_job_on_their_own() -> None:
    spec = rubric([1, 1])
    outcome = classroom.classroom_outcome(graded(spec, [1, 0]), spec, "ru", NOW)
    assert outcome.runners["grader"]["status"] == "fail"
    assert outcome.runners["earned"]["status"] == outcome.runners["remaining"]["status"] == "pass"
    assert outcome.runners["remaining"]["tests"][0]["name"] == "Недобранные баллы"


def test_js_number_prints_like_javascript() -> None:
    assert [classroom.js_number(v) for v in (6.0, 4.5, 0.1 + 0.2, -0.0)] == ["6", "4.5", "0.30000000000000004", "0"]
