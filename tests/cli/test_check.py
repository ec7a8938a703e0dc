"""`grader check`: the student's self-check never shows hidden checks, says the grade may differ,
and exits 0 / 1 / 2. Canned grading for the output rules; real kernels for the end-to-end runs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grader import selfcheck
from grader.artifacts import Outcome
from grader.families import CHECKS
from grader.cli import main
from grader.results import CheckResult, SubmissionResult
from grader.rubric import load_rubric
from grader.rubric.schema import Rubric, text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "submissions" / "task1" / "ivanov_ivan"
RUBRIC = """\
assignment: t1
title: {ru: "Задание", en: "Task"}
lang: ru
checks:
  - {id: func, title: {ru: "Функция", en: "Function"}, points: 1, kind: gd.function}
  - {id: steps, title: {ru: "Шаги", en: "Steps"}, points: 2, kind: gd.steps}
  - {id: secret, title: "SECRET-TITLE", points: 3, kind: gd.plot, visibility: hidden}
"""


def fake_grade(shares: dict[str, float], status: str = "graded"):  # type: ignore[no-untyped-def]
    """grade_one stand-in: one canned result per check of the rubric it is given, each with a
    message naming the check, so any hidden check that got through would show up."""

    def grade(sub, rubric: Rubric, box, out, lang, options, **kw) -> SubmissionResult:  # type: ignore[no-untyped-def]
        checks = tuple(
            CheckResult(s.id, text(s.title, lang), "pass" if shares[s.id] == 1 else "partial",  # type: ignore[arg-type]
                        s.points * shares[s.id], s.points, f"MESSAGE-{s.id.upper()}", visibility=s.visibility)
            for s in rubric.checks)
        error = None if status == "graded" else "the work could not be run"
        return SubmissionResult(sub.student, sub.entry.name if sub.entry else "", "", status,  # type: ignore[arg-type]
                                sum(c.points for c in checks), 6.0, 0.1, error, checks)

    return grade


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "rubric.yaml").write_text(RUBRIC, encoding="utf-8")
    folder = tmp_path / "my_work"
    folder.mkdir()
    (folder / "hw.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                     encoding="utf-8")
    return tmp_path


def check(args: list[str], env: dict[str, str] | None = None) -> Result:
    # a fixed terminal width: the table wraps titles to a third of it, and the width the test
    # process sees differs (an xdist worker is told COLUMNS=80, a plain run falls back to 100)
    return CliRunner().invoke(main, ["check", *args], env={"COLUMNS": "100", **(env or {})})


def test_hidden_checks_are_counted_but_never_named(monkeypatch, work: Path) -> None:
    monkeypatch.setattr(selfcheck, "grade_one", fake_grade({"func": 1.0, "steps": 1.0, "secret": 1.0}))
    out = check([str(work / "my_work"), "-a", str(work / "rubric.yaml"), "--sandbox", "plain", "--lang", "en"])
    assert out.exit_code == 0, out.output
    assert "SECRET-TITLE" not in out.output and "MESSAGE-SECRET" not in out.output and "secret" not in out.output
    assert "MESSAGE-FUNC" in out.output and "Steps" in out.output
    assert "Hidden checks: 1 (another 3 points)" in out.output
    assert "your final grade may differ" in out.output
    assert "without isolation" in out.output  # the plain fallback is said out loud


def test_russian_output_and_exit_1_when_a_visible_check_fails(monkeypatch, work: Path) -> None:
    monkeypatch.setattr(selfcheck, "grade_one", fake_grade({"func": 1.0, "steps": 0.5, "secret": 1.0}))
    out = check([str(work / "my_work" / "hw.ipynb"), "-a", str(work / "rubric.yaml"), "--sandbox", "plain"])
    assert out.exit_code == 1
    assert "Самопроверка: Задание" in out.output and "итоговая оценка может отличаться" in out.output
    assert "частично" in out.output and "1/2" in out.output
    assert "SECRET-TITLE" not in out.output


def test_a_work_that_did_not_run_exits_1_with_the_reason(monkeypatch, work: Path) -> None:
    monkeypatch.setattr(selfcheck, "grade_one", fake_grade({"func": 0.0, "steps": 0.0, "secret": 0.0}, "error"))
    out = check([str(work / "my_work"), "-a", str(work / "rubric.yaml"), "--sandbox", "plain", "--lang", "en"])
    assert out.exit_code == 1 and "the work could not be run" in out.output


def test_grader_errors_exit_2_without_a_traceback(work: Path) -> None:
    out = check([str(work / "my_work"), "-a", str(work / "no_such_rubric.yaml")])
    assert out.exit_code == 2
    assert "Traceback" not in out.output and "no_such_rubric.yaml" in out.output


def test_no_colour_unless_a_terminal_and_never_with_no_color(monkeypatch, work: Path) -> None:
    monkeypatch.setattr(selfcheck, "grade_one", fake_grade({"func": 1.0, "steps": 1.0, "secret": 1.0}))
    out = check([str(work / "my_work"), "-a", str(work / "rubric.yaml"), "--sandbox", "plain"])
    assert "\x1b[" not in out.output  # CliRunner's stdout is not a terminal
    rubric = load_rubric(work / "rubric.yaml")
    result = selfcheck.run_self_check(work / "my_work", rubric, lang="en", sandbox="plain")
    coloured = selfcheck.render(result, "en", colour=True)
    assert "\x1b[32" in coloured  # green "pass"
    assert "\x1b[" not in selfcheck.render(result, "en", colour=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    from grader.cli import _colour_wanted
    assert _colour_wanted() is False


def test_only_hidden_checks_means_nothing_runs(monkeypatch, tmp_path: Path) -> None:
    def never(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("nothing should run")

    monkeypatch.setattr(selfcheck, "grade_one", never)
    (tmp_path / "r.yaml").write_text(RUBRIC.replace("kind: gd.function}", "kind: gd.function, visibility: hidden}")
                                     .replace("kind: gd.steps}", "kind: gd.steps, visibility: hidden}"), encoding="utf-8")
    (tmp_path / "w.ipynb").write_text("{}", encoding="utf-8")
    out = check([str(tmp_path / "w.ipynb"), "-a", str(tmp_path / "r.yaml"), "--lang", "en"])
    assert out.exit_code == 0
    assert "no visible checks" in out.output and "Hidden checks: 3" in out.output
    assert "SECRET-TITLE" not in out.output and "Function" not in out.output


def test_after_due_checks_open_after_the_deadline(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    rubric = Rubric.model_validate({"assignment": "x", "title": "X", "due": "2025-03-03T23:59:00+03:00", "checks": [
        {"id": "a", "title": "A", "points": 1, "kind": "k"},
        {"id": "b", "title": "B", "points": 1, "kind": "k", "visibility": "after_due"},
        {"id": "c", "title": "C", "points": 1, "kind": "k", "visibility": "hidden"}]})
    before, _ = selfcheck.split_checks(rubric, datetime(2025, 3, 1, tzinfo=timezone.utc))
    after, hidden = selfcheck.split_checks(rubric, datetime(2025, 3, 10, tzinfo=timezone.utc))
    assert [c.id for c in before] == ["a"]
    assert [c.id for c in after] == ["a", "b"] and [c.id for c in hidden] == ["c"]


# --- real runs ----------------------------------------------------------------------------------


@pytest.mark.kernel
def test_task1_sample_end_to_end(tmp_path: Path) -> None:
    """A real Task 1 sample through `grader check` (plain sandbox, real kernel), with the plot
    check made hidden: it is counted, never named, and the rest passes."""
    source = (ROOT / "rubrics" / "task1.yaml").read_text(encoding="utf-8")
    marked = source.replace("  - id: plot\n", "  - id: plot\n    visibility: hidden\n")
    assert marked != source
    (tmp_path / "task1_hidden.yaml").write_text(marked, encoding="utf-8")
    student = tmp_path / "student"
    shutil.copytree(SAMPLE, student)
    out = check([str(student), "-a", str(tmp_path / "task1_hidden.yaml"), "--sandbox", "plain", "--lang", "en"])
    assert out.exit_code == 0, out.output
    for line in ("Function of one variable", "Derivative", "Stop rule on the change of f",
                 "Hidden checks: 1 (another 2 points)", "your final grade may differ"):
        assert line in out.output
    assert "Plot of the function" not in out.output and "The plot (" not in out.output


@pytest.mark.kernel
def test_secret_check_kind_never_leaks_in_a_real_run(monkeypatch, tmp_path: Path) -> None:
    """A hidden check whose message is unique: a real run must neither run nor show it."""
    ran: list[str] = []

    def secret(ctx, params):  # type: ignore[no-untyped-def]
        ran.append("secret")
        return Outcome("ok", "MESSAGE-OF-THE-SECRET-CHECK")

    monkeypatch.setitem(CHECKS, "toy.answer", secret)  # a kind the rubric may name (the toy family's)
    (tmp_path / "r.yaml").write_text(RUBRIC.replace("kind: gd.plot", "kind: toy.answer"), encoding="utf-8")
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                                               "execution_count": None, "source": "def f(x):\n    return x**2\n"}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    out = check([str(notebook), "-a", str(tmp_path / "r.yaml"), "--sandbox", "plain", "--lang", "en"])
    assert out.exit_code in (0, 1), out.output
    assert ran == []
    assert "MESSAGE-OF-THE-SECRET-CHECK" not in out.output and "SECRET-TITLE" not in out.output
    assert "Hidden checks: 1" in out.output


def test_without_bubblewrap_auto_falls_back_and_says_so(monkeypatch, work: Path) -> None:
    import grader.sandbox.detect as detect

    monkeypatch.setattr(detect, "bwrap_unavailable_reason", lambda: "bwrap not found")
    seen: list[str] = []

    def grade(sub, rubric, box, out, lang, options, **kw):  # type: ignore[no-untyped-def]
        seen.append(box.description)
        return fake_grade({"func": 1.0, "steps": 1.0, "secret": 1.0})(sub, rubric, box, out, lang, options)

    monkeypatch.setattr(selfcheck, "grade_one", grade)
    out = check([str(work / "my_work"), "-a", str(work / "rubric.yaml"), "--lang", "en"])
    assert out.exit_code == 0, out.output
    assert "bwrap not found" in seen[0] and "without isolation" in out.output
