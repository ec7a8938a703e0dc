"""Exports from canned results: Gradescope results.json, the Moodle grade import CSV, the CLI."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.report.exports import (
    GRADESCOPE_DIR,
    GRADESCOPE_FILE,
    MOODLE_FILE,
    gradescope_result,
    moodle_feedback,
    write_exports,
    write_moodle_csv,
)
from grader.results import BatchResult, CheckResult, SubmissionResult, write_json_atomic

GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "tests", "extra_data"}
GRADESCOPE_TEST = {"name", "score", "max_score", "status", "output", "visibility"}


def checks(*shares: float) -> tuple[CheckResult, ...]:
    specs = [("func", "Функция", 2.0, "visible"), ("secret", "SECRET-TITLE", 2.0, "hidden"),
             ("later", "После срока", 1.0, "after_due")]
    out = []
    for (cid, title, points, visibility), share in zip(specs, shares):
        status = "pass" if share == 1 else ("fail" if share == 0 else "partial")
        out.append(CheckResult(cid, title, status, points * share, points, f"MESSAGE-{cid.upper()}",  # type: ignore[arg-type]
                               visibility=visibility))
    return tuple(out)


PETROV = SubmissionResult("Петров Пётр", "ДЗ1.ipynb", "abc", "graded", 3.6, 5.0, 2.4, None, checks(1, 0.5, 1),
                          notes=("Handed in 2025-03-04 10:00 +0300: 1 day(s) late, penalty 10% (−0.4).",),
                          submitted_at="2025-03-04T10:00:00+03:00", late_days=1, penalty=0.4, moodle_id="10234")
GRIGORIEVA = SubmissionResult("Григорьева Дарья", "hw.ipynb", "def", "error", 0.0, 5.0, 0.5,
                              "The notebook could not be read", checks(0, 0, 0), moodle_id="10240")
SMIRNOVA = SubmissionResult("smirnova", "task1.ipynb", "ghi", "graded", 5.0, 5.0, 1.0, None, checks(1, 1, 1))
BATCH = BatchResult("t1", "2025-03-10T12:00:00+00:00", (PETROV, GRIGORIEVA, SMIRNOVA))
FOLDERS = {"Петров Пётр": "Петров_Пётр", "Григорьева Дарья": "Григорьева_Дарья", "smirnova": "smirnova"}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    write_json_atomic(tmp_path / "results.json", BATCH.to_json())
    (tmp_path / ".folders.json").write_text(json.dumps(FOLDERS, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_gradescope_results_json_per_student(out_dir: Path) -> None:
    report = write_exports(BATCH, out_dir, ["gradescope"], lang="en")
    assert len(report.paths) == 3
    data = json.loads((out_dir / GRADESCOPE_DIR / "Петров_Пётр" / GRADESCOPE_FILE).read_text(encoding="utf-8"))
    assert set(data) == GRADESCOPE_TOP
    assert data["score"] == 3.6  # net of the late penalty; Gradescope takes the top-level score
    assert "1 day(s) late" in data["output"]
    assert all(set(t) >= GRADESCOPE_TEST for t in data["tests"])
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"]) for t in data["tests"]] == [
        ("Функция", 2.0, 2.0, "passed", "visible"),
        ("SECRET-TITLE", 1.0, 2.0, "failed", "hidden"),  # Gradescope itself hides it from students
        ("После срока", 1.0, 1.0, "passed", "after_due_date"),
    ]
    assert data["tests"][0]["output"] == "MESSAGE-FUNC"
    assert data["extra_data"]["late_days"] == 1 and data["extra_data"]["penalty"] == 0.4
    errored = gradescope_result(GRIGORIEVA, "en")
    assert errored["score"] == 0.0 and "could not be read" in errored["output"]


@pytest.mark.parametrize(("header_lang", "header", "ident"), [
    ("en", ["Identifier", "Full name", "Grade", "Last modified (grade)", "Feedback comments"], "Participant 10234"),
    ("ru", ["Идентификатор", "Полное имя", "Оценка", "Последнее изменение (оценка)", "Отзыв в виде комментария"],
     "Участник10234"),
])
def test_moodle_csv_columns_and_identifiers(tmp_path: Path, header_lang: str, header: list[str], ident: str) -> None:
    report = write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang="ru", header_lang=header_lang)
    rows = read_csv(tmp_path / MOODLE_FILE)
    assert rows[0] == header
    assert [r[0] for r in rows[1:]] == [ident, ident.replace("10234", "10240")]
    petrov = rows[1]
    assert petrov[1] == "Петров Пётр" and petrov[2] == "3.6" and petrov[3] == BATCH.graded_at
    assert rows[2][2] == "0"
    assert any("smirnova" in w for w in report.warnings)  # not from Moodle: left out, and said so


def test_moodle_feedback_keeps_hidden_checks_out() -> None:
    feedback = moodle_feedback(PETROV, "en")
    assert "SECRET-TITLE" not in feedback and "MESSAGE-SECRET" not in feedback
    assert "Hidden checks: 1 of 2 points." in feedback
    assert "Функция: 2/2" in feedback and "MESSAGE-FUNC" in feedback and "После срока" in feedback
    assert "Total: 3.6 of 5 points." in feedback and "1 day(s) late" in feedback
    assert "<script" not in moodle_feedback(
        SubmissionResult("x", "x", "", "graded", 0, 1, 0, None,
                         (CheckResult("a", "<script>alert(1)</script>", "fail", 0, 1, "<b>"),)), "en")


WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    "Participant 10234,Петров Пётр,p@x,Submitted,,5.00,Yes,\"Tuesday, 4 March 2025, 10:00 AM\",-,\n"
    "Participant 10250,Нет Работы,n@x,No submission,,5.00,Yes,-,-,\n"
)


def test_filling_the_teachers_own_worksheet(tmp_path: Path) -> None:
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text("\ufeff" + WORKSHEET, encoding="utf-8")
    report = write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang="en", worksheet=sheet)
    before, after = read_csv(sheet), read_csv(tmp_path / MOODLE_FILE)
    before[0][0] = before[0][0].lstrip("\ufeff")
    assert after[0] == before[0] and len(after) == len(before)
    petrov = dict(zip(after[0], after[1]))
    assert petrov["Grade"] == "3.6" and petrov["Last modified (grade)"] == BATCH.graded_at
    assert "MESSAGE-FUNC" in petrov["Feedback comments"] and "SECRET" not in petrov["Feedback comments"]
    assert petrov["Email address"] == "p@x"  # the rest of the row is the teacher's
    assert after[2] == before[2]  # a student we did not grade stays as it was
    assert any("Григорьева Дарья" in w for w in report.warnings)  # graded but not in the worksheet


def test_export_command_writes_every_format(out_dir: Path) -> None:
    rubric = out_dir / "rubric.yaml"
    rubric.write_text("assignment: t1\ntitle: T\nlang: en\nchecks:\n"
                      "  - {id: func, title: F, points: 2, kind: gd.function}\n"
                      "  - {id: secret, title: S, points: 2, kind: gd.plot, visibility: hidden}\n"
                      "  - {id: later, title: L, points: 1, kind: gd.steps}\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["export", str(out_dir), "-a", str(rubric), "--to", "all", "--moodle-lang", "en"])
    assert out.exit_code == 0, out.output
    assert (out_dir / "gradebook.csv").is_file()
    gradebook = read_csv_bom(out_dir / "gradebook.csv")
    assert gradebook[0] == ["student", "submission", "status", "score", "max_score", "func", "secret", "later", "error"]
    assert (out_dir / MOODLE_FILE).is_file() and read_csv(out_dir / MOODLE_FILE)[0][0] == "Identifier"
    assert len(list((out_dir / GRADESCOPE_DIR).glob(f"*/{GRADESCOPE_FILE}"))) == 3
    assert "smirnova" in out.output  # the warning about the student without a Moodle number
    only = CliRunner().invoke(main, ["export", str(out_dir), "-a", str(rubric), "--to", "gradescope"])
    assert only.exit_code == 0 and MOODLE_FILE not in only.output


def read_csv_bom(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
