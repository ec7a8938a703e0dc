"""Shared assertions of the end-to-end sample tests: a graded batch against an EXPECTED.yaml."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult, SubmissionResult
from grader.rubric import load_rubric


def load_expected(folder: Path) -> dict[str, Any]:
    """A set's EXPECTED.yaml: key -> {status, checks: {check id: share of its points}}."""
    return yaml.safe_load((folder / "EXPECTED.yaml").read_text(encoding="utf-8"))


def grade_set(folder: Path, assignment: str, out: Path) -> BatchResult:
    """The whole folder graded with the named rubric, two workers, English messages."""
    return grade_batch(folder, load_rubric(assignment), GradeOptions(out_dir=out, workers=2, lang="en"))


def result_named(batch: BatchResult, name: str) -> SubmissionResult:
    for r in batch.students:
        if r.student == name:
            return r
    raise AssertionError(f"{name} not graded; got {[r.student for r in batch.students]}")


def result_for_key(batch: BatchResult, key: str) -> SubmissionResult:
    """The result for an EXPECTED.yaml key; a Moodle folder ("Name_12345_assignsubmission_file_")
    is graded under the student's name."""
    for r in batch.students:
        if key == r.student or key.split("_")[0] == r.student:
            return r
    raise AssertionError(f"{key} not graded; got {[r.student for r in batch.students]}")


def assert_expected_grades(result: SubmissionResult, expected: dict[str, Any], label: str) -> None:
    """Status as expected, and each listed check's share of its points (within 0.01)."""
    assert result.status == expected["status"], result.error
    got = {c.id: (c.points / c.max_points if c.max_points else 0.0) for c in result.checks}
    for check_id, share in expected["checks"].items():
        msg = next(c.message for c in result.checks if c.id == check_id)
        assert got[check_id] == pytest.approx(share, abs=0.01), f"{label}/{check_id}: {msg}"


def assert_graded_as_expected(batch: BatchResult, expected: dict[str, Any], key: str) -> None:
    """The student under `key` got the expected grades, and every check says something."""
    result = result_for_key(batch, key)
    assert_expected_grades(result, expected[key], key)
    assert all(check.message for check in result.checks)
