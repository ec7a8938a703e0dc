"""Grade the Task 1 generalisation set (tests/fixtures/task1_hidden: written the way real
students write, not tuned to the shipped samples) and assert every check's grade."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import load_rubric
from expected_grades import assert_expected_grades, result_for_key

HIDDEN = Path(__file__).resolve().parents[1] / "fixtures" / "task1_hidden"
EXPECTED = yaml.safe_load((HIDDEN / "EXPECTED.yaml").read_text(encoding="utf-8"))

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    out = tmp_path_factory.mktemp("task1_hidden")
    return grade_batch(HIDDEN, load_rubric("task1"), GradeOptions(out_dir=out, workers=2, lang="en"))


def test_every_student_is_graded(graded: BatchResult) -> None:
    assert len(graded.students) == len(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_hidden_grade(graded: BatchResult, key: str) -> None:
    result = result_for_key(graded, key)
    assert_expected_grades(result, EXPECTED[key], key)
    assert all(check.message for check in result.checks)
