"""Tracebacks in the student's own cell numbers.

IPython names a cell in a traceback by its execution count (``Cell In[9], line 5``; IPython 7:
``<ipython-input-9-...>``). The grader runs its own cells between the student's, so the count
says nothing to the student, whose report calls that cell 4 (its place among the notebook's
code cells). The executed notebook the harness writes keeps each student cell as
``student-<number>`` with its execution count: that is the translation. It comes from the
sandbox, so it is read with a size cap and trusted for nothing but these labels; the failing
cell's own header is renamed from its record even without it.
"""
from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_NOTEBOOK_BYTES = 50_000_000
_STUDENT_ID = re.compile(r"student-(\d+)")
_HEADER = re.compile(r"Cell In\s*\[(\d+)\]|<ipython-input-(\d+)-[0-9a-f]+>")


def execution_counts(notebook: Path | None) -> dict[int, int]:
    """Execution count -> the student's cell number, from the executed notebook ({} if unreadable)."""
    if notebook is None:
        return {}
    try:
        info = notebook.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_NOTEBOOK_BYTES:
            return {}
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        logger.warning("executed notebook %s unreadable: tracebacks keep IPython's cell names", notebook)
        return {}
    counts: dict[int, int] = {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        match = _STUDENT_ID.fullmatch(str(cell.get("id", "")))
        count = cell.get("execution_count")
        if match and isinstance(count, int):
            counts[count] = int(match.group(1))
    return counts


def in_student_cells(traceback: str, counts: Mapping[int, int], failing_cell: int) -> str:
    """``traceback`` with IPython's cell names replaced by ``Cell <student's number>``.

    The first cell named is the one that was running (``failing_cell``); others are renamed when
    ``counts`` knows them and left as IPython wrote them otherwise.
    """
    first: list[int] = []

    def rename(match: re.Match[str]) -> str:
        count = int(match.group(1) or match.group(2))
        if not first:
            first.append(count)
        number = counts.get(count, failing_cell if count == first[0] else None)
        return match.group(0) if number is None else f"Cell {number}"

    return _HEADER.sub(rename, traceback)
