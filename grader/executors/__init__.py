"""Executors: where a batch's sandboxed runs happen (see base.py for the interface).

One table names them all; a module is imported only when its executor is asked for, so a local
batch never loads Ray, and a machine without Ray is told how to install it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.errors import ExecutorError
from grader.executors.base import Executor

if TYPE_CHECKING:
    from grader.grading import GradeOptions
    from grader.sandbox import Sandbox

__all__ = ["EXECUTORS", "Executor", "ExecutorEntry", "open_executor"]


@dataclass(frozen=True)
class ExecutorEntry:
    module: str  # defines open_executor(options, sandbox) -> Executor
    summary: str  # for --help
    needs: str | None = None  # the optional package it imports, and the extra that installs it
    extra: str | None = None


EXECUTORS: dict[str, ExecutorEntry] = {
    "local": ExecutorEntry("grader.executors.local", "this machine, --workers runs at a time"),
    "ray": ExecutorEntry("grader.executors.ray", "a Ray cluster (--address), one task per submission",
                         needs="ray", extra="cluster"),
}


def open_executor(options: GradeOptions, sandbox: Sandbox | None = None) -> Executor:
    """The executor options.executor names, ready to run (connected, for a cluster); `sandbox`
    is the backend for runs on this machine (default: get_sandbox's choice for options.sandbox)."""
    entry = EXECUTORS.get(options.executor)
    if entry is None:
        raise ExecutorError(f"unknown executor {options.executor!r}: use one of {', '.join(EXECUTORS)}")
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if entry.needs is None or exc.name != entry.needs:
            raise
        raise ExecutorError(f"--executor {options.executor} needs the {entry.needs} package, which is not installed "
                            f"here: pip install 'grader[{entry.extra}]' (on this machine and on every node of "
                            "the cluster), then grade again") from exc
    executor: Executor = module.open_executor(options, sandbox)
    return executor
