"""The gradebook: one CSV row per submission, one column per check (points)."""
from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

from grader.report.html import check_order, format_number
from grader.results import BatchResult

logger = logging.getLogger(__name__)

FIXED_COLUMNS = ("student", "submission", "status", "score", "max_score")


def _csv_number(value: float) -> str:
    """Plain machine-readable number: dot decimal, no thousands separator, no exponent games."""
    return format_number(round(float(value), 4), digits=4)


def _one_line(text: str | None) -> str:
    return " | ".join(line.strip() for line in (text or "").splitlines() if line.strip())


def write_gradebook_csv(batch: BatchResult, path: Path, *, check_ids: Sequence[str] | None = None) -> Path:
    """Write the gradebook to `path` and return it.

    Columns: student, submission, status, score, max_score, one column per check id (points),
    error, and flags (the kinds of the flags raised for review: demo, implausible ...) when any
    student has one. Check columns follow `check_ids` when given (the rubric's order), otherwise the order
    the results list their checks in. Rows are sorted by student. The file is UTF-8 with a BOM
    so that Excel shows Cyrillic names correctly.
    """
    path = Path(path)
    students = sorted(batch.students, key=lambda r: (r.student, r.submission))
    ids = list(check_ids) if check_ids is not None else [cid for cid, _, _ in check_order(students)]
    flagged = any(result.flags for result in students)  # a "flags" column (demo, implausible ...) only then
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*FIXED_COLUMNS, *ids, "error", *(["flags"] if flagged else [])])
        for result in students:
            points = {check.id: check for check in result.checks}
            writer.writerow(
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
                    *(["; ".join(dict.fromkeys(f.kind for f in result.flags))] if flagged else []),
                ]
            )
    tmp.replace(path)
    logger.info("wrote %s (%d rows)", path, len(students))
    return path
