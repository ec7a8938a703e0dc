"""A grade depends only on the submission: the shipped and hidden Task 1 sets graded on an idle
machine and again with every core kept busy get identical results (scores, statuses, messages,
notes; not timings)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from expected_grades import grade_set

from grader.results import BatchResult

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
SETS = {"samples": ROOT / "submissions" / "task1", "hidden": ROOT / "tests" / "fixtures" / "task1_hidden"}


def outcome(batch: BatchResult) -> dict[str, tuple]:
    """What a grade is made of, per student: never durations or CPU seconds."""
    return {r.student: (r.status, r.score, r.error, r.notes, tuple(f.to_json().items() for f in r.flags),
                        tuple((c.id, c.status, c.points, c.message, tuple(sorted(c.metrics.items())))
                              for c in r.checks))
            for r in batch.students}


def graded_busy(folder: Path, out: Path) -> BatchResult:
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        return grade_set(folder, "task1", out)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.parametrize("name", sorted(SETS))
def test_same_grades_on_an_idle_and_a_busy_machine(name: str, tmp_path: Path) -> None:
    quiet = outcome(grade_set(SETS[name], "task1", tmp_path / "quiet"))
    busy = outcome(graded_busy(SETS[name], tmp_path / "busy"))
    assert busy.keys() == quiet.keys()
    differ = {student: (quiet[student], busy[student]) for student in quiet if quiet[student] != busy[student]}
    assert not differ, differ
