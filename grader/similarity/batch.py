"""`grader similarity`: compare the code of every student in a graded batch folder.

Reads each student's code cells (the entry file grading ran, else the executed notebook), the
instructor's starter notebook when given, and writes ``<out>/similarity.json`` for the class
index and the review page. Runs on demand, not inside `grader grade`: it needs the starter to be
meaningful, it looks at the whole class at once (a resumed or partial grading run would redo it
each time), and it never changes a grade.
"""
from __future__ import annotations

import logging
from pathlib import Path

from grader.errors import IntakeError
from grader.report.batch import student_folders
from grader.results import BatchResult, load_batch
from grader.review.sources import student_cells, student_entries
from grader_inside.notebook import read_cells
from grader.similarity.detect import Settings, code_text, find_similar
from grader.similarity.model import SimilarityReport, write_similarity

logger = logging.getLogger(__name__)


def batch_codes(out_dir: Path, batch: BatchResult) -> dict[str, str]:
    """Student -> their code cells as one text (empty when there is nothing to read)."""
    folders, entries = student_folders(out_dir), student_entries(out_dir)
    return {r.student: code_text(student_cells(out_dir, r.student, folders.get(r.student), entries))
            for r in batch.students}


def starter_code(path: Path) -> str:
    try:
        return code_text(read_cells(path))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise IntakeError(f"{path}: cannot read the starter notebook ({exc})") from None


def compare_batch(out_dir: Path, *, starter: Path | None = None, settings: Settings = Settings()) -> SimilarityReport:
    """Compare the batch in `out_dir` and write its similarity report there."""
    batch = load_batch(out_dir / "results.json")
    report = find_similar(batch_codes(out_dir, batch), starter=starter_code(starter) if starter else None,
                          starter_name=starter.name if starter else None,
                          sha256={r.student: r.sha256 for r in batch.students}, settings=settings)
    write_similarity(report, out_dir)
    logger.info("similarity: %d pairs among %d submissions", len(report.pairs), report.compared)
    return report
