"""Cells are limited by the CPU their code uses, not by the wall clock; waiting without using the
CPU has a limit of its own; the report says which limit fired."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from grader.run.runner import RunOutcome, RunRequest, run_submission
from grader.sandbox import get_sandbox

pytestmark = pytest.mark.kernel


def run_cells(tmp_path: Path, cells: list[str], cell_s: float, total_s: float) -> RunOutcome:
    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    entry = work / "task.ipynb"
    nbformat.write(nb, str(entry))
    request = RunRequest(entry=entry, files=(entry,), files_root=work, cell_timeout_s=cell_s, timeout_s=total_s)
    return run_submission(request, get_sandbox("auto", fallback=True), tmp_path / "out")


def test_endless_loop_is_stopped_by_cpu_and_sleep_by_idleness(tmp_path: Path) -> None:
    run = run_cells(tmp_path, ["n = 0\nwhile True:\n    n += 1", "import time\ntime.sleep(600)", "answer = 42"],
                    cell_s=3, total_s=60)
    cells = {c.number: c for c in run.cells}
    assert (cells[1].status, cells[1].limit, cells[1].limit_s) == ("timeout", "cpu", 3)
    assert 3 <= cells[1].cpu_s < 5
    assert (cells[2].status, cells[2].limit, cells[2].limit_s) == ("timeout", "idle", 3)
    assert cells[2].cpu_s < 0.5
    assert cells[3].status == "ok"
    assert run.cpu_s is not None and run.cpu_s >= 3


def test_the_whole_notebook_budget_is_cpu_time_too(tmp_path: Path) -> None:
    spin = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 2.5:\n    pass"
    run = run_cells(tmp_path, [spin, spin, "answer = 42"], cell_s=10, total_s=4)
    assert [c.status for c in run.cells] == ["ok", "timeout", "skipped_deadline"]
    assert run.cells[1].limit == "cpu" and run.cells[1].limit_s == pytest.approx(1.5, abs=0.2)


@pytest.fixture
def busy_machine() -> Iterator[int]:
    """Every core kept busy by a spinning process for the length of the test."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_twenty_cpu_seconds_pass_a_thirty_second_budget_on_a_busy_machine(tmp_path: Path, busy_machine: int) -> None:
    work = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 20:\n    pass\nprint('done')"
    run = run_cells(tmp_path, [work, "while True:\n    pass", "answer = 42"], cell_s=30, total_s=120)
    cells = {c.number: c for c in run.cells}
    assert cells[1].status == "ok", cells[1]
    assert cells[1].duration_s > cells[1].cpu_s  # it really waited for the CPU: the machine was busy
    assert (cells[2].status, cells[2].limit) == ("timeout", "cpu")
    assert cells[2].cpu_s >= 30
    assert cells[3].status == "ok"
