"""What a killed grader leaves behind is swept by the next one; what a run leaves in its outbox is
copied out only as plain files; the run's record is read defensively."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from grader.family import AfterProbe
from grader.run.runner import _outcome, collect_artifacts
from grader.sandbox import Limits, SandboxResult
from grader.sandbox.limits import (
    RunCgroup,
    detect_cgroups,
    make_scratch,
    scratch_is_limited,
    sweep_stale_cgroups,
    sweep_stale_scratch,
)

# A grader that made a scratch folder and a run cgroup with a process in it, and then died.
DEAD_GRADER = """
import os, subprocess, sys
from pathlib import Path
from grader.sandbox import Limits
from grader.sandbox.limits import RunCgroup, detect_cgroups, make_scratch
scratch = make_scratch(Path(sys.argv[1]), 4 * 2**20)
support = detect_cgroups()
dirs = []
if support.available:
    group = RunCgroup(support, Limits())
    subprocess.Popen(['sleep', sys.argv[2]], preexec_fn=group.join_self, start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dirs = [str(d) for d in group.dirs]
print(scratch, *dirs, flush=True)
os._exit(0)
"""


def _alive(marker: str) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def test_leftovers_of_a_killed_grader_are_swept(tmp_path: Path) -> None:
    marker = f"6{uuid.uuid4().int % 100:02d}.{uuid.uuid4().int % 10**9}"
    done = subprocess.run([sys.executable, "-c", DEAD_GRADER, str(tmp_path), marker],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    scratch, *groups = (Path(p) for p in done.stdout.split())
    assert scratch.is_dir()
    sweep_stale_scratch.cache_clear()
    sweep_stale_scratch(tmp_path)
    assert not scratch.exists()
    if groups:
        assert _alive(marker)
        support = detect_cgroups()
        sweep_stale_cgroups.cache_clear()
        for parent in {support.memory_parent, support.pids_parent, support.freezer_parent, support.cpu_parent}:
            if parent is not None:
                sweep_stale_cgroups(parent)
        assert not any(g.exists() for g in groups)
        assert not _alive(marker)


def test_live_graders_leftovers_are_kept(tmp_path: Path) -> None:
    mine = make_scratch(tmp_path, 4 * 2**20)
    other = tmp_path / f"scratch-{os.getppid()}-abc"  # the parent of this test runs
    other.mkdir()
    sweep_stale_scratch.cache_clear()
    sweep_stale_scratch(tmp_path)
    assert mine.is_dir() and other.is_dir()
    if scratch_is_limited(mine):
        subprocess.run(["umount", "-l", str(mine)], check=False)


def test_run_cgroup_has_a_cpu_group_where_the_controller_exists() -> None:
    support = detect_cgroups()
    if not support.available:
        pytest.skip(f"no usable cgroup: {support.reason}")
    group = RunCgroup(support, Limits())
    try:
        if support.version == "v1" and support.cpu_parent is not None:
            assert any(d.parent == support.cpu_parent for d in group.dirs)
        assert ("cpu share" in support.describe()) == support.cpu_shared
    finally:
        group.remove()


def test_only_regular_files_leave_the_outbox(tmp_path: Path) -> None:
    live, outbox = tmp_path / "live", tmp_path / "outbox"
    (live / "models").mkdir(parents=True)
    outbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    (live / "run.json").write_text("{}")
    (live / "models" / "pred.npy").write_bytes(b"\x93NUMPY")
    (live / "big.bin").write_bytes(b"x" * 5000)
    (live / "stolen.json").symlink_to(secret)
    (live / "linked_dir").symlink_to(tmp_path)
    os.mkfifo(live / "probe.json")
    collect_artifacts(live, outbox, max_bytes=4096)
    kept = sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*"))
    assert kept == ["models", "models/pred.npy", "run.json"]


def test_forged_run_record_does_not_break_the_grader(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({
        "cells": [{"number": "one"}, "junk", {"number": 2, "status": "ok", "duration_s": "x"},
                  {"number": 3, "status": "error", "ename": "ValueError"}],
        "restarts": "many", "skipped_lines": "nope", "error": 5}))
    (tmp_path / "probe.json").write_text("[" * 100_000)  # too deep for the JSON parser
    result = SandboxResult(returncode=0, stdout=b"", stderr=b"", duration_s=1.0)
    run = _outcome(result, tmp_path, "test", Limits())
    assert [c.number for c in run.cells] == [3]
    assert run.probe == {} and run.kernel_restarts == 0 and run.skipped_lines == ()
    assert run.status == "ok" and run.harness_error is None


def test_a_killed_run_is_explained_by_its_signal(tmp_path: Path) -> None:
    result = SandboxResult(returncode=-9, stdout=b"", stderr=b"[IPKernelApp] WARNING | Kernel is running over "
                           b"TCP without encryption.\n", duration_s=1.0)
    run = _outcome(result, tmp_path, "test", Limits())
    assert run.status == "crashed"
    assert run.problem is not None and run.problem.key == "run.crashed_signal"
    assert run.problem.fields == {"signal": "SIGKILL"}


def test_only_sealed_files_stay_in_the_folders_the_probes_own(tmp_path: Path) -> None:
    """A file the student's code left in a probe's folder (a forged models.json) is deleted; the
    probe's sealed files and the folders no probe owns are left as they are."""
    (tmp_path / "models").mkdir()
    (tmp_path / "notes").mkdir()
    for name in ("models/models.json", "models/pred_0.npy", "models/forged.npy", "notes/own.txt"):
        (tmp_path / name).write_text("x")
    integrity = {"wire": True, "probe": "sealed",
                 "files": {"models/models.json": "sealed", "models/pred_0.npy": "sealed", "models/forged.npy": "changed"}}
    (tmp_path / "run.json").write_text(json.dumps({"integrity": integrity}))
    result = SandboxResult(returncode=0, stdout=b"", stderr=b"", duration_s=1.0)
    _outcome(result, tmp_path, "test", Limits(), sealed=("models",))
    kept = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert kept == ["models/models.json", "models/pred_0.npy", "notes/own.txt", "run.json"]


@pytest.mark.parametrize("module, folder", [("grader.families.models.setup", "models"),
                                            ("grader_inside.probes.models", "../run"),
                                            ("grader_inside.probes.models", ".")])
def test_an_after_run_probe_is_grader_inside_code_writing_one_plain_folder(module: str, folder: str) -> None:
    with pytest.raises(ValueError):
        AfterProbe(module, {}, 10.0, folder)
