"""The checks' worker processes (grader.checkproc): a memory limit, a dead worker, errors."""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from canned_executor import CannedExecutor

from grader import grading
from grader.checkproc import CheckProcesses, OutOfMemory, ProcessLost
from grader.grading import GradeOptions, grade_batch
from grader.rubric import load_rubric

TARGET = "tests.checkproc_targets:act"
HOG = "tests.checkproc_targets:hog_or_check"


def ran(student: str, what: str) -> SimpleNamespace:
    return SimpleNamespace(sub=SimpleNamespace(student=student), what=what)


def test_checks_over_the_limit_are_an_answer_and_the_worker_goes_on() -> None:
    with CheckProcesses(1, memory_mb=600, target=TARGET) as processes:
        assert processes.check(ran("a", "allocate:50")) == 50 * 1024 * 1024
        assert processes.check(ran("b", "allocate:2000")) == OutOfMemory(600)
        first = processes.check(ran("c", "pid"))
        assert processes.check(ran("d", "pid")) == first  # the same worker, still alive
        assert processes.check(ran("e", "ok")) == "checked e"


def test_a_worker_that_dies_costs_only_its_own_submission() -> None:
    students = [ran(f"s{i}", "ok") for i in range(6)] + [ran("killer", "die")]
    with CheckProcesses(2, memory_mb=1024, target=TARGET) as processes, ThreadPoolExecutor(3) as pool:
        answers = dict(zip((s.sub.student for s in students), pool.map(processes.check, students)))
        assert answers.pop("killer") == ProcessLost("exit status 3")
        assert answers == {f"s{i}": f"checked s{i}" for i in range(6)}
        assert processes.check(ran("after", "ok")) == "checked after"  # the pool kept its size


def test_an_error_of_the_checks_is_raised_in_the_grader() -> None:
    with CheckProcesses(1, target=TARGET) as processes:
        with pytest.raises(ValueError, match="a check of ours went wrong"):
            processes.check(ran("a", "raise"))
        assert processes.check(ran("b", "ok")) == "checked b"


def test_workers_start_on_demand_and_end_with_the_batch() -> None:
    processes = CheckProcesses(4, target=TARGET)
    pids = {processes.check(ran(str(i), "pid")) for i in range(3)}
    assert len(pids) == 1  # one caller at a time needs one worker
    workers = list(processes._all)
    processes.close()
    assert all(w.process.poll() is not None for w in workers)


def test_a_batch_gives_the_student_whose_checks_run_out_of_memory_an_error_and_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "class"
    for name in ("anna", "hog_boris", "clara"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        (root / name).mkdir(parents=True)
        nbformat.write(nb, str(root / name / "task1.ipynb"))
    monkeypatch.setattr(grading, "CheckProcesses", functools.partial(CheckProcesses, target=HOG))
    options = GradeOptions(out_dir=tmp_path / "out", lang="ru", workers=2, check_memory_mb=700)
    batch = grade_batch(root, load_rubric("task1"), options, executor=CannedExecutor())

    by = {r.student: r for r in batch.students}
    assert by["hog_boris"].status == "error"
    assert by["hog_boris"].error is not None and "не хватило памяти" in by["hog_boris"].error
    assert "700 МБ" in by["hog_boris"].error and "--check-memory" in by["hog_boris"].error
    assert by["hog_boris"].cache_key == ""  # not resumed: a run with a higher limit grades it
    assert by["anna"].status == by["clara"].status == "graded"
    assert all(c.message for c in by["anna"].checks)
