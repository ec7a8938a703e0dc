"""moodle_grades.csv read the way Moodle's own importer reads it.

``moodle_import`` follows mod/assign/feedback/offline/importgradeslib.php (``init``: columns
found by exact title; ``next``: the participant number is what follows
``get_string('hiddenuser', 'assign')``, cut by PHP's byte length) and the skip rules of
mod/assign/feedback/offline/locallib.php ``process_import_grades`` (no grade, a negative grade
or one above the assignment's maximum is skipped without a word). The titles are Moodle's own
strings, listed with their sources at ``grader.report.exports.MOODLE_HEADERS``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from grader.report.exports import MOODLE_FILE, BonusPolicy, write_moodle_csv
from grader.results import BatchResult, CheckResult, SubmissionResult

# get_string(...) in each language pack, and the pack's decimal separator (langconfig decsep)
MOODLE_STRINGS = {
    "en": {"recordid": "Identifier", "gradenoun": "Grade", "lastmodifiedgrade": "Last modified (grade)",
           "hiddenuser": "Participant ", "comments": "Feedback comments", "decsep": "."},
    "ru": {"recordid": "Идентификатор", "gradenoun": "Оценка", "lastmodifiedgrade": "Последнее изменение (оценка)",
           "hiddenuser": "Участник", "comments": "Отзыв в виде комментария", "decsep": ","},
}


@dataclass(frozen=True)
class Imported:
    grades: dict[str, float]  # participant number -> grade Moodle stored
    feedback: dict[str, str]
    skipped: list[str]


def moodle_import(text: str, lang: str, max_grade: float) -> Imported | None:
    """None when Moodle refuses the file (a required column is missing)."""
    strings = MOODLE_STRINGS[lang]
    rows = list(csv.reader(io.StringIO(text)))
    columns = rows[0]
    index = {name: columns.index(strings[name]) if strings[name] in columns else -1
             for name in ("recordid", "gradenoun", "lastmodifiedgrade", "comments")}
    if min(index["recordid"], index["gradenoun"], index["lastmodifiedgrade"]) < 0:
        return None
    grades: dict[str, float] = {}
    feedback: dict[str, str] = {}
    skipped: list[str] = []
    prefix = len(strings["hiddenuser"].encode("utf-8"))  # PHP strlen counts bytes
    for record in rows[1:]:
        number = record[index["recordid"]].encode("utf-8")[prefix:].decode("utf-8", "replace")
        assert datetime.fromisoformat(record[index["lastmodifiedgrade"]])  # strtotime() must read it
        raw = record[index["gradenoun"]].strip().replace(strings["decsep"], ".")
        try:
            grade = float(raw)
        except ValueError:
            grade = None
        if grade is None or grade < 0 or grade > max_grade:
            skipped.append(number)
        else:
            grades[number] = grade
        if index["comments"] > 0:  # `!empty($details['index'])`
            feedback[number] = record[index["comments"]]
    return Imported(grades, feedback, skipped)


def result(name: str, number: str, score: float, bonus: float = 0.0) -> SubmissionResult:
    checks = (CheckResult("main", "Main", "pass" if score >= 8 else "partial", min(score, 8.0), 8.0, "ok"),
              CheckResult("extra", "Bonus", "pass" if bonus else "fail", bonus, 2.0, "bonus"))
    return SubmissionResult(name, "hw.ipynb", "", "graded", score + bonus, 8.0, 1.0, None, checks,
                            moodle_id=number)


BATCH = BatchResult("t1", "2025-03-10T12:00:00+00:00", (
    result("Петров Пётр", "10234", 8.0, bonus=2.0), result("Иванова Анна", "10235", 6.5),
    result("Сидоров Олег", "10236", 7.75, bonus=1.0)))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_moodle_finds_every_column_and_imports_every_row(tmp_path: Path, lang: str) -> None:
    write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang=lang, header_lang=lang)
    imported = moodle_import((tmp_path / MOODLE_FILE).read_text(encoding="utf-8"), lang, max_grade=8)
    assert imported is not None, "Moodle would refuse the file"
    assert imported.grades == {"10234": 8.0, "10235": 6.5, "10236": 8.0} and imported.skipped == []
    assert set(imported.feedback) == {"10234", "10235", "10236"}  # the comments column is found
    assert all(imported.feedback.values())


def test_cap_writes_the_maximum_and_says_so(tmp_path: Path) -> None:
    report = write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang="en", bonus=BonusPolicy("cap", top_score=10))
    imported = moodle_import((tmp_path / MOODLE_FILE).read_text(encoding="utf-8"), "en", max_grade=8)
    assert imported is not None and imported.skipped == [] and imported.grades["10234"] == 8.0
    assert "Moodle records 8" in imported.feedback["10234"] and "Total: 10 of 8 points." in imported.feedback["10234"]
    assert "Moodle records" not in imported.feedback["10235"]
    (line,) = report.warnings
    assert "moodle.bonus: cap" in line and "Петров Пётр, Сидоров Олег" in line and "Иванова" not in line


def test_above_max_writes_the_whole_score_and_names_the_maximum_to_set(tmp_path: Path) -> None:
    report = write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang="ru",
                              bonus=BonusPolicy("above_max", top_score=10))
    text = (tmp_path / MOODLE_FILE).read_text(encoding="utf-8")
    as_is = moodle_import(text, "ru", max_grade=8)
    assert as_is is not None and sorted(as_is.skipped) == ["10234", "10236"]  # what Moodle would do
    (line,) = report.warnings
    assert "moodle.bonus: above_max" in line and "не ниже 10" in line and "Петров Пётр, Сидоров Олег" in line
    raised = moodle_import(text, "ru", max_grade=10)  # after the teacher follows the line
    assert raised is not None and raised.skipped == [] and raised.grades["10234"] == 10.0
    assert raised.grades["10236"] == 8.75


def test_without_bonus_points_nothing_is_said(tmp_path: Path) -> None:
    plain = BatchResult("t1", BATCH.graded_at, (result("Иванова Анна", "10235", 6.5),))
    for mode in ("cap", "above_max"):
        report = write_moodle_csv(plain, tmp_path / MOODLE_FILE, lang="en", bonus=BonusPolicy(mode, top_score=8))  # type: ignore[arg-type]
        assert report.warnings == ()


def test_the_worksheets_own_maximum_caps(tmp_path: Path) -> None:
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text("Идентификатор,Полное имя,Оценка,Максимальная оценка,Последнее изменение (оценка),"
                     "Отзыв в виде комментария\n"
                     "Участник10234,Петров Пётр,,\"9,00\",-,\n"
                     "Участник10235,Иванова Анна,,\"9,00\",-,\n", encoding="utf-8")
    write_moodle_csv(BATCH, tmp_path / MOODLE_FILE, lang="ru", worksheet=sheet,
                     bonus=BonusPolicy("cap", top_score=10))
    imported = moodle_import((tmp_path / MOODLE_FILE).read_text(encoding="utf-8"), "ru", max_grade=9)
    assert imported is not None and imported.grades == {"10234": 9.0, "10235": 6.5}
