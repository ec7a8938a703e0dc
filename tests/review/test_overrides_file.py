"""The review page writes the overrides file in the formats `grader report` reads back."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.overrides import Override, load_overrides, write_overrides

ENTRIES = [Override("Иванов Иван", "answers", 2.5, 'Хорошо: но "мало"\nвторая строка', 0),
           Override("petrova", "conclusions", 3.0, "", 0),
           Override("Сидоров", "answers", 0.25, "a; b, c", 0)]


def _read(path: Path) -> list[tuple[str, str, float, str]]:
    return [(e.student, e.check, e.points, e.comment) for e in load_overrides(path)]


@pytest.mark.parametrize("name", ["overrides.yaml", "overrides.csv"])
def test_written_entries_read_back_the_same(tmp_path: Path, name: str) -> None:
    path = tmp_path / "grades" / name
    write_overrides(path, ENTRIES)
    assert _read(path) == [(e.student, e.check, e.points, e.comment) for e in ENTRIES]
    write_overrides(path, [])
    assert _read(path) == []


def test_a_semicolon_csv_keeps_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("student;check;points;comment\n", encoding="utf-8-sig")
    write_overrides(path, ENTRIES[:2])
    assert path.read_text(encoding="utf-8-sig").splitlines()[:2] == [
        "student;check;points;comment", 'Иванов Иван;answers;2,5;"Хорошо: но ""мало""']
    assert _read(path)[0][2] == 2.5


def test_yaml_is_plain_to_read_and_edit(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    write_overrides(path, ENTRIES[1:2])
    assert path.read_text(encoding="utf-8").splitlines()[1:] == [
        "- student: petrova", "  check: conclusions", "  points: 3"]
