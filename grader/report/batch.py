"""Render everything for a graded batch: each student's report, the class index, the gradebook."""
from __future__ import annotations

import json
from pathlib import Path

from grader.report.gradebook import write_gradebook_csv
from grader.report.html import render_index, render_student_report
from grader.results import BatchResult

FOLDERS_FILE = ".folders.json"


def student_folders(out_dir: Path) -> dict[str, str]:
    """Student name -> report folder, as the grading run recorded it."""
    try:
        data = json.loads((out_dir / FOLDERS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def render_batch(batch: BatchResult, out_dir: Path, *, title: str, lang: str,
                 check_ids: list[str] | None = None) -> Path:
    folders = student_folders(out_dir)
    for result in batch.students:
        folder = out_dir / folders.get(result.student, result.student)
        render_student_report(result, folder, title=title, lang=lang)
    render_index(batch, out_dir, title=title, lang=lang,
                 folder_of=lambda r: folders.get(r.student, r.student))
    write_gradebook_csv(batch, out_dir / "gradebook.csv", check_ids=check_ids)
    return out_dir / "index.html"
