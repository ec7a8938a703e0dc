"""Exports of a graded batch for the gradebooks instructors use. Reads result records only.

- ``gradebook``: ``<out>/gradebook.csv`` (see :mod:`grader.report.gradebook`).
- ``gradescope``: ``<out>/gradescope/<student>/results.json`` in Gradescope's autograder format
  (top-level ``score`` net of late penalties, ``tests[]`` of ``name``, ``score``, ``max_score``,
  ``status`` passed|failed, ``output``, ``visibility``). Gradescope itself keeps ``hidden`` and
  ``after_due_date`` tests from students, so their messages stay in.
- ``moodle``: ``<out>/moodle_grades.csv`` for the assignment's "Upload grading worksheet"
  (offline grading worksheet feedback plugin). Moodle matches rows by the ``Identifier`` column
  (``Participant 12345``: the number in the download folder names), reads ``Grade`` and
  ``Last modified (grade)`` and the feedback plugin's column (``Feedback comments``), all by
  their titles in the uploading teacher's interface language; ``--moodle-lang`` picks English
  or Russian titles, and ``--moodle-worksheet`` fills the teacher's own downloaded worksheet
  instead, which keeps Moodle's exact titles. Feedback is HTML (Moodle stores it so); hidden
  checks appear only as one total, without names or messages.
"""
from __future__ import annotations

import csv
import html
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.i18n import tr
from grader.report.batch import student_folders
from grader.report.gradebook import write_gradebook_csv
from grader.report.html import format_number, format_points
from grader.results import BatchResult, SubmissionResult, write_json_atomic

logger = logging.getLogger(__name__)

EXPORT_KINDS = ("gradebook", "gradescope", "moodle")
GRADESCOPE_DIR = "gradescope"
GRADESCOPE_FILE = "results.json"
MOODLE_FILE = "moodle_grades.csv"
GRADESCOPE_VISIBILITY = {"visible": "visible", "hidden": "hidden", "after_due": "after_due_date"}


@dataclass(frozen=True)
class MoodleHeaders:
    """Column titles and the participant prefix, as one Moodle language pack writes them."""

    identifier: str
    full_name: str
    grade: str
    modified: str
    feedback: str
    participant: str  # get_string('hiddenuser', 'assign'), the Identifier's prefix


# Moodle's own strings: mod_assign recordid / hiddenuser / lastmodifiedgrade, core gradenoun and
# fullnameuser, assignfeedback_comments pluginname (en and ru language packs).
MOODLE_HEADERS = {
    "en": MoodleHeaders("Identifier", "Full name", "Grade", "Last modified (grade)", "Feedback comments",
                        "Participant "),
    "ru": MoodleHeaders("Идентификатор", "Полное имя", "Оценка", "Последнее изменение (оценка)",
                        "Комментарии с отзывом", "Участник"),
}
_GRADE_TITLES = {"grade", "оценка"}
_MODIFIED_TITLES = {"last modified (grade)", "последнее изменение (оценка)", "последнее изменение оценки"}
_FEEDBACK_TITLES = {"feedback comments", "комментарии с отзывом", "отзыв в виде комментария"}
_ID_TITLES = {"identifier", "идентификатор"}
_PARTICIPANT = re.compile(r"(\d+)\s*$")


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote, and the students it had to leave out (translated lines)."""

    paths: tuple[Path, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --- Gradescope ---------------------------------------------------------------------------------


def gradescope_result(result: SubmissionResult, lang: str) -> dict[str, Any]:
    """One student's Gradescope ``results.json``."""
    tests = [
        {
            "name": check.title,
            "score": round(check.points, 4),
            "max_score": round(check.max_points, 4),
            "status": "passed" if check.status == "pass" else "failed",
            "output": check.message,
            "visibility": GRADESCOPE_VISIBILITY.get(check.visibility, "hidden"),
            "extra_data": {"check_id": check.id, "grader_status": check.status},
        }
        for check in result.checks
    ]
    lines = []
    if result.error:
        lines.append(tr(lang, "export.error", error=result.error))
    lines.extend(f.message for f in result.flags)  # demo data, implausible accuracy ...: before the notes
    lines.extend(result.notes)
    return {
        "score": round(result.score, 4),
        "execution_time": round(result.duration_s),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": result.student, "status": result.status, "sha256": result.sha256,
            "max_score": result.max_score, "submitted_at": result.submitted_at,
            "late_days": result.late_days, "penalty": result.penalty,
            **({"flags": [f.to_json() for f in result.flags]} if result.flags else {}),
        },
    }


def write_gradescope(batch: BatchResult, out_dir: Path, folders: dict[str, str], lang: str) -> list[Path]:
    paths = []
    for result in batch.students:
        path = out_dir / GRADESCOPE_DIR / folders.get(result.student, result.student) / GRADESCOPE_FILE
        write_json_atomic(path, gradescope_result(result, lang))
        paths.append(path)
    return paths


# --- Moodle -------------------------------------------------------------------------------------


def moodle_feedback(result: SubmissionResult, lang: str) -> str:
    """Student-visible HTML feedback: total, each shown check, one line for hidden checks."""
    parts = [f"<p>{html.escape(tr(lang, 'export.total', points=format_points(result.score), max=format_points(result.max_score)))}</p>"]
    if result.error:
        parts.append(f"<p>{html.escape(tr(lang, 'export.error', error=result.error))}</p>")
    shown = [c for c in result.checks if c.visibility != "hidden"]
    hidden = [c for c in result.checks if c.visibility == "hidden"]
    if shown:
        items = "".join(
            f"<li>{html.escape(c.title)}: {format_points(c.points)}/{format_points(c.max_points)}"
            f" — {html.escape(tr(lang, 'status.' + c.status))}. {html.escape(c.message)}</li>"
            for c in shown
        )
        parts.append(f"<ul>{items}</ul>")
    if hidden:
        parts.append("<p>" + html.escape(tr(lang, "export.hidden_total",
                                            points=format_points(sum(c.points for c in hidden)),
                                            max=format_points(sum(c.max_points for c in hidden)))) + "</p>")
    parts.extend(f"<p>{html.escape(flag.message)}</p>" for flag in result.flags)
    parts.extend(f"<p>{html.escape(note)}</p>" for note in result.notes)
    return "".join(parts)


def _moodle_grade(result: SubmissionResult) -> str:
    return format_number(round(result.score, 2), digits=2)


def write_moodle_csv(batch: BatchResult, path: Path, *, lang: str, header_lang: str | None = None,
                     worksheet: Path | None = None) -> ExportReport:
    """Write the Moodle grade import CSV; students without a participant number are left out."""
    with_id = [r for r in batch.students if r.moodle_id]
    warnings = []
    missing = [r.student for r in batch.students if not r.moodle_id]
    if missing:
        warnings.append(tr(lang, "export.no_moodle_id", names=", ".join(missing)))
    if worksheet is not None:
        text, unmatched = _fill_worksheet(worksheet, with_id, batch.graded_at, lang)
        if unmatched:
            warnings.append(tr(lang, "export.not_in_worksheet", sheet=worksheet.name, names=", ".join(unmatched)))
    else:
        text = _new_worksheet(with_id, batch.graded_at, MOODLE_HEADERS[header_lang or lang], lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    logger.info("wrote %s (%d rows)", path, len(with_id))
    return ExportReport((path,), tuple(warnings))


def _new_worksheet(results: Sequence[SubmissionResult], graded_at: str, heads: MoodleHeaders, lang: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([heads.identifier, heads.full_name, heads.grade, heads.modified, heads.feedback])
    for r in sorted(results, key=lambda r: int(r.moodle_id or 0)):
        writer.writerow([f"{heads.participant}{r.moodle_id}", r.student, _moodle_grade(r), graded_at,
                         moodle_feedback(r, lang)])
    return buf.getvalue()


def _fill_worksheet(worksheet: Path, results: Sequence[SubmissionResult], graded_at: str,
                    lang: str) -> tuple[str, list[str]]:
    """The teacher's worksheet with Grade, Last modified (grade) and feedback filled in."""
    source = worksheet.read_text(encoding="utf-8-sig")
    try:
        dialect: Any = csv.Sniffer().sniff(source.splitlines()[0] if source else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(source), dialect))
    if not rows:
        return source, [r.student for r in results]
    titles = [h.strip().casefold() for h in rows[0]]

    def column(names: set[str]) -> int | None:
        return next((i for i, t in enumerate(titles) if t in names), None)

    id_col, grade_col = column(_ID_TITLES), column(_GRADE_TITLES)
    modified_col, feedback_col = column(_MODIFIED_TITLES), column(_FEEDBACK_TITLES)
    if id_col is None or grade_col is None:
        return source, [r.student for r in results]
    by_id = {r.moodle_id: r for r in results}
    seen: set[str] = set()
    for row in rows[1:]:
        match = _PARTICIPANT.search(row[id_col]) if len(row) > id_col else None
        result = by_id.get(match.group(1)) if match else None
        if result is None:
            continue
        seen.add(str(result.moodle_id))
        row.extend([""] * (len(titles) - len(row)))
        row[grade_col] = _moodle_grade(result)
        if modified_col is not None:
            row[modified_col] = graded_at
        if feedback_col is not None:
            row[feedback_col] = moodle_feedback(result, lang)
    buf = io.StringIO()
    csv.writer(buf, delimiter=dialect.delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue(), [r.student for r in results if r.moodle_id not in seen]


# --- all of them --------------------------------------------------------------------------------


def write_exports(batch: BatchResult, out_dir: Path, kinds: Sequence[str], *, lang: str,
                  check_ids: Sequence[str] | None = None, moodle_lang: str | None = None,
                  moodle_worksheet: Path | None = None) -> ExportReport:
    """Write the exports named in ``kinds`` (``EXPORT_KINDS``) for the batch in ``out_dir``."""
    unknown = [k for k in kinds if k not in EXPORT_KINDS]
    if unknown:
        raise ValueError(f"unknown export {', '.join(unknown)} (known: {', '.join(EXPORT_KINDS)})")
    paths: list[Path] = []
    warnings: list[str] = []
    if "gradebook" in kinds:
        paths.append(write_gradebook_csv(batch, out_dir / "gradebook.csv", check_ids=check_ids))
    if "gradescope" in kinds:
        paths.extend(write_gradescope(batch, out_dir, student_folders(out_dir), lang))
    if "moodle" in kinds:
        done = write_moodle_csv(batch, out_dir / MOODLE_FILE, lang=lang, header_lang=moodle_lang,
                                worksheet=moodle_worksheet)
        paths.extend(done.paths)
        warnings.extend(done.warnings)
    return ExportReport(tuple(paths), tuple(warnings))
