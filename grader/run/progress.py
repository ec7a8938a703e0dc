"""Progress of a run while it goes on: which of the notebook's cells is executing.

The harness writes one line to its standard output as each of the student's cells starts:
``\\x1egrader:cell N/M`` (N the cell's number among the code cells, M their count). Student code
shares that output (a kernel's own file descriptors), so the lines are a display and nothing
more: a line that does not match exactly is ignored, numbers are bounded, and nothing the grade
depends on is read from them.
"""
from __future__ import annotations

import re
from collections.abc import Callable

_LINE = re.compile(rb"\x1egrader:cell (\d{1,5})/(\d{1,5})")
_MAX_PENDING = 4096  # bytes of an unfinished line kept: output without newlines is not buffered


class CellProgress:
    """Feeds on a run's output chunks and calls `shown(number, total)` for each progress line."""

    def __init__(self, shown: Callable[[int, int], None]) -> None:
        self.shown = shown
        self._pending = b""

    def __call__(self, chunk: bytes) -> None:
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()[-_MAX_PENDING:]
        for line in lines:
            found = _LINE.fullmatch(line.rstrip(b"\r"))
            if found:
                number, total = int(found.group(1)), int(found.group(2))
                if 0 < number <= total:
                    self.shown(number, total)
