"""The sandbox interface: what every backend takes and returns.

A backend runs one command (the trusted harness that executes a student's notebook or script)
isolated from the grader, with limits that hold for the whole process tree, and kills that
whole tree when it ends, times out or breaks a limit.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 4 * GIB
    wall_time_s: float = 600.0
    cpu_time_s: float | None = None  # None: wall_time_s times the number of cores
    max_processes: int = 256  # processes and threads of the whole tree
    max_file_bytes: int = 512 * MIB  # largest single file a process may write
    scratch_bytes: int = 1 * GIB  # each private tmpfs: scratch, outbox, /tmp, /dev/shm
    output_bytes: int = 2 * MIB  # captured stdout+stderr kept per stream; the rest is dropped
    max_open_files: int = 1024


@dataclass(frozen=True)
class Mount:
    """A host path made visible inside the sandbox at `target` (read-only unless writable).

    `target` is absolute, or relative to the run's working (scratch) folder (`./afhq`).
    """

    source: Path
    target: str
    writable: bool = False

    def inside(self, scratch: str) -> str:
        """The absolute path of the target in a run whose working folder is `scratch`."""
        if self.target.startswith("/"):
            return self.target
        return os.path.normpath(os.path.join(scratch, self.target))


@dataclass(frozen=True)
class SandboxSpec:
    argv: tuple[str, ...]
    scratch: Path  # fresh private folder: working directory and HOME inside the sandbox
    outbox: Path  # folder the harness writes plain-data artifacts to (read-write)
    mounts: tuple[Mount, ...] = ()  # extra read-only data (datasets, weights, the submission)
    env: dict[str, str] = field(default_factory=dict)  # the complete environment inside
    limits: Limits = Limits()
    device: Literal["cpu", "cuda"] = "cpu"
    stdin: bytes | None = None
    # bwrap: the command is the PID namespace's init, so nothing it starts can signal it (the
    # kernel drops signals to an init that has no handler for them); orphans become its children.
    # The plain backend has no PID namespace and ignores this.
    init: bool = False
    # each chunk of the run's standard output as it arrives (from a reader thread), for progress
    # shown while the run goes on (grader.run.progress); the result keeps the output as ever
    on_output: Callable[[bytes], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SandboxResult:
    returncode: int | None  # None when the tree was killed by the grader
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    killed_reason: str | None = None  # plain words: why the grader killed the tree
    process_limit_hit: bool = False  # a fork or thread start failed at the tree's process limit
    backend: str = ""


class Sandbox(Protocol):
    name: str  # "bwrap" or "plain"
    description: str  # one line for reports: what isolation is in force, and why
    package_root: str  # inside: the folder that holds grader_inside (its entry scripts are there)

    def run(self, spec: SandboxSpec) -> SandboxResult: ...
