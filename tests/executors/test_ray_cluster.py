"""The Task 1 samples graded on a real local Ray cluster (2 CPUs, bubblewrap on its worker) give
the results a local batch gives; a worker killed mid-run is retried, and a submission whose worker
is lost twice gets an error that says so, while the batch goes on and loses nobody."""
from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "submissions" / "task1"
KILLED_ONCE, KILLED_TWICE = "ivanov_ivan", "kozlov_nikita"
FEW = (KILLED_ONCE, KILLED_TWICE, "popov_dmitry", "volkova_anna")

SPEED = re.compile(r"\d+ images/s")

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.sandbox, pytest.mark.timeout(1500)]


def summary(batch: BatchResult) -> dict[str, Any]:
    """What must not depend on where a run happened: statuses, scores, errors, each check's
    status, points and message, the cells that failed. Not timings: neither a model's measured
    speed in a message, nor the notes (a cell that ran out of time says how long it ran)."""
    return {r.student: (r.status, r.score, r.max_score, r.error,
                        [(c.id, c.status, c.points, SPEED.sub("N images/s", c.message)) for c in r.checks],
                        [(e.cell, e.ename) for e in r.cell_errors])
            for r in batch.students}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("local")
    return summary(grade_batch(SAMPLES, load_rubric("task1"), GradeOptions(out_dir=out, workers=2, lang="en")))


def test_the_samples_on_ray_get_the_results_of_a_local_batch(local: dict[str, Any], ray_head: str,
                                                            tmp_path: Path) -> None:
    options = GradeOptions(out_dir=tmp_path / "out", workers=2, lang="en", executor="ray", address=ray_head)
    batch = grade_batch(SAMPLES, load_rubric("task1"), options)
    assert summary(batch) == local
    assert "runs on the Ray cluster" in batch.sandbox and "bubblewrap" in batch.sandbox
    ivanov = tmp_path / "out" / KILLED_ONCE
    assert (ivanov / "run" / "executed.ipynb").is_file() and (ivanov / "steps_gd.svg").is_file()

    again = grade_batch(SAMPLES, load_rubric("task1"), options)  # resumed: nothing is sent to the cluster
    assert [r.to_json() for r in again.students] == [r.to_json() for r in batch.students]


def _worker_of(student_id: str, not_these: set[int], timeout_s: float = 180.0) -> int:
    """The pid of the Ray worker running `student_id`'s task now (its title: ray::grade <id>)."""
    title = f"ray::grade {student_id}".encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in not_these:
                try:
                    cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                except OSError:
                    continue
                if cmdline.split(b"\0")[0] == title:
                    return int(entry)
        time.sleep(0.05)
    raise AssertionError(f"no Ray worker ran {student_id} within {timeout_s:g} s")


@pytest.fixture(scope="module")
def killed(ray_head: str, tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    """Four samples on the cluster; one's worker is killed once, another's at each of its tries."""
    folder = tmp_path_factory.mktemp("few")
    for name in FEW:
        shutil.copytree(SAMPLES / name, folder / name)
    options = GradeOptions(out_dir=tmp_path_factory.mktemp("killed"), workers=2, lang="en", executor="ray",
                           address=ray_head)
    graded: list[BatchResult] = []
    batch = threading.Thread(target=lambda: graded.append(grade_batch(folder, load_rubric("task1"), options)))
    batch.start()
    try:
        once = _worker_of(KILLED_ONCE, set())
        os.kill(once, signal.SIGKILL)
        first = _worker_of(KILLED_TWICE, {once})
        os.kill(first, signal.SIGKILL)
        second = _worker_of(KILLED_TWICE, {once, first})  # its retry, in a new worker process
        os.kill(second, signal.SIGKILL)
    finally:
        batch.join(timeout=600)
    assert graded, "the batch did not finish"
    return graded[0]


def test_a_killed_worker_loses_no_student(killed: BatchResult, local: dict[str, Any]) -> None:
    assert sorted(r.student for r in killed.students) == sorted(FEW)
    got = summary(killed)
    for name in FEW:
        if name != KILLED_TWICE:
            assert got[name] == local[name], name  # the killed run was tried again, and graded as locally


def test_a_submission_whose_worker_is_lost_twice_is_an_error_for_that_student(killed: BatchResult) -> None:
    result = next(r for r in killed.students if r.student == KILLED_TWICE)
    assert result.status == "error" and result.score == 0
    assert result.error is not None and "failed twice" in result.error and "not graded" in result.error
    assert "Traceback" not in result.error
    assert all(c.status == "error" for c in result.checks)
