"""A batch killed with SIGKILL mid-way and run again: nothing finished is graded again, nothing is
lost, and `--force` grades everyone anew. Also: the exit code says whether the grader failed,
not whether students did."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_corpus import GOOD_CELLS, write_notebook
from hostile_support import hostile_rubric, own_cgroups_left

from grader.sandbox.detect import bwrap_unavailable_reason

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

N_STUDENTS = 6


def _class(root: Path) -> None:
    for i in range(N_STUDENTS):
        cells = list(GOOD_CELLS)
        cells[2] = cells[2].replace("x = 1.5", f"x = {1.0 + i / 10}")
        write_notebook(root / f"student_{i}", cells)


def _grade_cmd(root: Path, rubric: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(root), "-a", str(rubric), "-o", str(out),
            "--workers", "1", "--sandbox", "bwrap", *extra]


def _finished(out: Path) -> dict[str, tuple[int, bytes]]:
    """student folder -> (mtime_ns, content) of each result.json written so far."""
    return {p.parent.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("*/result.json")}


def _cgroups_of(pid: int) -> list[Path]:
    found: list[Path] = []
    for base in (Path("/sys/fs/cgroup"), *Path("/sys/fs/cgroup").glob("*")):
        try:
            found += [p for p in base.rglob(f"grader-{pid}-*") if p.is_dir()]
        except OSError:
            continue
    return found


def test_killed_batch_resumes_without_regrading(tmp_path: Path) -> None:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    root, out = tmp_path / "class", tmp_path / "out"
    _class(root)
    rubric = hostile_rubric(tmp_path).source_path
    assert rubric is not None
    cmd = _grade_cmd(root, rubric, out)

    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 240
    while len(_finished(out)) < 2:
        assert first.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline, "no student finished in time"
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)  # the grader and everything in its process group
    first.wait()
    before = _finished(out)
    assert 2 <= len(before) < N_STUDENTS
    assert not (out / "results.json").exists()
    # The sandboxes die with the grader (bwrap --die-with-parent): no run keeps going.
    time.sleep(1.0)
    for group in _cgroups_of(first.pid):
        procs = (group / "cgroup.procs").read_text().split() if (group / "cgroup.procs").exists() else []
        assert procs == [], f"{group} still runs {procs}"

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    after = _finished(out)
    assert set(after) == {f"student_{i}" for i in range(N_STUDENTS)}
    for student, stamp in before.items():
        assert after[student] == stamp, f"{student} was graded again"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(results["students"]) == N_STUDENTS
    assert all(s["status"] == "graded" and s["score"] > 0 for s in results["students"])
    assert "bubblewrap sandbox" in results["sandbox"]
    assert f"Работ: {N_STUDENTS}" in again.stdout

    forced = subprocess.run([*cmd, "--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0, forced.stderr[-2000:]
    regraded = _finished(out)
    assert all(regraded[s][0] != after[s][0] for s in after), "--force must grade everyone again"
    assert own_cgroups_left() == []


def test_exit_code_is_about_the_grader_not_the_students(tmp_path: Path) -> None:
    root = tmp_path / "class"
    write_notebook(root / "crashes", ["raise RuntimeError('student bug')"])
    (root / "broken").mkdir()
    (root / "broken" / "work.ipynb").write_text("{not json", encoding="utf-8")
    rubric = hostile_rubric(tmp_path).source_path
    assert rubric is not None
    cmd = [sys.executable, "-m", "grader", "grade", str(root), "-a", str(rubric), "-o", str(tmp_path / "out"),
           "--workers", "1", "--sandbox", "plain"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Работ: 2. Проверено: 1, с ошибкой: 1" in done.stdout  # the summary line
    assert "Изоляция: обычный процесс без изоляции файлов и сети" in done.stdout
    failed = subprocess.run([*cmd[:6], str(tmp_path / "no_such_rubric.yaml"), *cmd[7:]],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
