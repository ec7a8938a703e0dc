"""Exports of a graded batch for the gradebooks instructors use. Reads result records only.

- ``gradebook``: ``<out>/gradebook.csv`` (see :mod:`grader.report.gradebook`).
- ``gradescope``: ``<out>/gradescope/<student>/results.json`` in Gradescope's autograder format
  (top-level ``score`` net of late penalties, ``tests[]`` of ``name``, ``score``, ``max_score``,
  ``status`` passed|failed, ``output``, ``visibility``; every text field is declared ``text``, so a
  traceback's ``<module>`` is shown, not eaten as HTML). Gradescope itself keeps ``hidden`` and
  ``after_due_date`` tests from students, so their messages stay in. The same record is what
  ``grader gradescope-run`` writes on Gradescope (:mod:`grader.gradescope`).
- ``moodle``: ``<out>/moodle_grades.csv`` for the assignment's "Upload grading worksheet"
  (offline grading worksheet feedback plugin). Moodle matches rows by the ``Identifier`` column
  (``Participant 12345``: the number in the download folder names), reads ``Grade`` and
  ``Last modified (grade)`` and the feedback plugin's column (``Feedback comments``), all by
  their exact titles in the uploading teacher's interface language (see ``MOODLE_HEADERS``);
  ``--moodle-lang`` picks English or Russian titles, and ``--moodle-worksheet`` fills the
  teacher's own downloaded worksheet instead, which keeps Moodle's exact titles. Moodle skips,
  without a word, a grade above the assignment's maximum: the rubric's ``moodle.bonus`` says
  whether bonus points are capped there or written whole (the teacher then raises the maximum);
  the export states which. Feedback is HTML (Moodle stores it so); hidden checks appear only as
  one total, without names or messages.

Every CSV cell passes through :func:`grader.report.gradebook.safe_cell` (no live formulas).
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
from typing import Any, Literal

from grader.i18n import localized, tr
from grader.report.batch import student_folders
from grader.report.gradebook import safe_row, write_gradebook_csv
from grader.report.html import format_number, note_texts, round_points, shown_points
from grader.results import BatchResult, SubmissionResult, write_json_atomic

logger = logging.getLogger(__name__)

EXPORT_KINDS = ("gradebook", "gradescope", "moodle")
GRADESCOPE_DIR = "gradescope"
GRADESCOPE_FILE = "results.json"
MOODLE_FILE = "moodle_grades.csv"
GRADESCOPE_VISIBILITY = {"visible": "visible", "hidden": "hidden", "after_due": "after_due_date"}
# Gradescope renders the top-level output as "simple_format" (HTML) unless told otherwise
# (gradescope/autograder_samples docs/specs.md, "Output String Formatting").
GRADESCOPE_TEXT = {"output_format": "text", "test_output_format": "text", "test_name_format": "text"}
MoodleBonus = Literal["cap", "above_max"]


@dataclass(frozen=True)
class MoodleHeaders:
    """Column titles and the participant prefix, as one Moodle language pack writes them."""

    identifier: str
    full_name: str
    grade: str
    modified: str
    feedback: str
    participant: str  # get_string('hiddenuser', 'assign'), the Identifier's prefix


# Moodle's importer (mod/assign/feedback/offline/importgradeslib.php, init() and next()) finds
# its columns by exact title: get_string('recordid', 'assign'), get_string('gradenoun'),
# get_string('lastmodifiedgrade', 'assign') and each feedback plugin's get_editor_fields()
# description, for comments get_string('pluginname', 'assignfeedback_comments')
# (mod/assign/feedback/comments/locallib.php); the participant number is what follows
# get_string('hiddenuser', 'assign'). The download (mod/assign/gradingtable.php) titles the name
# column get_string('fullname'). Strings checked in:
# - en: moodle/moodle mod/assign/lang/en/assign.php (recordid "Identifier", hiddenuser
#   "Participant ", lastmodifiedgrade "Last modified (grade)"), lang/en/moodle.php (gradenoun
#   "Grade", fullname "Full name"), mod/assign/feedback/comments/lang/en/assignfeedback_comments.php
#   (pluginname "Feedback comments");
# - ru: Moodle's Russian language pack (AMOS export, as mirrored in projectestac/odissea
#   html/langpacks/ru/): assign.php, version 4.1 (recordid "Идентификатор", hiddenuser "Участник",
#   lastmodifiedgrade "Последнее изменение (оценка)", maxgrade "Максимальная оценка"),
#   moodle.php, version 4.5 (gradenoun "Оценка", fullname "Полное имя"),
#   assignfeedback_comments.php, version 4.1 (pluginname "Отзыв в виде комментария"; the 2.4
#   pack's "Комментарии с отзывом" no longer matches, so Moodle dropped every comment).
MOODLE_HEADERS = {
    "en": MoodleHeaders("Identifier", "Full name", "Grade", "Last modified (grade)", "Feedback comments",
                        "Participant "),
    "ru": MoodleHeaders("Идентификатор", "Полное имя", "Оценка", "Последнее изменение (оценка)",
                        "Отзыв в виде комментария", "Участник"),
}
# Titles recognised in a teacher's own worksheet (older language packs included).
_GRADE_TITLES = {"grade", "оценка"}
_MODIFIED_TITLES = {"last modified (grade)", "последнее изменение (оценка)", "последнее изменение оценки"}
_FEEDBACK_TITLES = {"feedback comments", "отзыв в виде комментария", "комментарии с отзывом"}
_ID_TITLES = {"identifier", "идентификатор"}
_MAX_TITLES = {"maximum grade", "максимальная оценка"}
_PARTICIPANT = re.compile(r"(\d+)\s*$")


@dataclass(frozen=True)
class BonusPolicy:
    """What Moodle gets for a score above the maximum (the rubric's ``moodle.bonus``)."""

    mode: MoodleBonus = "cap"
    top_score: float | None = None  # the most a student can get: the maximum plus every bonus point


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote, and what the instructor must know (translated lines)."""

    paths: tuple[Path, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --- Gradescope ---------------------------------------------------------------------------------


def gradescope_result(result: SubmissionResult, lang: str) -> dict[str, Any]:
    """One student's Gradescope ``results.json``."""
    tests = [
        {
            "name": check.title,
            "score": round_points(check.points),
            "max_score": round_points(check.max_points),
            "status": "passed" if check.status == "pass" else "failed",
            "output": localized(check.message, check.msg, lang),
            "visibility": GRADESCOPE_VISIBILITY.get(check.visibility, "hidden"),
            "extra_data": {"check_id": check.id, "grader_status": check.status},
        }
        for check in result.checks
    ]
    lines = []
    if result.error:
        lines.append(tr(lang, "export.error", error=localized(result.error, result.error_msg, lang)))
    lines.extend(note_texts(result, lang))
    lines.extend(tr(lang, "report.cell_error", cell=e.cell, ename=e.ename, evalue=e.evalue) + "\n" + e.traceback
                 for e in result.cell_errors)
    return {
        "score": round_points(result.score),
        "execution_time": round(result.duration_s),
        "output": "\n\n".join(lines),
        **GRADESCOPE_TEXT,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": result.student, "status": result.status, "sha256": result.sha256,
            "max_score": result.max_score, "submitted_at": result.submitted_at,
            "late_days": result.late_days, "penalty": result.penalty, "sandbox": result.sandbox,
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


def moodle_feedback(result: SubmissionResult, lang: str, capped_at: float | None = None) -> str:
    """Student-visible HTML feedback: total, each shown check, one line for hidden checks;
    ``capped_at``: the grade Moodle got when the score with bonus was above it."""
    total = tr(lang, "export.total", points=round_points(result.score), max=round_points(result.max_score))
    parts = [f"<p>{html.escape(total)}</p>"]
    if capped_at is not None:
        parts.append(f"<p>{html.escape(tr(lang, 'export.bonus_capped', grade=round_points(capped_at)))}</p>")
    if result.error:
        error = localized(result.error, result.error_msg, lang)
        parts.append(f"<p>{html.escape(tr(lang, 'export.error', error=error))}</p>")
    shown = [c for c in result.checks if c.visibility != "hidden"]
    hidden = [c for c in result.checks if c.visibility == "hidden"]
    if shown:
        items = "".join(
            f"<li>{html.escape(c.title)}: {shown_points(c.points, lang)}/{shown_points(c.max_points, lang)}"
            f" — {html.escape(tr(lang, 'status.' + c.status))}. {html.escape(localized(c.message, c.msg, lang))}</li>"
            for c in shown
        )
        parts.append(f"<ul>{items}</ul>")
    if hidden:
        parts.append("<p>" + html.escape(tr(lang, "export.hidden_total",
                                            points=round_points(sum(c.points for c in hidden)),
                                            max=round_points(sum(c.max_points for c in hidden)))) + "</p>")
    parts.extend(f"<p>{html.escape(note)}</p>" for note in note_texts(result, lang))
    return "".join(parts)


def _moodle_number(value: float) -> str:
    return format_number(round_points(value), digits=2)


@dataclass(frozen=True)
class _MoodleRow:
    """What one student's row says: the grade Moodle gets and the feedback."""

    grade: str
    feedback: str
    capped: bool


def _moodle_row(result: SubmissionResult, lang: str, bonus: BonusPolicy, limit: float | None) -> _MoodleRow:
    """``limit``: the assignment's Maximum grade in Moodle when known (the teacher's worksheet),
    else the rubric's maximum."""
    top = result.max_score if limit is None else limit
    if bonus.mode == "cap" and round_points(result.score) > round_points(top):
        return _MoodleRow(_moodle_number(top), moodle_feedback(result, lang, capped_at=top), True)
    return _MoodleRow(_moodle_number(result.score), moodle_feedback(result, lang), False)


def _bonus_lines(results: Sequence[SubmissionResult], rows: dict[str, _MoodleRow], bonus: BonusPolicy,
                 limits: dict[str, float], lang: str) -> list[str]:
    """The rubric's bonus choice, said whenever bonus points exist, with the students it touched."""
    maximum = max((r.max_score for r in results), default=0.0)
    has_bonus = bonus.top_score is not None and round_points(bonus.top_score) > round_points(maximum)
    if bonus.mode == "cap":
        capped = [r.student for r in results if rows[r.student].capped]
        if not capped and not has_bonus:
            return []
        return [tr(lang, "export.moodle_bonus_cap", max=round_points(maximum), names=", ".join(capped) or "—")]
    above = [r for r in results
             if round_points(r.score) > round_points(limits.get(str(r.moodle_id), r.max_score))]
    if not above and not has_bonus:
        return []
    top = max([bonus.top_score or maximum, *(r.score for r in above)])
    return [tr(lang, "export.moodle_bonus_above", max=round_points(maximum), top=round_points(top),
               names=", ".join(r.student for r in above) or "—")]


def write_moodle_csv(batch: BatchResult, path: Path, *, lang: str, header_lang: str | None = None,
                     worksheet: Path | None = None, bonus: BonusPolicy = BonusPolicy()) -> ExportReport:
    """Write the Moodle grade import CSV; students without a participant number are left out."""
    with_id = [r for r in batch.students if r.moodle_id]
    warnings = []
    missing = [r.student for r in batch.students if not r.moodle_id]
    if missing:
        warnings.append(tr(lang, "export.no_moodle_id", names=", ".join(missing)))
    limits: dict[str, float] = {}
    if worksheet is not None:
        sheet = _read_worksheet(worksheet)
        limits = sheet.limits() if sheet is not None else {}
        rows = {r.student: _moodle_row(r, lang, bonus, limits.get(str(r.moodle_id))) for r in with_id}
        text, unmatched = _fill_worksheet(worksheet, sheet, with_id, rows, batch.graded_at)
        if unmatched:
            warnings.append(tr(lang, "export.not_in_worksheet", sheet=worksheet.name, names=", ".join(unmatched)))
    else:
        rows = {r.student: _moodle_row(r, lang, bonus, None) for r in with_id}
        text = _new_worksheet(with_id, rows, batch.graded_at, MOODLE_HEADERS[header_lang or lang])
    warnings.extend(_bonus_lines(with_id, rows, bonus, limits, lang))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    logger.info("wrote %s (%d rows)", path, len(with_id))
    return ExportReport((path,), tuple(warnings))


def _new_worksheet(results: Sequence[SubmissionResult], rows: dict[str, _MoodleRow], graded_at: str,
                   heads: MoodleHeaders) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(safe_row([heads.identifier, heads.full_name, heads.grade, heads.modified, heads.feedback]))
    for r in sorted(results, key=lambda r: int(r.moodle_id or 0)):
        row = rows[r.student]
        writer.writerow(safe_row([f"{heads.participant}{r.moodle_id}", r.student, row.grade, graded_at,
                                  row.feedback]))
    return buf.getvalue()


@dataclass(frozen=True)
class _Worksheet:
    """A teacher's worksheet as read: its dialect, rows (titles first) and the columns we use."""

    delimiter: str
    rows: list[list[str]]
    id_col: int
    grade_col: int
    modified_col: int | None
    feedback_col: int | None
    max_col: int | None

    def participant(self, row: list[str]) -> str | None:
        match = _PARTICIPANT.search(row[self.id_col]) if len(row) > self.id_col else None
        return match.group(1) if match else None

    def limits(self) -> dict[str, float]:
        """Participant number -> the assignment's Maximum grade in Moodle, where the sheet says."""
        out: dict[str, float] = {}
        if self.max_col is None:
            return out
        for row in self.rows[1:]:
            number = self.participant(row)
            cell = row[self.max_col].strip().replace(" ", "").replace(",", ".") if len(row) > self.max_col else ""
            try:
                if number is not None:
                    out[number] = float(cell)
            except ValueError:
                continue
        return out


def _read_worksheet(worksheet: Path) -> _Worksheet | None:
    source = worksheet.read_text(encoding="utf-8-sig")
    try:  # the delimiter only: the title line says nothing about quoting
        delimiter = csv.Sniffer().sniff(source.splitlines()[0] if source else "", delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(source), delimiter=delimiter))
    if not rows:
        return None
    titles = [h.strip().casefold() for h in rows[0]]

    def column(names: set[str]) -> int | None:
        return next((i for i, t in enumerate(titles) if t in names), None)

    id_col, grade_col = column(_ID_TITLES), column(_GRADE_TITLES)
    if id_col is None or grade_col is None:
        return None
    return _Worksheet(delimiter, rows, id_col, grade_col, column(_MODIFIED_TITLES),
                      column(_FEEDBACK_TITLES), column(_MAX_TITLES))


def _fill_worksheet(worksheet: Path, sheet: _Worksheet | None, results: Sequence[SubmissionResult],
                    rows: dict[str, _MoodleRow], graded_at: str) -> tuple[str, list[str]]:
    """The teacher's worksheet with Grade, Last modified (grade) and feedback filled in."""
    if sheet is None:
        return worksheet.read_text(encoding="utf-8-sig"), [r.student for r in results]
    by_id = {r.moodle_id: r for r in results}
    seen: set[str] = set()
    width = len(sheet.rows[0])
    out = [list(sheet.rows[0])]
    for source in sheet.rows[1:]:
        row = list(source)
        number = sheet.participant(row)
        result = by_id.get(number) if number else None
        if result is not None:
            seen.add(str(result.moodle_id))
            row.extend([""] * (width - len(row)))
            row[sheet.grade_col] = rows[result.student].grade
            if sheet.modified_col is not None:
                row[sheet.modified_col] = graded_at
            if sheet.feedback_col is not None:
                row[sheet.feedback_col] = rows[result.student].feedback
        out.append(row)
    buf = io.StringIO()
    csv.writer(buf, delimiter=sheet.delimiter, lineterminator="\n").writerows(safe_row(row) for row in out)
    return buf.getvalue(), [r.student for r in results if r.moodle_id not in seen]


# --- all of them --------------------------------------------------------------------------------


def write_exports(batch: BatchResult, out_dir: Path, kinds: Sequence[str], *, lang: str,
                  check_ids: Sequence[str] | None = None, moodle_lang: str | None = None,
                  moodle_worksheet: Path | None = None, bonus: BonusPolicy = BonusPolicy()) -> ExportReport:
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
                                worksheet=moodle_worksheet, bonus=bonus)
        paths.extend(done.paths)
        warnings.extend(done.warnings)
    return ExportReport(tuple(paths), tuple(warnings))
