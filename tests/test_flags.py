"""Flags for the instructor's review: raised by a check, kept in the results, shown in reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader import families as checks
from grader.artifacts import CheckContext, Outcome
from grader.grading import _score
from grader.report.html import render_index, render_student_report
from grader.results import BatchResult, CheckResult, Flag, SubmissionResult
from grader.rubric import load_rubric
from grader.run.runner import RunOutcome

RUBRIC = """\
assignment: flags
title: {ru: "Флаги", en: "Flags"}
lang: ru
checks:
  - {id: accuracy, kind: models.accuracy, title: {ru: "Точность", en: "Accuracy"}, points: 2}
"""


def test_a_checks_flag_names_the_check_and_leaves_the_points(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flags.yaml").write_text(RUBRIC, encoding="utf-8")
    spec = load_rubric(str(tmp_path / "flags.yaml")).check("accuracy")
    flag = Flag("implausible", "Точность 99,99 % выше порога правдоподобия 99,8 %.")
    monkeypatch.setitem(checks.CHECKS, spec.kind, lambda ctx, params: Outcome("ok", "Fine.", flags=(flag,)))
    run = RunOutcome("ok", "", (), {}, (), tmp_path, (), "test", 0.0)
    result, flags = _score(spec, CheckContext("ru", [], (), {}, [], tmp_path), run, "ru")
    assert result.points == 2 and result.status == "pass"
    assert flags == (Flag("implausible", flag.message, "accuracy"),)


def _flagged() -> SubmissionResult:
    check = CheckResult("accuracy", "Точность", "pass", 2.0, 2.0, "Хорошо.")
    return SubmissionResult("Иванов Иван", "hw.ipynb", "0" * 64, "graded", 2.0, 2.0, 1.0, None, (check,),
                            flags=(Flag("tampering", "Код проверяющей системы был изменён.", None),
                                   Flag("implausible", "Слишком высокая точность.", "accuracy")))


def test_flags_survive_json() -> None:
    result = _flagged()
    assert SubmissionResult.from_json(result.to_json()) == result
    # results written before flags existed still load
    old = result.to_json()
    del old["flags"]
    assert SubmissionResult.from_json(old).flags == ()


def test_reports_show_the_flags(tmp_path: Path) -> None:
    result = _flagged()
    page = render_student_report(result, tmp_path / "s", title="ДЗ", lang="ru").read_text(encoding="utf-8")
    assert "Нужна проверка преподавателем" in page
    assert "Код проверяющей системы был изменён." in page
    assert "проверка «Точность»: Слишком высокая точность." in page
    batch = BatchResult("flags", "2026-12-03T10:00:00+00:00", (result, _flagged().__class__(
        "Петров Пётр", "hw.ipynb", "1" * 64, "graded", 1.0, 2.0, 1.0, None, ())))
    index = render_index(batch, tmp_path, title="ДЗ", lang="ru").read_text(encoding="utf-8")
    assert "Отмечено для проверки преподавателем: 1" in index
    assert index.count('class="badge flag"') == 1
