"""Saving the instructor's review: the overrides file, the merged results, the re-rendered pages.

The overrides file is the one `grader report` reads (grader/overrides.py), so a grade given on
the review page and one typed into the file are the same thing. Each save rewrites the file with
this student's entries replaced, merges it into `results.json` exactly as `grader report` does,
and renders that student's report, the class index and the exports already in the folder.
"""
from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.overrides import Override, apply_overrides, check_overrides, find_overrides_file, load_overrides, \
    write_overrides
from grader.report.batch import check_titles, render_class, student_folders
from grader.report.exports import GRADESCOPE_DIR, MOODLE_FILE, write_exports
from grader.report.html import render_student_report
from grader.results import BatchResult, SubmissionResult, load_batch, write_json_atomic
from grader.review.items import Decision
from grader.rubric import Rubric, load_rubric
from grader.rubric.schema import text

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
NEW_OVERRIDES = Path("grades") / "overrides.yaml"


def default_overrides_path(out_dir: Path) -> Path:
    """The file `grader report` would read (current folder, then the batch's), else a new one in the batch."""
    return find_overrides_file(Path.cwd(), out_dir) or out_dir / NEW_OVERRIDES


def refresh_class(batch: BatchResult, out_dir: Path, rubric: Rubric, lang: str) -> list[str]:
    """Re-render the class index and gradebook, and the exports the folder already has (warnings)."""
    render_class(batch, out_dir, title=text(rubric.title, lang), lang=lang, check_ids=[c.id for c in rubric.checks],
                 titles=check_titles(rubric, lang))
    kinds = [k for k, there in (("gradescope", (out_dir / GRADESCOPE_DIR).is_dir()),
                                ("moodle", (out_dir / MOODLE_FILE).is_file())) if there]
    if not kinds:
        return []
    # Moodle: the file written last serves as the worksheet, so its titles and separator stay
    done = write_exports(batch, out_dir, kinds, lang=lang, check_ids=[c.id for c in rubric.checks],
                         moodle_worksheet=out_dir / MOODLE_FILE if "moodle" in kinds else None)
    return list(done.warnings)


@dataclass
class ReviewStore:
    """One batch under review. Saves are serialised: the server may run requests in threads."""

    out_dir: Path
    rubric: Rubric
    lang: str  # the reports' language
    overrides: Path

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._backed_up = False
        self._folders = student_folders(self.out_dir)  # fixed by grading; read once

    def batch(self) -> BatchResult:
        return load_batch(self.out_dir / RESULTS_FILE)

    def folders(self) -> dict[str, str]:
        return self._folders

    def folder_of(self, result: SubmissionResult) -> str:
        return self.folders().get(result.student, result.student)

    def entries(self, batch: BatchResult) -> dict[tuple[str, str], Override]:
        """The overrides file's entries, checked against the batch (OverridesError when it is invalid)."""
        if not self.overrides.is_file():
            return {}
        return check_overrides(load_overrides(self.overrides), batch, self.overrides, self.folders())

    def sync(self) -> BatchResult:
        """Merge the overrides file as it is now (edited by hand, perhaps) into the results and pages."""
        with self._lock:
            batch = self.batch()
            merged = apply_overrides(batch, self.entries(batch), self.lang)
            changed = [new.student for new, old in zip(merged.students, batch.students) if new != old]
            if changed:
                self._publish(merged, changed)
            return merged

    def save(self, student: str, decisions: Sequence[Decision]) -> BatchResult:
        """Replace `student`'s entries for the decided checks, then merge and re-render."""
        with self._lock:
            batch = self.batch()
            entries = self.entries(batch)
            for decision in decisions:
                key = (student, decision.check)
                old = entries.get(key)
                if decision.points is None:
                    entries.pop(key, None)
                elif old is None or (old.points, old.comment) != (decision.points, decision.comment):
                    entries[key] = Override(student, decision.check, decision.points, decision.comment, 0)
            self._backup()
            write_overrides(self.overrides, entries.values())
            merged = apply_overrides(batch, entries, self.lang)
            self._publish(merged, [student])
            logger.info("review saved for %s (%d decisions)", student, len(decisions))
            return merged

    def _backup(self) -> None:
        """Keep the file as it was before this session's first save (comments in it are not rewritten)."""
        if not self._backed_up and self.overrides.is_file():
            shutil.copy2(self.overrides, self.overrides.with_name(self.overrides.name + ".bak"))
        self._backed_up = True

    def _publish(self, batch: BatchResult, students: Sequence[str]) -> None:
        write_json_atomic(self.out_dir / RESULTS_FILE, batch.to_json())
        folders = self.folders()
        for result in batch.students:
            if result.student in students:
                render_student_report(result, self.out_dir / folders.get(result.student, result.student),
                                      title=text(self.rubric.title, self.lang), lang=self.lang,
                                      titles=check_titles(self.rubric, self.lang))
        for warning in refresh_class(batch, self.out_dir, self.rubric, self.lang):
            logger.warning("%s", warning)


def open_review(out_dir: Path, assignment: str | None = None, overrides: Path | None = None) -> ReviewStore:
    """The batch in `out_dir` ready for review, with the overrides file as it is now merged in."""
    batch = load_batch(out_dir / RESULTS_FILE)
    rubric = load_rubric(assignment or batch.assignment)
    lang = batch.students[0].lang if batch.students else rubric.lang
    store = ReviewStore(out_dir, rubric, lang, overrides or default_overrides_path(out_dir))
    store.sync()
    return store
