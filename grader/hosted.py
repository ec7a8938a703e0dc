"""Grading one student's folder where a hosted service runs the grader: GitHub Classroom
(:mod:`grader.classroom`) and Gradescope (:mod:`grader.gradescope`).

Both hand the grader exactly one piece of work (a repository checkout, an upload folder); the
service decides who the student is. Late penalties follow the rubric with the time the caller
gives (Gradescope's submission time) or, without one, the time found in the folder (a git
clone's last commit; see :mod:`grader.late`).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from grader.errors import IntakeError
from grader.grading import GradeOptions, grade_one
from grader.i18n import error
from grader.intake import discover
from grader.late import SubmissionClock, SubmissionTime
from grader.results import SubmissionResult
from grader.rubric.schema import Rubric
from grader.sandbox.detect import SandboxKind, get_sandbox


def grade_folder(folder: Path, rubric: Rubric, *, lang: str, sandbox: SandboxKind = "auto",
                 out_dir: Path | None = None, submitted: SubmissionTime | None = None) -> SubmissionResult:
    """Grade the one piece of work in ``folder``; the run's files go to ``out_dir`` (kept) or
    to a temporary folder (removed). Raises GraderError when there is nothing to grade."""
    work = Path(tempfile.mkdtemp(prefix="grader-one-")) if out_dir is None else out_dir
    work.mkdir(parents=True, exist_ok=True)
    try:
        subs = discover(folder, patterns=tuple(rubric.entry.patterns), unpack_dir=work / ".unpacked",
                        lang=lang, entry_hints=tuple(rubric.entry.hints), single=True)
        if len(subs) != 1:
            raise error(IntakeError, lang, "selfcheck.one_submission", path=str(folder), count=len(subs))
        sub = subs[0]
        when = submitted
        if when is None and rubric.due is not None:
            when = SubmissionClock(zone=rubric.due.tzinfo).time_of(sub, lang)
        # the student's own repository (Classroom) or a container of its own (Gradescope): no other
        # student's work is there, so where bubblewrap cannot run the plain process may, and says so
        return grade_one(sub, rubric, get_sandbox(sandbox, fallback=True), work, lang,
                         GradeOptions(out_dir=work, lang=lang, force=True), when=when)
    finally:
        if out_dir is None:
            shutil.rmtree(work, ignore_errors=True)
