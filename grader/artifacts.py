"""What every check takes and returns. Checks are pure: one submission's `Artifacts` and the
check's params in, an `Outcome` out. A check reads no file and writes none.

The pipeline (grader.grading.check_one) builds the `Artifacts` once per submission from what the
run yielded: the student's cells, the run's cell records, the probe's records, the figures the
notebook drew, the batch's set-up, and the *records* the rubric's families declare
(`Family.records`: JSON and text files of the run's outbox, read here within a size budget).

A figure a check wants in the report is data in its `Outcome` (`LineChart`, `Confusion`,
`RetrainCurves`, `LearningCurves`), named with the file it should become; after the check
returns, the pipeline has the report draw it (grader.report.figures) into the student's folder.

This module imports neither the runner nor the report: the families' checks and the runner
import it.
"""
from __future__ import annotations

import logging
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grader import jsonbudget
from grader.family import BatchSetup
from grader.i18n import Text
from grader.results import Flag
from grader_inside.notebook import Cell

logger = logging.getLogger(__name__)

MANUAL_KEY = "manual"
"""The outcome that leaves the points to the instructor (grader/families/manual); the checks that
can hand a result to the instructor's review return it too."""
NOTHING_FOUND = frozenset({"missing", "model_missing", "too_few", "untrained", "no_prediction"})
"""Outcomes that mean the run showed nothing to grade: a report then says which cell failed first."""

RECORD_BYTES = jsonbudget.RECORD.max_bytes  # one record file at most
RECORDS_BYTES = jsonbudget.PROBE.max_bytes  # all of one submission's records together
MAX_RECORD_FILES = 200  # files one pattern may match (the models probe's predictions: a few per model)


@dataclass(frozen=True)
class CellRecord:
    """One cell of the run, as the harness recorded it (run.json)."""

    number: int
    status: str  # ok | error | timeout | died | skipped_deadline
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    duration_s: float = 0.0
    cpu_s: float = 0.0  # CPU the student's processes used in this cell
    limit: str = ""  # for a timeout: which limit stopped it: cpu | idle | wall
    limit_s: float = 0.0  # that limit, in seconds (CPU, idle wall time, or wall time)


# -- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Records:
    """Files of the student's folder that the rubric's families declared, as the pipeline read
    them: path (relative to the student's folder, e.g. "run/models/models.json") -> content.
    A file that is absent is not here; one the pipeline would not read (too large, not a regular
    file) is in `refused`, with why."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)

    def data(self, path: str) -> bytes | None:
        return self.files.get(path)

    def text(self, path: str) -> str | None:
        raw = self.files.get(path)
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def json(self, path: str, budget: jsonbudget.Budget = jsonbudget.RECORD) -> Any:
        """The file's JSON; None when there is no such file; ValueError when it is not JSON or
        is larger than `budget`."""
        raw = self.files.get(path)
        if raw is None:
            return None
        try:
            return jsonbudget.loads(raw.decode("utf-8"), budget, path)
        except jsonbudget.JsonBudgetError as exc:
            raise ValueError(str(exc)) from exc

    def under(self, folder: str) -> dict[str, bytes]:
        """The files directly in `folder`, by name."""
        prefix = folder.rstrip("/") + "/"
        return {p[len(prefix):]: b for p, b in self.files.items() if p.startswith(prefix) and "/" not in p[len(prefix):]}


def read_records(folder: Path, patterns: Iterable[str]) -> Records:
    """The files under `folder` that match `patterns` (paths relative to it; glob patterns such
    as "run/models/*.npy" allowed), each within RECORD_BYTES and all within RECORDS_BYTES; only
    regular files inside `folder` are read (a link or a FIFO a run left is refused)."""
    files: dict[str, bytes] = {}
    refused: dict[str, str] = {}
    total = 0
    root = folder.resolve()
    for pattern in dict.fromkeys(patterns):
        matches = sorted(folder.glob(pattern)) if any(ch in pattern for ch in "*?[") else [folder / pattern]
        for path in matches[:MAX_RECORD_FILES]:
            rel = path.relative_to(folder).as_posix()
            if rel in files or rel in refused or not (path.exists() or path.is_symlink()):
                continue
            why = _refusal(path, root, RECORDS_BYTES - total)
            if why is None:
                try:
                    files[rel] = path.read_bytes()
                    total += len(files[rel])
                    continue
                except OSError as exc:
                    why = f"unreadable ({exc.strerror or exc})"
            logger.warning("record %s of %s not read: %s", rel, folder, why)
            refused[rel] = why
    return Records(files, refused)


def _refusal(path: Path, root: Path, left: int) -> str | None:
    """Why the file at `path` is not read, or None when it may be."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not path.parent.resolve().is_relative_to(root):
        return "outside the student's folder"
    if info.st_size > RECORD_BYTES:
        return f"{info.st_size / jsonbudget.MIB:.1f} MB; the grader reads at most {RECORD_BYTES // jsonbudget.MIB} MB"
    if info.st_size > left:
        return "the submission's records are larger than the grader reads"
    return None


# -- figures as data --------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """One series of a line chart (grader.report.svgplot draws it)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    label: str
    color: str
    line: str | None = "solid"  # solid | dashed, or None for markers only
    marker: str | None = None  # o | x, or None for a line only


@dataclass(frozen=True)
class LineChart:
    """Series on shared axes (SVG): Task 1's steps beside the reference replay."""

    file: str  # its name in the student's folder, e.g. "steps_gd.svg"
    series: tuple[Line, ...]
    title: str = ""


@dataclass(frozen=True)
class Confusion:
    """A confusion matrix (PNG): rows true classes, columns predicted ones."""

    file: str
    matrix: tuple[tuple[int, ...], ...]
    title: str


@dataclass(frozen=True)
class CurveRun:
    """Training and validation values per epoch, with the epochs (1-based) marked as overfitting."""

    train: tuple[float, ...]
    val: tuple[float, ...]
    overfit: tuple[int, ...] = ()


@dataclass(frozen=True)
class RetrainCurves:
    """The loss curves of a model the grader retrained, one pair per seed (PNG)."""

    file: str
    title: str
    runs: tuple[CurveRun, ...]


@dataclass(frozen=True)
class LearningCurves:
    """The student's own training and validation curves of one metric, the best validation
    epoch marked (PNG)."""

    file: str
    title: str
    metric: str  # the y axis: loss | accuracy
    run: CurveRun
    best_epoch: int  # 1-based; 0 when none


Figure = LineChart | Confusion | RetrainCurves | LearningCurves


# -- what a check takes and returns -----------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A check's verdict: `key` selects the credit in the rubric (e.g. "ok", "partial")."""

    key: str
    message: str | Text  # a catalogue message; text from families not converted yet (see grader/i18n.py)
    metrics: dict[str, float] = field(default_factory=dict)
    figures: tuple[str | Figure, ...] = ()  # a file the run left ("run/fig_1.png"), or a figure to draw
    flags: tuple[Flag, ...] = ()  # doubts for the instructor's review (the check's id is filled in)


@dataclass(frozen=True)
class Artifacts:
    """Everything a check may know of one submission: what the student wrote and what the run
    yielded. Built once per submission by the pipeline; checks only read it."""

    lang: str
    cells: list[Cell]  # the student's source (read as text, never executed here)
    run_cells: tuple[CellRecord, ...] = ()
    probe: dict[str, Any] = field(default_factory=dict)  # the probes' records (probe.json)
    figures: list[dict[str, Any]] = field(default_factory=list)  # the notebook's figures (figures.json)
    setup: BatchSetup | None = None  # the batch's set-up (Task 2, HW 3: grader.families.models.setup.ModelsSetup)
    records: Records = field(default_factory=Records)  # the files the rubric's families declared
    # what checks derive from the above, computed once per submission (never an input of its own)
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)


CheckFn = Callable[[Artifacts, dict[str, Any]], Outcome]
