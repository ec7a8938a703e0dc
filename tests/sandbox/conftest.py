"""Fixtures for sandbox tests: small limits, so even a broken sandbox cannot hurt the machine."""
from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.sandbox import MIB, BwrapSandbox, Limits, PlainSandbox, Sandbox, SandboxSpec
from grader.sandbox.detect import bwrap_unavailable_reason

SMALL = Limits(
    memory_bytes=256 * MIB,
    wall_time_s=10.0,
    cpu_time_s=20.0,
    max_processes=64,
    max_file_bytes=16 * MIB,
    scratch_bytes=64 * MIB,
    output_bytes=1 * MIB,
    max_open_files=256,
)

SpecFactory = Callable[..., SandboxSpec]


def bwrap_skip_reason() -> str | None:
    return bwrap_unavailable_reason()


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    scratch = tmp_path / "scratch"
    outbox = tmp_path / "outbox"
    scratch.mkdir()
    outbox.mkdir()
    return scratch, outbox


@pytest.fixture
def make_spec(folders: tuple[Path, Path]) -> SpecFactory:
    """make_spec("python code", wall_time_s=2) -> a spec running that code with SMALL limits."""
    scratch, outbox = folders

    def factory(code: str, *args: str, stdin: bytes | None = None, **limit_changes: object) -> SandboxSpec:
        limits = dataclasses.replace(SMALL, **limit_changes)  # type: ignore[arg-type]
        return SandboxSpec(
            argv=(sys.executable, "-c", code, *args),
            scratch=scratch,
            outbox=outbox,
            limits=limits,
            stdin=stdin,
        )

    return factory


@pytest.fixture
def bwrap_box() -> BwrapSandbox:
    reason = bwrap_skip_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    return BwrapSandbox()


BACKENDS = [pytest.param("bwrap", marks=pytest.mark.sandbox), "plain", "plain-no-cgroup"]


@pytest.fixture(params=BACKENDS)
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Each backend in turn: bwrap, plain with cgroups (where usable), plain with rlimits only."""
    if request.param == "bwrap":
        reason = bwrap_skip_reason()
        if reason is not None:
            pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
        yield BwrapSandbox()
    elif request.param == "plain":
        yield PlainSandbox()
    else:
        yield PlainSandbox(use_cgroups=False)


def processes_with(marker: str) -> list[int]:
    """Pids whose command line contains `marker` (other than this test process)."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline and b"pytest" not in cmdline:
            # a zombie has an empty cmdline, so any match is a live process
            found.append(int(entry))
    return found


@pytest.fixture
def small() -> Limits:
    return SMALL


@pytest.fixture
def alive_with() -> Callable[[str], list[int]]:
    return processes_with
