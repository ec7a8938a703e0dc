"""Small texts of the reports: dates, the student's file name, cell numbers, the bonus."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.report.html import render_student_report
from grader.report.html import bonus_points, format_when, own_name
from grader.results import CellError, CheckResult, SubmissionResult


@pytest.mark.parametrize(("iso", "lang", "shown"), [
    ("2025-03-10T12:05:43+00:00", "ru", "10 марта 2025, 12:05 UTC"),
    ("2025-03-10T12:05:43+00:00", "en", "10 March 2025, 12:05 UTC"),
    ("2025-03-04T10:00:00+03:00", "ru", "4 марта 2025, 10:00 UTC+03:00"),
    ("2025-03-04T10:00:00-05:30", "en", "4 March 2025, 10:00 UTC−05:30"),
    ("2024-10-01T12:00:00", "ru", "1 октября 2024, 12:00"),
    ("not a date", "en", "not a date"),
])
def test_dates_are_readable(iso: str, lang: str, shown: str) -> None:
    assert format_when(iso, lang) == shown


def test_only_the_students_own_file_name() -> None:
    assert own_name("/home/teacher/moodle/Иванов_123_assignsubmission_file_/ДЗ1.ipynb") == "ДЗ1.ipynb"
    assert own_name("work/ДЗ1.ipynb") == "work/ДЗ1.ipynb"  # a path inside the student's own folder


def result(score: float, extra: float, **kw: object) -> SubmissionResult:
    checks = (CheckResult("main", "Main", "pass", score, 8.0, "ok"),
              CheckResult("extra", "Extra", "pass" if extra else "fail", extra, 2.0, "ok"))
    return SubmissionResult("Иванов", "ДЗ1.ipynb", "", "graded", score + extra, 8.0, 1.0, None, checks, **kw)  # type: ignore[arg-type]


def test_bonus_points_with_and_without_the_rubric() -> None:
    assert bonus_points(result(6, 2), {"extra"}) == 2  # 8 / 8, two of them bonus
    assert bonus_points(result(8, 2), ()) == 2  # 10 / 8 without the rubric: what is above the maximum
    assert bonus_points(result(6, 2), ()) == 0


def test_student_report_explains_the_bonus_and_numbers_cells_as_the_student_does(tmp_path: Path) -> None:
    tb = "NameError   Traceback (most recent call last)\nCell In[9], line 5\n----> 5 v = gama\nNameError: gama"
    graded = result(8, 2, cell_errors=(CellError(4, "NameError", "name 'gama' is not defined", tb),))
    html = render_student_report(graded, tmp_path, title="T", lang="ru", bonus_ids=("extra",)).read_text(encoding="utf-8")
    assert "10 / 8" in html and "В том числе бонус: 2. Бонусные баллы идут сверх максимума 8" in html
    assert "Ячейка 4: NameError" in html and "Cell 4, line 5" in html and "In[9]" not in html
    plain = render_student_report(result(7, 0), tmp_path, title="T", lang="en", bonus_ids=("extra",))
    assert "Bonus points included" not in plain.read_text(encoding="utf-8")
