"""Grade the Task 1 generalisation set (tests/fixtures/task1_hidden: written the way real
students write, not tuned to the shipped samples) and assert every check's grade."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.results import BatchResult
from expected_grades import assert_graded_as_expected, grade_set, load_expected

HIDDEN = Path(__file__).resolve().parents[1] / "fixtures" / "task1_hidden"
EXPECTED = load_expected(HIDDEN)

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    out = tmp_path_factory.mktemp("task1_hidden")
    return grade_set(HIDDEN, "task1", out)


def test_every_student_is_graded(graded: BatchResult) -> None:
    assert len(graded.students) == len(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_hidden_grade(graded: BatchResult, key: str) -> None:
    assert_graded_as_expected(graded, EXPECTED, key)
