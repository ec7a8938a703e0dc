"""The plain backend: the command runs as an ordinary child process of the grader.

It limits resources like every backend (the shared runner in `process`) but isolates nothing:
the student's code can read every file the grader's user can read, use the network, and signal
the grader's own processes.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

import grader_inside
from grader.errors import SandboxError
from grader.sandbox.base import SandboxResult, SandboxSpec
from grader.sandbox.limits import CgroupSupport, detect_cgroups
from grader.sandbox.process import limits_description, run_tree, sandbox_env, scratch_note

logger = logging.getLogger(__name__)


def package_parent() -> Path:
    """The folder that holds the in-sandbox package `grader_inside` (what goes on PYTHONPATH)."""
    return Path(grader_inside.__file__).resolve().parent.parent


class PlainSandbox:
    """Runs the command as a plain child process: limits, but no file or network isolation."""

    name = "plain"

    def __init__(self, reason: str = "", use_cgroups: bool = True) -> None:
        self.support = detect_cgroups() if use_cgroups else CgroupSupport(None, reason="not used")
        self.package_root = str(package_parent())
        why = f": {reason}" if reason else ""
        who = "root" if os.geteuid() == 0 else "the grader's user"
        self.description = (
            f"plain process as {who} (no isolation of files/network){why}; {limits_description(self.support)}"
        )

    def run(self, spec: SandboxSpec) -> SandboxResult:
        if not spec.scratch.is_dir():
            raise SandboxError(f"scratch folder {spec.scratch} does not exist")
        tmpdir = spec.scratch / ".tmp"
        tmpdir.mkdir(exist_ok=True)
        python_bin = str(Path(sys.prefix) / "bin")
        env = sandbox_env(spec, str(spec.scratch), str(tmpdir), str(package_parent()), python_bin)
        link_relative_mounts(spec)
        result = run_tree(list(spec.argv), env, spec.scratch, spec.limits, spec.stdin, self.support,
                          on_output=spec.on_output)
        return dataclasses.replace(result, backend=f"{self.description}; {scratch_note(spec)}")


def link_relative_mounts(spec: SandboxSpec) -> None:
    """Mounts inside the working folder (`./afhq`) become symbolic links there. Absolute targets
    cannot be served without a mount namespace: a plain process sees the host's paths as they are."""
    scratch = str(spec.scratch.resolve())
    for mount in spec.mounts:
        if mount.target.startswith("/"):
            if not os.path.exists(mount.target):
                logger.info("plain sandbox: %s cannot be made to appear at %s", mount.source, mount.target)
            continue
        link = Path(mount.inside(scratch))
        if link.is_relative_to(scratch) and not os.path.lexists(link):
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(mount.source.resolve(), target_is_directory=mount.source.is_dir())
