"""The executor seam, with no sandbox and no cluster: a canned executor through grade_batch.

Whatever executor runs the submissions, the pipeline writes each student's result in the output
folder, reports progress, resumes (a student graded before is not handed to the executor again;
one whose run was lost is), and --force hands everyone over again.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pytest
from canned_executor import LOST, CannedExecutor

from grader.errors import ExecutorError
from grader.executors import EXECUTORS, open_executor
from grader.grading import GradeOptions, Progress, grade_batch
from grader.rubric import load_rubric


def _class(root: Path, names: Sequence[str]) -> Path:
    for name in names:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"x = {len(name)}")]
        (root / name).mkdir(parents=True)
        nbformat.write(nb, str(root / name / "task1.ipynb"))
    return root


def test_a_canned_executor_grades_through_the_pipeline(tmp_path: Path) -> None:
    subs = _class(tmp_path / "class", ["anna", "boris", "clara", "denis"])
    options = GradeOptions(out_dir=tmp_path / "out", lang="en", workers=2)
    rubric = load_rubric("task1")
    seen: list[Progress] = []
    canned = CannedExecutor(unreadable="clara", lost="denis")
    batch = grade_batch(subs, rubric, options, on_progress=seen.append, executor=canned)

    assert sorted(canned.handed) == ["anna", "boris", "clara", "denis"]
    assert not canned.closed  # the caller's executor: the caller closes it
    assert [r.student for r in batch.students] == ["anna", "boris", "clara", "denis"]  # the class's order
    by = {r.student: r for r in batch.students}
    assert by["anna"].status == "graded" and by["anna"].sandbox == canned.description
    assert all(c.message for c in by["anna"].checks)  # the checks ran here, on the canned evidence
    assert by["clara"].status == "error" and "could not be read as a notebook" in (by["clara"].error or "")
    assert by["denis"].status == "error" and by["denis"].error == LOST
    saved = json.loads((options.out_dir / "results.json").read_text(encoding="utf-8"))
    assert saved["sandbox"] == canned.description
    for name in ("anna", "boris", "clara", "denis"):  # each result where a local batch writes it
        assert json.loads((options.out_dir / name / "result.json").read_text(encoding="utf-8"))["student"] == name
    assert seen[-1].done == 4 and seen[-1].total == 4 and seen[-1].running == ()
    assert {p.last.student for p in seen if p.last is not None} == {"anna", "boris", "clara", "denis"}
    assert any(p.running for p in seen if p.last is None)  # started runs are shown as running

    again = CannedExecutor()
    resumed = grade_batch(subs, rubric, options, executor=again)
    assert again.handed == ["denis"]  # the lost run is tried again; the others are resumed from their results
    assert {r.student: r.status for r in resumed.students}["denis"] == "graded"

    forced = CannedExecutor()
    grade_batch(subs, rubric, GradeOptions(out_dir=options.out_dir, lang="en", force=True), executor=forced)
    assert sorted(forced.handed) == ["anna", "boris", "clara", "denis"]


def test_the_table_names_every_executor_and_refuses_others(tmp_path: Path) -> None:
    assert set(EXECUTORS) == {"local", "ray"}
    with pytest.raises(ExecutorError, match="unknown executor 'slurm'"):
        open_executor(GradeOptions(out_dir=tmp_path, executor="slurm"))


def test_without_ray_the_ray_executor_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def no_ray(name: str, *args: object) -> object:
        if name == "grader.executors.ray":
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_ray)
    with pytest.raises(ExecutorError, match=r"pip install 'grader\[cluster\]'"):
        open_executor(GradeOptions(out_dir=tmp_path, executor="ray"))
