"""Instructor overrides: reading (YAML, CSV), validation with file:line, merging, `grader report`."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.artifacts import CheckContext
from grader.cli import main
from grader.errors import OverridesError
from grader.overrides import (
    apply_overrides,
    awaiting_review,
    check_overrides,
    find_overrides_file,
    load_overrides,
    merge_overrides,
)
from grader.results import BatchResult, CheckResult, SubmissionResult, write_json_atomic
from grader_inside.notebook import Cell

RUBRIC = """\
assignment: demo2
title: {ru: "Демо", en: "Demo"}
checks:
  - id: augmentation
    kind: notebook.augmentation
    title: {ru: "Аугментация", en: "Augmentation"}
    points: 2
    credit: {ok: 1.0, unused: 0.25, missing: 0.0}
  - id: answers_quality
    kind: manual
    title: {ru: "Качество ответов", en: "Quality of the answers"}
    points: 3
    params: {look_for: ["вывод"]}
"""


def _student(name: str, aug_points: float, score: float | None = None) -> SubmissionResult:
    checks = (
        CheckResult("augmentation", "Augmentation", "pass" if aug_points == 2 else "partial", aug_points, 2.0,
                    "auto says so"),
        CheckResult("answers_quality", "Quality of the answers", "manual", 0.0, 3.0, "Awaiting review."),
    )
    return SubmissionResult(name, "hw2.ipynb", "abc", "graded", aug_points if score is None else score, 5.0,
                            1.0, None, checks)


BATCH = BatchResult("demo2", "2026-01-01T00:00:00+00:00",
                    (_student("Иванов Иван", 2.0), _student("Петрова Алёна", 0.5)))


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


# -- reading ----------------------------------------------------------------------------------


def test_yaml_entries_are_read_with_their_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.yaml", "# grades\n- student: Иванов Иван\n  check: answers_quality\n  points: 2.5\n"
                  "  comment: Хорошо\n- {student: Петрова Алёна, check: augmentation, points: 1}\n")
    entries = load_overrides(path)
    assert [(e.student, e.check, e.points, e.comment, e.line) for e in entries] == [
        ("Иванов Иван", "answers_quality", 2.5, "Хорошо", 2), ("Петрова Алёна", "augmentation", 1.0, "", 6)]


def test_empty_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(_write(tmp_path, "o.yaml", "# nothing yet\n")) == []


def test_csv_from_russian_excel_semicolons_decimal_comma_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "Student;Check_ID;Points;Comment\nИванов Иван;answers_quality;2,5;"
                  "\"Ответы; в целом верные\"\n\nПетрова Алёна;augmentation;0;\n", encoding="utf-8-sig")
    entries = load_overrides(path)
    assert [(e.student, e.check, e.points, e.comment, e.line) for e in entries] == [
        ("Иванов Иван", "answers_quality", 2.5, "Ответы; в целом верные", 2),
        ("Петрова Алёна", "augmentation", 0.0, "", 4)]


def test_every_yaml_problem_is_listed_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.yaml", "- student: A\n  check: x\n  points: -1\n"
                  "- student: B\n  check: y\n  pionts: 2\n"
                  "- just a string\n")
    with pytest.raises(OverridesError) as info:
        load_overrides(path)
    text = str(info.value)
    assert f"{path}:3: points: Input should be greater than or equal to 0" in text
    assert f"{path}:6: unknown column/key 'pionts'" in text
    assert f"{path}:4: 'points' is missing" in text
    assert f"{path}:7: each entry needs student, check, points" in text
    assert "Traceback" not in text


def test_yaml_syntax_and_shape_errors(tmp_path: Path) -> None:
    with pytest.raises(OverridesError, match=r"o\.yaml:3: YAML syntax error"):
        load_overrides(_write(tmp_path, "o.yaml", "- student: A\n  check: [x\n"))
    with pytest.raises(OverridesError, match=r"p\.yaml:1: the file must be a list"):
        load_overrides(_write(tmp_path, "p.yaml", "student: A\ncheck: x\n"))


def test_csv_problems(tmp_path: Path) -> None:
    with pytest.raises(OverridesError, match=r"o\.csv:1: the first line must name the columns"):
        load_overrides(_write(tmp_path, "o.csv", "Иванов,answers_quality,2\n"))
    with pytest.raises(OverridesError) as info:
        load_overrides(_write(tmp_path, "p.csv", "student,check,points,comment\nA,x,abc,\nB,y,1,ok, but long\n"))
    assert "p.csv:2: points: Input should be a valid number" in str(info.value)
    assert "p.csv:3: more values than columns" in str(info.value)


def test_default_file_is_found_under_grades(tmp_path: Path) -> None:
    assert find_overrides_file(tmp_path) is None
    (tmp_path / "grades").mkdir()
    path = _write(tmp_path / "grades", "overrides.csv", "student,check,points\n")
    assert find_overrides_file(tmp_path / "nowhere", tmp_path) == path


# -- validating against the batch ---------------------------------------------------------------


def test_unknown_student_check_excess_points_and_duplicates(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.yaml", "- {student: Сидоров, check: answers_quality, points: 1}\n"
                  "- {student: Иванов Иван, check: conclusions, points: 1}\n"
                  "- {student: Иванов Иван, check: answers_quality, points: 4}\n"
                  "- {student: Петрова Алёна, check: augmentation, points: 1}\n"
                  "- {student: петрова алена, check: augmentation, points: 2}\n")
    with pytest.raises(OverridesError) as info:
        check_overrides(load_overrides(path), BATCH, path)
    lines = str(info.value).splitlines()
    assert lines[0].endswith("is invalid (4 problems):")
    assert f"{path}:1: student 'Сидоров' is not in this batch" in lines[1]
    assert f"{path}:2: check 'conclusions' is not in the results (checks: augmentation, answers_quality)" == lines[2]
    assert f"{path}:3: 4 points for 'answers_quality' exceed its maximum of 3" == lines[3]
    assert f"{path}:5: a second entry for Петрова Алёна / augmentation (the first is on line 4)" == lines[4]


def test_students_are_matched_by_report_folder_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.yaml", "- {student: ivanov_ivan, check: answers_quality, points: 3}\n")
    found = check_overrides(load_overrides(path), BATCH, path, folders={"Иванов Иван": "ivanov_ivan"})
    assert list(found) == [("Иванов Иван", "answers_quality")]


# -- merging ------------------------------------------------------------------------------------


def _merged(tmp_path: Path, text: str, batch: BatchResult = BATCH) -> BatchResult:
    return merge_overrides(batch, _write(tmp_path, "o.yaml", text), "en")[0]


def _check(batch: BatchResult, student: str, check: str) -> CheckResult:
    result = next(r for r in batch.students if r.student == student)
    return next(c for c in result.checks if c.id == check)


def test_manual_grades_and_an_overruled_automatic_check(tmp_path: Path) -> None:
    assert awaiting_review(BATCH) == 2
    merged = _merged(tmp_path, "- {student: Иванов Иван, check: answers_quality, points: 2, comment: Неплохо}\n"
                     "- {student: Петрова Алёна, check: answers_quality, points: 3}\n"
                     "- {student: Петрова Алёна, check: augmentation, points: 2, comment: Аугментация есть в классе}\n")
    ivanov = _check(merged, "Иванов Иван", "answers_quality")
    assert (ivanov.status, ivanov.points, ivanov.message) == ("partial", 2.0, "Неплохо")
    assert ivanov.review is not None and ivanov.review.auto_status == "manual"
    petrova = next(r for r in merged.students if r.student == "Петрова Алёна")
    assert petrova.score == pytest.approx(5.0)  # 0.5 auto -> 2 overruled, + 3 manual
    aug = _check(merged, "Петрова Алёна", "augmentation")
    assert aug.status == "pass" and aug.review is not None
    assert (aug.review.auto_points, aug.review.auto_status, aug.review.auto_message) == (0.5, "partial", "auto says so")
    assert _check(merged, "Петрова Алёна", "answers_quality").message == "Instructor's grade."
    assert next(r for r in merged.students if r.student == "Иванов Иван").score == pytest.approx(4.0)
    assert awaiting_review(merged) == 0
    # the JSON round trip keeps the review
    again = BatchResult.from_json(json.loads(json.dumps(merged.to_json())))
    assert again == merged


def test_merging_again_starts_from_the_automatic_results(tmp_path: Path) -> None:
    first = _merged(tmp_path, "- {student: Петрова Алёна, check: augmentation, points: 2}\n"
                    "- {student: Иванов Иван, check: answers_quality, points: 1}\n")
    second = _merged(tmp_path, "- {student: Иванов Иван, check: answers_quality, points: 3}\n", batch=first)
    aug = _check(second, "Петрова Алёна", "augmentation")  # entry removed: back to the grader's result
    assert (aug.points, aug.status, aug.review, aug.message) == (0.5, "partial", None, "auto says so")
    assert _check(second, "Иванов Иван", "answers_quality").points == 3.0
    assert [r.score for r in second.students] == [5.0, 0.5]
    assert apply_overrides(second, {}, "en") == BATCH


def test_a_late_penalty_share_carries_over(tmp_path: Path) -> None:
    late = BatchResult("demo2", "t", (_student("Иванов Иван", 2.0, score=1.6),))  # 20 % off
    merged = _merged(tmp_path, "- {student: Иванов Иван, check: answers_quality, points: 3}\n", batch=late)
    assert merged.students[0].score == pytest.approx(4.0)  # (2 + 3) * 0.8


# -- the grading pipeline and the report ----------------------------------------------------------


def test_a_manual_check_is_scored_as_awaiting_review(tmp_path: Path) -> None:
    from grader.grading import _score
    from grader.rubric import load_rubric
    from grader.run.runner import RunOutcome

    rubric = load_rubric(_write(tmp_path, "demo2.yaml", RUBRIC))
    ctx = CheckContext("ru", [Cell("markdown", "## Выводы\nCNN лучше.", 1)], (), {}, [], tmp_path)
    run = RunOutcome("ok", "", (), {}, (), tmp_path, (), "test", 0.0)
    result = _score(rubric.check("answers_quality"), ctx, run, "ru")[0]
    assert (result.status, result.points, result.max_points) == ("manual", 0.0, 3.0)
    assert "Ждёт проверки" in result.message and "markdown-ячейка 1" in result.message
    assert _score(rubric.check("augmentation"), ctx, run, "ru")[0].status == "fail"


def test_grader_report_merges_the_overrides_file(tmp_path: Path) -> None:
    rubric = _write(tmp_path, "demo2.yaml", RUBRIC)
    out = tmp_path / "out"
    write_json_atomic(out / "results.json", BATCH.to_json())
    runner = CliRunner()
    before = runner.invoke(main, ["report", str(out), "-a", str(rubric), "--lang", "en"])
    assert before.exit_code == 0, before.output
    assert "Checks awaiting review: 2 " in before.output
    page = (out / "Иванов Иван" / "report.html").read_text(encoding="utf-8")
    assert "awaiting review" in page
    overrides = _write(tmp_path, "grades.yaml",
                       "- {student: Иванов Иван, check: answers_quality, points: 2, comment: Мало примеров}\n"
                       "- {student: Петрова Алёна, check: augmentation, points: 1.5, comment: Частично}\n")
    after = runner.invoke(main, ["report", str(out), "-a", str(rubric), "--lang", "en", "--overrides", str(overrides)])
    assert after.exit_code == 0, after.output
    assert f"Overrides: {overrides} (2 applied)" in after.output and "Checks awaiting review: 1 " in after.output
    page = (out / "Иванов Иван" / "report.html").read_text(encoding="utf-8")
    assert "Мало примеров" in page and "instructor&#39;s grade" in page
    petrova = (out / "Петрова Алёна" / "report.html").read_text(encoding="utf-8")
    assert "Automatic check: 0.5 of 2 — auto says so" in petrova
    stored = BatchResult.from_json(json.loads((out / "results.json").read_text(encoding="utf-8")))
    assert [r.score for r in stored.students] == [4.0, 1.5]
    with (out / "gradebook.csv").open(encoding="utf-8-sig") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert rows["Иванов Иван"]["answers_quality"] == "2" and rows["Петрова Алёна"]["answers_quality"] == ""
    assert "Awaiting the instructor" in (out / "index.html").read_text(encoding="utf-8")


def test_grader_report_with_a_bad_overrides_file_explains_and_changes_nothing(tmp_path: Path) -> None:
    rubric = _write(tmp_path, "demo2.yaml", RUBRIC)
    out = tmp_path / "out"
    write_json_atomic(out / "results.json", BATCH.to_json())
    before = (out / "results.json").read_text(encoding="utf-8")
    bad = _write(tmp_path, "bad.yaml", "- {student: Никто, check: answers_quality, points: 1}\n")
    result = CliRunner().invoke(main, ["report", str(out), "-a", str(rubric), "--overrides", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1: student 'Никто' is not in this batch" in result.output
    assert "Traceback" not in result.output
    assert (out / "results.json").read_text(encoding="utf-8") == before
