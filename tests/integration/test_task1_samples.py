"""Grade the shipped Task 1 samples end to end (real kernels in the sandbox) and assert the
grades a careful instructor gives them (submissions/task1/EXPECTED.yaml), check by check."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import load_rubric
from expected_grades import assert_expected_grades, load_expected

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "submissions" / "task1"
EXPECTED = load_expected(SAMPLES)

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchResult, dict[str, str], Path]:
    out = tmp_path_factory.mktemp("task1")
    rubric = load_rubric("task1")
    batch = grade_batch(SAMPLES, rubric, GradeOptions(out_dir=out, workers=2, lang="en"))
    folders = json.loads((out / ".folders.json").read_text(encoding="utf-8"))
    return batch, folders, out


def _result(graded: tuple[BatchResult, dict[str, str], Path], name: str):
    batch, folders, _ = graded
    for r in batch.students:
        if name in (r.student, folders.get(r.student)) or name.startswith(r.student):
            return r
    raise AssertionError(f"student {name} not graded; got {[r.student for r in batch.students]}")


def test_every_sample_is_graded(graded) -> None:
    batch, _, out = graded
    assert len(batch.students) == len([k for k in EXPECTED])
    assert (out / "results.json").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_grade(graded, name: str) -> None:
    result = _result(graded, name)
    assert_expected_grades(result, EXPECTED[name], name)
    for check in result.checks:
        assert check.message, f"{name}/{check.id} has no message"


def test_crash_is_reported_with_cell_and_error(graded) -> None:
    result = _result(graded, "kozlov_nikita")
    assert any(e.ename == "NameError" for e in result.cell_errors)


def test_broken_file_has_a_clear_message(graded) -> None:
    result = _result(graded, "orlova_ekaterina")
    assert result.status == "error"
    assert result.error and "Traceback" not in result.error


def test_resume_skips_unchanged_students(graded) -> None:
    batch, _, out = graded
    rubric = load_rubric("task1")
    again = grade_batch(SAMPLES, rubric, GradeOptions(out_dir=out, workers=2, lang="en"))
    assert [r.to_json() for r in again.students] == [r.to_json() for r in batch.students]


def test_steps_figures_are_drawn_for_the_found_descents(graded) -> None:
    import xml.etree.ElementTree as ET

    batch, folders, out = graded
    result = _result(graded, "ivanov_ivan")
    figures = {c.id: c.figures for c in result.checks}
    assert figures["steps"] == ("steps_gd.svg",)
    assert figures["momentum"] == ("steps_momentum.svg",)
    assert figures["nesterov"] == ("steps_nesterov.svg",)
    for names in (figures["steps"], figures["momentum"], figures["nesterov"]):
        root = ET.parse(out / folders.get(result.student, result.student) / names[0]).getroot()
        assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) >= 4  # 3+ steps and the legend's
