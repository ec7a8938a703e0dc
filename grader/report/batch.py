"""Render everything for a graded batch: each student's report, the class index, the gradebook."""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path

from grader.families import all_families, hooks
from grader.i18n import localized, tr
from grader.report.gradebook import write_gradebook_csv
from grader.report.html import render_index, render_student_report
from grader.results import BatchResult
from grader.rubric.schema import Rubric, text
from grader.similarity.model import load_similarity

FOLDERS_FILE = ".folders.json"


def student_folders(out_dir: Path) -> dict[str, str]:
    """Student name -> report folder, as the grading run recorded it."""
    try:
        data = json.loads((out_dir / FOLDERS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def instructor_notices(out_dir: Path, lang: str, folders: dict[str, str] | None = None) -> list[str]:
    """What the instructor must fix once for the whole batch, read from the runs' records by each
    family that has such notices (HW 3: the pretrained weights files that students' code asked for
    and the --weights folder lacks). Shown above the class table and at the end of `grader grade`;
    each student's own report keeps its own message."""
    folders = student_folders(out_dir) if folders is None else folders
    return [notice for notices in hooks(all_families(), "notices") for notice in notices(out_dir, folders, lang)]


def check_titles(rubric: Rubric, lang: str) -> dict[str, str]:
    """The rubric's check titles in `lang`, for a report in another language than the grading's."""
    return {c.id: text(c.title, lang) for c in rubric.checks}


def render_class(batch: BatchResult, out_dir: Path, *, title: str, lang: str, check_ids: list[str] | None = None,
                 folders: dict[str, str] | None = None, bonus_ids: Collection[str] = (),
                 titles: Mapping[str, str] | None = None) -> Path:
    """The class pages alone: the index (with the batch's notices and similarity pairs) and the gradebook."""
    folders = student_folders(out_dir) if folders is None else folders
    render_index(batch, out_dir, title=title, lang=lang,
                 folder_of=lambda r: folders.get(r.student, r.student),
                 notices=instructor_notices(out_dir, lang, folders), similarity=load_similarity(out_dir),
                 bonus_ids=bonus_ids, titles=titles)
    write_gradebook_csv(batch, out_dir / "gradebook.csv", check_ids=check_ids)
    return out_dir / "index.html"


def summary_lines(batch: BatchResult, lang: str) -> list[str]:
    """The batch in a few terminal lines: the counts, then each submission that was not graded
    with the first line of its reason."""
    counts = {status: sum(1 for r in batch.students if r.status == status) for status in ("graded", "error", "timeout")}
    lines = [tr(lang, "cli.summary", total=len(batch.students), **counts)]
    for result in sorted(batch.students, key=lambda r: r.student):
        if result.status != "graded":
            why = localized(result.error, result.error_msg, lang).strip().splitlines()
            lines.append(tr(lang, "cli.not_graded", student=result.student,
                            status=tr(lang, f"report.submission_status.{result.status}"),
                            why=why[0] if why else "—"))
    return lines


def render_batch(batch: BatchResult, out_dir: Path, *, title: str, lang: str,
                 check_ids: list[str] | None = None, bonus_ids: Collection[str] = (),
                 titles: Mapping[str, str] | None = None) -> Path:
    """Every student's report, the class index and the gradebook; `bonus_ids`: the rubric's
    bonus checks (marked in the tables, their points explained next to the score); `titles`: the
    checks' titles in `lang` from the rubric (a batch graded in Russian re-rendered in English)."""
    folders = student_folders(out_dir)
    for result in batch.students:
        folder = out_dir / folders.get(result.student, result.student)
        render_student_report(result, folder, title=title, lang=lang, bonus_ids=bonus_ids, titles=titles)
    return render_class(batch, out_dir, title=title, lang=lang, check_ids=check_ids, folders=folders,
                        bonus_ids=bonus_ids, titles=titles)
