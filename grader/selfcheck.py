"""The student's self-check: run only the checks a student may see, and print them as a table.

``grader check <notebook-or-folder> -a task1`` runs the rubric's ``visible`` checks (and its
``after_due`` ones once the deadline has passed) on the student's own machine. Hidden checks are
never run here: they are counted, with their points, but neither their names nor their messages
reach this output. Nothing is retrained (retraining is an instructor option of ``grade``).
Checks that need the instructor's data (the trained models scored on a hidden test split, the
apps fed hidden inputs: the families marked ``instructor_data``) cannot run here either: they
are named in one line that says why, and the rubric's ``{data.*}`` / ``{device}`` parameters,
which only the instructor's grading fills in, are left out of the student's run.
Bubblewrap is used when it works; otherwise the run falls back to a plain process and says so.
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from grader.families import datasets, family_of
from grader.errors import IntakeError
from grader.grading import GradeOptions, grade_one
from grader.i18n import error, tr
from grader.intake import discover
from grader.report.html import is_plain_sandbox, round_points, shown_points
from grader.results import CheckResult, SubmissionResult
from grader.rubric.schema import CheckSpec, Rubric, text
from grader.sandbox.detect import SandboxKind, get_sandbox

logger = logging.getLogger(__name__)

STATUS_COLOURS = {"pass": "green", "partial": "yellow", "fail": "red", "error": "red", "manual": "blue"}
MIN_MESSAGE_WIDTH = 28
_FILLED_BY_GRADING = re.compile(r"\{(?:data\.[^{}]+|device)\}")


def shown_to_students(visibility: str, due: datetime | None, now: datetime) -> bool:
    """Whether a check with this visibility may be shown to a student at ``now``.

    ``after_due`` is hidden before the deadline and visible from it on; a rubric without a
    deadline keeps it hidden (the safe side).
    """
    if visibility == "visible":
        return True
    if visibility == "after_due":
        return due is not None and now >= due
    return False


def split_checks(rubric: Rubric, now: datetime) -> tuple[list[CheckSpec], list[CheckSpec]]:
    """(checks shown to students now, checks kept hidden), each in rubric order."""
    shown = [c for c in rubric.checks if shown_to_students(c.visibility, rubric.due, now)]
    hidden = [c for c in rubric.checks if not shown_to_students(c.visibility, rubric.due, now)]
    return shown, hidden


def needs_instructor_data(spec: CheckSpec) -> bool:
    """Whether the check scores the student's models or apps on the instructor's data."""
    fam = family_of(spec.kind)
    return fam is not None and fam.instructor_data


def student_parameters(rubric: Rubric) -> dict[str, object]:
    """The rubric's parameters without those only grading fills in (data folders, device)."""
    return {k: v for k, v in rubric.parameters.items()
            if not (isinstance(v, str) and _FILLED_BY_GRADING.search(v))}


@dataclass(frozen=True)
class SelfCheck:
    """What a self-check found: the visible checks' results and a count of the hidden ones."""

    title: str
    result: SubmissionResult | None  # None when the rubric has no visible check (nothing ran)
    visible: tuple[CheckSpec, ...]
    hidden_count: int
    hidden_points: float
    after_due_count: int  # hidden now, shown after the deadline
    due: datetime | None
    sandbox: str
    duration_s: float
    not_run: tuple[CheckSpec, ...] = ()  # visible, but they need the instructor's data
    data_names: tuple[str, ...] = ()  # the rubric's datasets (afhq, mnist)

    @property
    def passed(self) -> bool:
        """True when the work ran and every required (non-bonus) visible check passed."""
        if self.result is None:
            return True
        if self.result.status != "graded":
            return False
        bonus = {c.id for c in self.visible if c.bonus}
        return all(c.status == "pass" for c in self.result.checks if c.id not in bonus)


def run_self_check(path: Path, rubric: Rubric, *, lang: str, sandbox: SandboxKind = "auto",
                   out_dir: Path | None = None, timeout_s: float | None = None,
                   now: datetime | None = None,
                   progress: Callable[[int, int], None] | None = None) -> SelfCheck:
    """Grade the notebook, script or folder at ``path`` with the visible checks of ``rubric``;
    ``progress(cell, cells)`` is called as each of its code cells starts.

    Raises ``GraderError`` when the grader itself cannot work (bad path, sandbox refused).
    """
    start = time.monotonic()
    now = now or datetime.now(timezone.utc)
    shown, hidden = split_checks(rubric, now)
    visible = [c for c in shown if not needs_instructor_data(c)]
    not_run = tuple(c for c in shown if needs_instructor_data(c))
    common = dict(title=text(rubric.title, lang), visible=tuple(visible), hidden_count=len(hidden),
                  not_run=not_run, data_names=datasets(rubric),
                  hidden_points=sum(c.points for c in hidden if not c.bonus),
                  after_due_count=sum(1 for c in hidden if c.visibility == "after_due"), due=rubric.due)
    if not visible:
        return SelfCheck(result=None, sandbox="", duration_s=time.monotonic() - start, **common)  # type: ignore[arg-type]
    box = get_sandbox(sandbox, fallback=True)  # the student's own code, on their own machine
    work = Path(tempfile.mkdtemp(prefix="grader-check-")) if out_dir is None else out_dir
    try:
        work.mkdir(parents=True, exist_ok=True)
        subs = discover(path, patterns=tuple(rubric.entry.patterns), unpack_dir=work / ".unpacked",
                        lang=lang, entry_hints=tuple(rubric.entry.hints), single=True)
        if len(subs) != 1:
            raise error(IntakeError, lang, "selfcheck.one_submission", path=str(path), count=len(subs))
        shown_rubric = rubric.model_copy(update={"checks": visible, "parameters": student_parameters(rubric)})
        options = GradeOptions(out_dir=work, lang=lang, workers=1, timeout_s=timeout_s, force=True)
        result = grade_one(subs[0], shown_rubric, box, work, lang, options, progress=progress)
    finally:
        if out_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return SelfCheck(result=result, sandbox=box.description, duration_s=time.monotonic() - start,
                     **common)  # type: ignore[arg-type]


# --- the terminal table ---------------------------------------------------------------------


def render(check: SelfCheck, lang: str, *, colour: bool, width: int = 100) -> str:
    """The self-check as plain text for a terminal; ANSI colours only when ``colour``."""

    def style(value: str, **kw: object) -> str:
        return click.style(value, **kw) if colour else value  # type: ignore[arg-type]

    lines = [style(tr(lang, "selfcheck.header", title=check.title), bold=True)]
    result = check.result
    if result is not None:
        lines.append(tr(lang, "selfcheck.file", file=result.submission))
        if is_plain_sandbox(check.sandbox):
            lines.append(style(tr(lang, "selfcheck.sandbox_plain"), fg="yellow"))
        lines.append("")
        if result.error:
            lines.append(style(tr(lang, "selfcheck.not_graded", error=result.error), fg="red"))
            lines.append("")
        lines.extend(_table(result.checks, check.visible, lang, style, width))
        lines.append("")
        earned = sum(c.points for c in result.checks)
        most = sum(c.points for c in check.visible if not c.bonus)
        lines.append(tr(lang, "selfcheck.visible_total", points=round_points(earned), max=round_points(most)))
        lines.extend(_details(result, lang, width))
    elif not check.not_run:
        lines.append(tr(lang, "selfcheck.no_visible"))
    if check.not_run:
        lines.extend(textwrap.wrap(_not_run_line(check, lang), width))
    if check.hidden_count:
        lines.append(tr(lang, "selfcheck.hidden", count=check.hidden_count,
                        points=round_points(check.hidden_points)))
        if check.after_due_count and check.due is not None:
            lines.append(tr(lang, "selfcheck.after_due", count=check.after_due_count,
                            due=check.due.isoformat(timespec="minutes")))
    lines.append(style(tr(lang, "selfcheck.may_differ"), bold=True))
    if result is not None:
        verdict = "selfcheck.all_pass" if check.passed else "selfcheck.some_fail"
        lines.append(style(tr(lang, verdict), fg="green" if check.passed else "red", bold=True))
    lines.append(tr(lang, "selfcheck.time", seconds=round(check.duration_s, 1)))
    return "\n".join(lines)


def _not_run_line(check: SelfCheck, lang: str) -> str:
    titles = "; ".join(text(c.title, lang) for c in check.not_run)
    points = round_points(sum(c.points for c in check.not_run if not c.bonus))
    data = ", ".join(check.data_names)
    key = "selfcheck.needs_data" if data else "selfcheck.needs_grading"
    return tr(lang, key, count=len(check.not_run), titles=titles, points=points, data=data)


def _table(results: Sequence[CheckResult], specs: Sequence[CheckSpec], lang: str, style,  # type: ignore[no-untyped-def]
           width: int) -> list[str]:
    bonus = {c.id for c in specs if c.bonus}
    heads = [tr(lang, "selfcheck.col.check"), tr(lang, "selfcheck.col.points"),
             tr(lang, "selfcheck.col.status"), tr(lang, "selfcheck.col.message")]
    rows = []
    for r in results:
        marked = r.id in bonus and not any(w in r.title.casefold() for w in ("bonus", "бонус"))
        title = r.title + (" " + tr(lang, "selfcheck.bonus") if marked else "")
        rows.append((title, f"{shown_points(r.points, lang)}/{shown_points(r.max_points, lang)}",
                     tr(lang, f"status.{r.status}"), r.status, r.message))
    w_title = min(max([len(heads[0])] + [len(r[0]) for r in rows]), max(16, width // 3))
    w_points = max([len(heads[1])] + [len(r[1]) for r in rows])
    w_status = max([len(heads[2])] + [len(r[2]) for r in rows])
    w_message = max(MIN_MESSAGE_WIDTH, width - w_title - w_points - w_status - 6)
    out = ["  ".join([style(heads[0].ljust(w_title), bold=True), style(heads[1].ljust(w_points), bold=True),
                      style(heads[2].ljust(w_status), bold=True), style(heads[3], bold=True)]),
           "  ".join(["─" * w_title, "─" * w_points, "─" * w_status, "─" * min(w_message, 40)])]
    for title, points, status_text, status, message in rows:
        titles = textwrap.wrap(title, w_title) or [""]
        messages = textwrap.wrap(" ".join(message.split()), w_message) or [""]
        for i in range(max(len(titles), len(messages))):
            cells = [(titles[i] if i < len(titles) else "").ljust(w_title),
                     (points if i == 0 else "").ljust(w_points),
                     (status_text if i == 0 else "").ljust(w_status),
                     messages[i] if i < len(messages) else ""]
            if i == 0:
                cells[2] = style(cells[2], fg=STATUS_COLOURS.get(status, "white"), bold=True)
            out.append("  ".join(cells).rstrip())
    return out


def _details(result: SubmissionResult, lang: str, width: int) -> list[str]:
    lines: list[str] = []
    if result.cell_errors:
        lines.append("")
        lines.append(tr(lang, "selfcheck.errors_heading"))
        for err in result.cell_errors[:5]:
            line = tr(lang, "selfcheck.cell_error", cell=err.cell, ename=err.ename, evalue=err.evalue)
            lines.append("  " + textwrap.shorten(line, width - 2, placeholder=" …"))
    if result.notes:
        lines.append("")
        lines.append(tr(lang, "selfcheck.notes_heading"))
        for note in result.notes:
            lines.extend(textwrap.wrap("- " + note, width, subsequent_indent="  "))
    lines.append("")
    return lines
