"""Hostile programs against every backend: each limit holds and the whole tree dies."""
from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.sandbox import PlainSandbox, Sandbox
from grader.sandbox.limits import detect_cgroups

from grader.sandbox import Limits, SandboxSpec

SpecFactory = Callable[..., SandboxSpec]


def has_tree_cgroup(box: Sandbox) -> bool:
    return bool(getattr(box, "support", None) and box.support.available)  # type: ignore[attr-defined]


def test_exit_codes(box: Sandbox, make_spec: SpecFactory) -> None:
    assert box.run(make_spec("import sys; sys.exit(3)")).returncode == 3
    result = box.run(make_spec("import os; print('hi', flush=True); os._exit(7)"))
    assert result.returncode == 7
    assert result.stdout == b"hi\n"
    assert result.killed_reason is None and not result.timed_out


def test_stdin_and_stderr(box: Sandbox, make_spec: SpecFactory) -> None:
    code = "import sys; data = sys.stdin.read(); sys.stderr.write(data.upper())"
    result = box.run(make_spec(code, stdin=b"abc"))
    assert result.returncode == 0
    assert result.stderr == b"ABC"


def test_segfault_is_a_negative_returncode(box: Sandbox, make_spec: SpecFactory) -> None:
    result = box.run(make_spec("import ctypes; ctypes.string_at(0)"))
    assert result.returncode is not None and result.returncode < 0


def test_endless_loop_times_out(box: Sandbox, make_spec: SpecFactory) -> None:
    result = box.run(make_spec("while True: pass", wall_time_s=1.5))
    assert result.timed_out
    assert result.returncode is None
    assert result.killed_reason == "time limit of 1.5 s exceeded"
    assert result.duration_s < 6


def test_sleep_forever_times_out(box: Sandbox, make_spec: SpecFactory) -> None:
    result = box.run(make_spec("import time; print('start', flush=True); time.sleep(10**6)", wall_time_s=1))
    assert result.timed_out
    assert result.stdout == b"start\n"
    assert result.killed_reason == "time limit of 1 s exceeded"


def test_memory_bomb_is_stopped(box: Sandbox, make_spec: SpecFactory) -> None:
    code = "hoard = []\nwhile True: hoard.append(b'x' * (32 * 2**20))"
    result = box.run(make_spec(code, wall_time_s=20))
    assert result.memory_exceeded
    assert result.killed_reason == "memory limit of 0.25 GiB exceeded"
    assert not result.timed_out


def test_fork_bomb_is_bounded_by_the_pids_limit(
    box: Sandbox, make_spec: SpecFactory, small: Limits, alive_with: Callable[[str], list[int]]
) -> None:
    if not has_tree_cgroup(box):
        pytest.skip("without a pids cgroup a root fork bomb is only bounded by the wall time")
    marker = f"forkbomb-{uuid.uuid4().hex}"
    code = (
        "import os, sys, time\n"
        "made = 0\n"
        "for _ in range(500):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(1000)\n"
        "        os._exit(0)\n"
        "    made += 1\n"
        "print(made, flush=True)\n"
    )
    result = box.run(make_spec(code, marker, wall_time_s=10))
    assert result.returncode == 0, result.stderr
    made = int(result.stdout)
    assert 0 < made < small.max_processes
    assert result.process_limit_hit
    assert alive_with(marker) == []


@pytest.mark.parametrize("folder", ["scratch", "tmp"])
def test_disk_filler_is_bounded(box: Sandbox, make_spec: SpecFactory, folder: str, small: Limits) -> None:
    target = "os.getcwd()" if folder == "scratch" else "os.environ['TMPDIR']"
    code = (
        "import os\n"
        f"path = os.path.join({target}, 'big.bin')\n"
        "written = 0\n"
        "try:\n"
        "    with open(path, 'wb') as f:\n"
        "        for _ in range(100):\n"
        "            f.write(b'\\0' * 2**20); f.flush(); written += 2**20\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno, flush=True)\n"
        "print(written, os.path.getsize(path), flush=True)\n"
    )
    result = box.run(make_spec(code))
    assert b"refused" in result.stdout, result.stderr
    size = int(result.stdout.split()[-1])
    assert size <= small.max_file_bytes


def test_huge_output_is_truncated_and_run_ends(box: Sandbox, make_spec: SpecFactory, small: Limits) -> None:
    code = "import sys\nchunk = 'y' * 2**20 + '\\n'\nfor _ in range(100): sys.stdout.write(chunk)\nsys.stderr.write('done')"
    result = box.run(make_spec(code, wall_time_s=30))
    assert result.returncode == 0
    assert result.output_truncated
    assert len(result.stdout) == small.output_bytes
    assert result.stderr == b"done"


@pytest.mark.parametrize("how", ["double-fork", "popen-new-session"])
def test_daemons_die_with_the_run(
    box: Sandbox, make_spec: SpecFactory, how: str, alive_with: Callable[[str], list[int]]
) -> None:
    marker = f"daemon-{uuid.uuid4().hex}"
    if how == "double-fork":
        code = (
            "import os, sys, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(1000)', sys.argv[1]])\n"
            "    os._exit(0)\n"
            "time.sleep(0.5)\n"
            "print('parent done', flush=True)\n"
        )
    else:
        code = (
            "import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', sys.argv[1]],"
            " start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "time.sleep(0.5)\n"
            "print('parent done', flush=True)\n"
        )
    result = box.run(make_spec(code, marker))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"parent done\n"
    assert alive_with(marker) == []


def test_caller_environment_is_not_visible(
    box: Sandbox, make_spec: SpecFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_TEST_SECRET", "hunter2")
    code = "import os; print(os.environ.get('GRADER_TEST_SECRET'), os.environ['MPLBACKEND'], os.environ['HOME'])"
    result = box.run(make_spec(code))
    out = result.stdout.decode()
    assert "hunter2" not in out
    assert out.split()[:2] == ["None", "Agg"]
    assert out.split()[2] == os.getcwd() or out.split()[2].endswith("scratch")


def test_spec_env_and_grader_package_are_available(
    box: Sandbox, make_spec: SpecFactory, folders: tuple[Path, Path]
) -> None:
    scratch, _ = folders
    spec = make_spec("import os, grader_inside; print(os.environ['SEED'], os.getcwd()); print(grader_inside.__file__)")
    spec = dataclasses.replace(spec, env={"SEED": "42"})
    result = box.run(spec)
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == f"42 {scratch.resolve()}"
    assert lines[1].endswith("grader_inside/__init__.py")


def test_plain_description_says_no_isolation() -> None:
    assert "no isolation" in PlainSandbox().description
    described = PlainSandbox(use_cgroups=False).description
    assert "no isolation" in described and "memory limited per process" in described


def test_cgroup_detection_names_a_mechanism() -> None:
    support = detect_cgroups()
    assert support.version in ("v1", "v2", None)
    if support.version is None:
        assert support.reason


def test_output_reaches_a_watcher_as_it_arrives_and_a_broken_one_changes_nothing(box: Sandbox, make_spec: SpecFactory) -> None:
    """SandboxSpec.on_output (the progress of `grader check`): every chunk of standard output, in
    order, while the run goes on; a watcher that raises is logged and the run's output is whole."""
    code = "import sys, time\nfor i in range(3):\n    print(f'line {i}', flush=True); time.sleep(0.05)\n"
    chunks: list[bytes] = []
    seen = box.run(dataclasses.replace(make_spec(code), on_output=chunks.append))
    assert b"".join(chunks) == seen.stdout == b"line 0\nline 1\nline 2\n"

    def broken(chunk: bytes) -> None:
        raise RuntimeError("the display went away")

    result = box.run(dataclasses.replace(make_spec(code), on_output=broken))
    assert result.returncode == 0 and result.stdout == b"line 0\nline 1\nline 2\n"
