"""Top-level rubric sections owned by a family (the models family's `data:` and `evaluation:`):
the loader holds them to the family's types and names file, key and line; the rubric hands them
out validated, with the family's default when a rubric leaves one out."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.families import sections
from grader.families.models.sections import EvaluationSpec, ImageFolderDataSpec, MnistDataSpec
from grader.rubric import Rubric, load_rubric, validate_rubric_file

BODY = textwrap.dedent(
    """\
    assignment: x
    title: X
    data:
      mnist:
        validation: 0.2
      afhq:
        kind: imagefolder
        mounts: [/content/afhq]
    evaluation:
      batch_size: 100
      baseline:
        epochs: 1
    checks:
      - id: acc
        title: Accuracy
        points: 1
        kind: models.accuracy
    """
)
CHECKS = [{"id": "a", "title": "A", "points": 1, "kind": "gd.plot"}]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def _line(body: str, fragment: str) -> int:
    return next(i for i, line in enumerate(body.splitlines(), 1) if fragment in line)


def test_sections_load_as_the_family_types(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, BODY))
    data = rubric.section("data")
    assert isinstance(data["mnist"], MnistDataSpec) and data["mnist"].validation == 0.2
    assert isinstance(data["afhq"], ImageFolderDataSpec) and data["afhq"].mounts == ["/content/afhq"]
    evaluation = rubric.section("evaluation")
    assert isinstance(evaluation, EvaluationSpec) and evaluation.batch_size == 100
    assert evaluation.baseline.epochs == 1 and evaluation.format_images == 1000  # the family's defaults inside


def test_a_section_left_out_is_the_family_default_and_an_unknown_name_is_an_error() -> None:
    task1 = load_rubric("task1")
    assert task1.section("data") == {} and task1.section("evaluation") is None
    with pytest.raises(KeyError):
        task1.section("datasets")


def test_section_problems_name_file_key_and_line(tmp_path: Path) -> None:
    body = (BODY.replace("    validation: 0.2\n", "    validation: 2\n")
            .replace("    mounts: [/content/afhq]\n", "    mounts:\n      - afhq\n")
            .replace("  batch_size: 100\n", "  batch_sise: 100\n")
            .replace("    epochs: 1\n", "    epoch: 1\n"))
    problems = validate_rubric_file(_write(tmp_path, body))
    assert any(f"x.yaml:{_line(body, 'validation: 2')}: data.mnist.validation: Input should be less than 1" in p
               for p in problems), problems
    # the member's tag of the dataset union (`imagefolder`) is not a key of the file: the line is the mounts'
    assert any(f"x.yaml:{_line(body, 'mounts:')}: data.afhq.mounts: mount point 'afhq' must be" in p
               for p in problems), problems
    assert any(f"x.yaml:{_line(body, 'batch_sise')}: evaluation.batch_sise: unknown key (allowed: batch_size, "
               in p for p in problems), problems
    assert any(f"x.yaml:{_line(body, 'epoch: 1')}: evaluation.baseline.epoch: unknown key (allowed: epochs, "
               in p for p in problems), problems
    assert len(problems) == 4, problems


def test_a_key_no_one_owns_is_unknown_and_the_allowed_list_names_the_sections(tmp_path: Path) -> None:
    body = BODY.replace("evaluation:\n", "evaluaton:\n")
    problems = validate_rubric_file(_write(tmp_path, body))
    assert len(problems) == 1 and f"x.yaml:{_line(body, 'evaluaton')}: evaluaton: unknown key (allowed: " in problems[0]
    assert problems[0].endswith("checks, data, evaluation)")


def test_a_rubric_built_in_code_is_held_to_the_same_types() -> None:
    built = Rubric.model_validate({"assignment": "x", "title": "X", "checks": CHECKS,
                                   "evaluation": {"batch_size": 10}})
    assert isinstance(built.section("evaluation"), EvaluationSpec)
    with pytest.raises(ValidationError) as caught:
        Rubric.model_validate({"assignment": "x", "title": "X", "checks": CHECKS, "evaluation": {"batch_sise": 10}})
    assert [e["loc"] for e in caught.value.errors()] == [("evaluation", "batch_sise")]
    with pytest.raises(ValidationError, match="unknown key.*chekcs"):
        Rubric.model_validate({"assignment": "x", "title": "X", "checks": CHECKS, "chekcs": []})


def test_each_section_has_one_owner_and_no_section_shadows_a_rubric_key() -> None:
    owned = sections()  # raises when two families declare one section
    assert {"data", "evaluation"} <= set(owned) and owned["data"][0].name == "models"
    assert not set(owned) & set(Rubric.model_fields)
