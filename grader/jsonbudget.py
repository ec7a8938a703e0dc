"""JSON that a student's run (or submission) could have shaped, parsed within a budget.

`json.loads` builds a Python object for every value: 64 MB of `[{}, {}, ...]` becomes 21 million
dicts and several GB in the grader's own process. Before parsing, the text's size and an upper
bound on its containers (every `{` and `[`, those inside strings included, counted at C speed)
are checked against a budget; nesting too deep for the parser is refused too. A refused file is
an error for that one submission, said plainly, never a grader crash.
"""
from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError

MIB = 1024 * 1024


class JsonBudgetError(GraderError):
    """A JSON file or text is larger, or has more containers, than the grader reads."""


@dataclass(frozen=True)
class Budget:
    max_bytes: int
    max_containers: int

    def describe(self) -> str:
        return f"{self.max_bytes // MIB} MB, {self.max_containers:,} objects and lists"


# What the grader reads from a run: the harness's records, the probes' data, the models probe's
# inventory; and the student's own notebook. Each is far above what honest work produces.
RECORD = Budget(16 * MIB, 200_000)
PROBE = Budget(64 * MIB, 400_000)
NOTEBOOK = Budget(100 * MIB, 1_000_000)


def loads(text: str, budget: Budget, what: str = "JSON") -> Any:
    """Parse `text` if it fits `budget`; JsonBudgetError (or ValueError for bad JSON) otherwise."""
    if len(text) > budget.max_bytes:
        raise JsonBudgetError(f"{what} is {len(text) / MIB:.1f} MB; the grader reads at most {budget.describe()}")
    containers = text.count("{") + text.count("[")
    if containers > budget.max_containers:
        raise JsonBudgetError(f"{what} holds up to {containers:,} objects and lists; the grader reads at most "
                              f"{budget.describe()}")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise JsonBudgetError(f"{what} is nested too deeply to read") from exc


def load_file(path: Path, budget: Budget) -> Any:
    """A regular file's JSON within `budget` (a link, a FIFO or a device is never opened)."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise JsonBudgetError(f"{path.name} is not a regular file")
    if info.st_size > budget.max_bytes:
        raise JsonBudgetError(f"{path.name} is {info.st_size / MIB:.1f} MB; the grader reads at most {budget.describe()}")
    return loads(path.read_text(encoding="utf-8"), budget, path.name)
