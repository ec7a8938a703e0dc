"""The toy family (grader/families/toy): an assignment family is one folder and one line in the
table. A rubric naming its kind and its probe grades real notebooks end to end: the probe's source
runs in the student's kernel, the check reads what it found, the message comes from the family's
own catalogue and renders in either language."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.families import FAMILIES, family, kinds, probe_specs, rubric_families
from grader.grading import GradeOptions, grade_batch
from grader.i18n import text_of
from grader.rubric import load_rubric, validate_rubric_file

RUBRIC = """\
assignment: toy
title: Toy
lang: en
entry: {patterns: ["*.ipynb"]}
probes: [toy]
checks:
  - {id: answer, title: {ru: "Ответ", en: "Answer"}, points: 2, kind: toy.answer, params: {expected: 42},
     credit: {wrong: 0.25}}
"""


def notebook(path: Path, *sources: str) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                    encoding="utf-8")


def test_the_toy_family_is_one_folder_and_one_line() -> None:
    toy = family("toy")
    assert FAMILIES["toy"] == "grader.families.toy"
    assert toy.folder == Path(__file__).resolve().parents[2] / "grader" / "families" / "toy"
    assert sorted(p.name for p in toy.folder.iterdir() if p.suffix in (".py", ".yaml")) == \
        ["__init__.py", "checks.py", "messages.yaml", "probe.py"]
    assert set(kinds()["toy.answer"].outcomes) == {"ok", "wrong", "missing"}
    spec = probe_specs(["toy"])["toy"]
    assert "def collect" in spec["source"] and spec["file"] == "toy/probe.py"


def test_a_misspelt_toy_parameter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(RUBRIC.replace("expected: 42", "expectd: 42"), encoding="utf-8")
    problems = validate_rubric_file(path)
    assert len(problems) == 1 and "toy.answer has no parameter 'expectd'" in problems[0], problems


@pytest.mark.kernel
@pytest.mark.sandbox
def test_a_toy_rubric_grades_notebooks_end_to_end(tmp_path: Path) -> None:
    rubric_path = tmp_path / "toy.yaml"
    rubric_path.write_text(RUBRIC, encoding="utf-8")
    rubric = load_rubric(rubric_path)
    assert [f.name for f in rubric_families(rubric)] == ["toy"]
    subs = tmp_path / "subs"
    notebook(subs / "right" / "hw.ipynb", "x = 40", "answer = x + 2")
    notebook(subs / "wrong" / "hw.ipynb", "answer = 41")
    notebook(subs / "absent" / "hw.ipynb", "result = 42")
    batch = grade_batch(subs, rubric, GradeOptions(out_dir=tmp_path / "out", workers=2, sandbox="bwrap"))
    by_name = {r.student: r for r in batch.students}
    right, wrong, absent = (by_name[n].checks[0] for n in ("right", "wrong", "absent"))
    assert (right.status, right.points, right.metrics) == ("pass", 2.0, {"answer": 42.0})
    assert (wrong.status, wrong.points) == ("partial", 0.5)
    assert wrong.message == "The variable answer is 41; it should be 42."
    assert wrong.msg is not None and text_of(wrong.msg, "ru") == "Переменная answer равна 41, а должна быть 42."
    assert (absent.status, absent.points) == ("fail", 0.0)
    assert "no numeric variable answer" in absent.message
