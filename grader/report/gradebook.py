"""The gradebook: one CSV row per submission, one column per check (points).

Every CSV the grader writes passes its cells through :func:`safe_cell`: student names and
folder names come from the students, and a spreadsheet runs a cell that starts with ``=``.
"""
from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader.report.html import check_order, format_number
from grader.results import BatchResult

logger = logging.getLogger(__name__)

FIXED_COLUMNS = ("student", "submission", "status", "score", "max_score")
# Cells a spreadsheet (Excel, LibreOffice, Google Sheets) may read as a formula or a command
# (OWASP "CSV injection"): these first characters, unless the whole cell is a plain number.
_FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: prefixed with ``'`` when it starts with
    ``= + - @``, a tab or a carriage return. Plain numbers (``-0.5``) stay as they are, and so
    does a lone ``-`` (Moodle's "no date"): neither can run, and a quoted grade would be one
    Moodle cannot read."""
    if value[:1] in _FORMULA_START and value != "-" and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(cells: Iterable[str]) -> list[str]:
    return [safe_cell(str(cell)) for cell in cells]


def _csv_number(value: float) -> str:
    """Plain machine-readable number: dot decimal, no thousands separator, no exponent games."""
    return format_number(round(float(value), 4), digits=4)


def _one_line(text: str | None) -> str:
    return " | ".join(line.strip() for line in (text or "").splitlines() if line.strip())


def write_gradebook_csv(batch: BatchResult, path: Path, *, check_ids: Sequence[str] | None = None) -> Path:
    """Write the gradebook to `path` and return it.

    Columns: student, submission, status, score, max_score, one column per check id (points),
    error. Check columns follow `check_ids` when given (the rubric's order), otherwise the order
    the results list their checks in. Rows are sorted by student. The file is UTF-8 with a BOM
    so that Excel shows Cyrillic names correctly.
    """
    path = Path(path)
    students = sorted(batch.students, key=lambda r: (r.student, r.submission))
    ids = list(check_ids) if check_ids is not None else [cid for cid, _, _ in check_order(students)]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(safe_row([*FIXED_COLUMNS, *ids, "error"]))
        for result in students:
            points = {check.id: check for check in result.checks}
            writer.writerow(safe_row(
                [
                    result.student,
                    result.submission,
                    result.status,
                    _csv_number(result.score),
                    _csv_number(result.max_score),
                    *(
                        _csv_number(points[cid].points) if cid in points and points[cid].status != "manual" else ""
                        for cid in ids
                    ),
                    _one_line(result.error),
                ]
            ))
    tmp.replace(path)
    logger.info("wrote %s (%d rows)", path, len(students))
    return path
