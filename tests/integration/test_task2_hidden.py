"""Grade the Task 2 generalisation set (tests/fixtures/task2_hidden: notebooks written the way
real students write, not tuned to the shipped samples) on the demo data and assert every check's
grade against EXPECTED.yaml (instructor judgement, written before grading)."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from expected_grades import assert_graded_as_expected, load_expected, result_for_key
from requires import installed
from task2_support import demo_rubric

HIDDEN = Path(__file__).resolve().parents[1] / "fixtures" / "task2_hidden"
EXPECTED = load_expected(HIDDEN)

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.torch, pytest.mark.timeout(3600),
              installed("torch", "torchvision", "keras")]  # the `models` extra: what the notebooks import


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    out = tmp_path_factory.mktemp("task2_hidden")
    return grade_batch(HIDDEN, demo_rubric(), GradeOptions(out_dir=out, workers=2, lang="en"))


def test_every_student_is_graded(graded: BatchResult) -> None:
    assert len(graded.students) == len(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_hidden_grade(graded: BatchResult, key: str) -> None:
    assert_graded_as_expected(graded, EXPECTED, key)


def test_old_library_idioms_run_and_are_noted(graded: BatchResult) -> None:
    """What the shims did is said in the student's report, not hidden."""
    notes = {key: " ".join(result_for_key(graded, key).notes) for key in
             ("morozov_kirill", "egorov_timur", "belousova_ksenia")}
    assert "ImageDataGenerator" in notes["morozov_kirill"] and "fit_generator" in notes["morozov_kirill"]
    assert "weights_only=False" in notes["egorov_timur"]
    assert "TensorBoard" in notes["belousova_ksenia"] and "'mps'" in notes["belousova_ksenia"]
    assert not result_for_key(graded, "morozov_kirill").cell_errors
    tfds = result_for_key(graded, "sergeeva_alina")
    assert not tfds.cell_errors and "tensorflow_datasets" in " ".join(tfds.notes)
