"""`grader check -a hw3` on a student's machine: no course data, no hidden split, no weights. The
checks that score trained models on the instructor's data are named once as not checked here
(with the reason), never shown as grader errors; the rest run; the `{data.afhq}` / `{device}`
parameters only grading fills in never reach the student's notebook. Canned grading, no kernel."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import selfcheck
from grader.cli import main
from grader.results import CheckResult, SubmissionResult
from grader.rubric import load_rubric
from grader.rubric.schema import Rubric, text


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    folder = tmp_path / "my_hw3"
    folder.mkdir()
    (folder / "hw3.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                      encoding="utf-8")
    return folder


def test_data_checks_named_once_and_not_run(monkeypatch: pytest.MonkeyPatch, notebook: Path) -> None:
    seen: list[Rubric] = []

    def grade(sub, rubric: Rubric, box, out, lang, options, **kw) -> SubmissionResult:  # type: ignore[no-untyped-def]
        seen.append(rubric)
        checks = tuple(CheckResult(s.id, text(s.title, lang), "pass", s.points, s.points, f"MESSAGE-{s.id}")
                       for s in rubric.checks if s.kind != "manual")
        return SubmissionResult(sub.student, "hw3.ipynb", "", "graded", sum(c.points for c in checks), 15.0,
                                0.1, None, checks)

    monkeypatch.setattr(selfcheck, "grade_one", grade)
    done = CliRunner().invoke(main, ["check", str(notebook), "-a", "hw3", "--lang", "en", "--sandbox", "plain"])
    assert done.exit_code == 0, done.output
    (ran,) = seen
    kinds = {c.kind for c in ran.checks}
    assert not any(k.startswith(("models.", "transfer.")) for k in kinds)
    assert {"notebook.augmentation", "notebook.curves", "notebook.save_load", "notebook.answers"} <= kinds
    # only grading fills these in; the literal "{data.afhq}" / "{device}" must not reach the notebook
    assert "DATA_DIR" not in ran.parameters and "DEVICE" not in ran.parameters and ran.parameters["EPOCHS"] == 3
    out = " ".join(done.output.split())
    rubric = load_rubric("hw3")
    data_titles = [text(c.title, "en") for c in rubric.checks if c.kind.startswith(("models.", "transfer."))]
    assert out.count("Not checked here") == 1 and f"Not checked here ({len(data_titles)}, 9 points)" in out
    assert all(title in out for title in data_titles)
    assert "course data (afhq)" in out and "not a mistake in your work" in out
    assert "not configured" not in out and "Traceback" not in out
    assert "MESSAGE-accuracy" not in out and "MESSAGE-answers" in out


def test_russian_line_and_a_rubric_of_data_checks_only(monkeypatch: pytest.MonkeyPatch, notebook: Path,
                                                       tmp_path: Path) -> None:
    def grade(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("nothing should run: every visible check needs the course data")

    monkeypatch.setattr(selfcheck, "grade_one", grade)
    rubric = load_rubric("hw3")
    only = rubric.model_copy(update={"checks": [c for c in rubric.checks if c.kind.startswith("models.")]})
    result = selfcheck.run_self_check(notebook, only, lang="ru")
    assert result.result is None and len(result.not_run) == 2 and result.passed
    shown = " ".join(selfcheck.render(result, "ru", colour=False).split())
    assert "Здесь не проверялось (2, 4 балла): Обученная модель в ноутбуке; Точность на скрытом тесте" in shown
    assert "данных курса (afhq)" in shown
    assert "нет открытых проверок" not in shown  # there are some; they need the data
