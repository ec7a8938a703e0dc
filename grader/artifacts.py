"""What every check takes and returns. Checks are pure: artifacts in, an Outcome out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from grader.i18n import Text
from grader.results import Flag
from grader_inside.notebook import Cell
from grader.run.runner import CellRecord


MANUAL_KEY = "manual"
"""The outcome that leaves the points to the instructor (grader/families/manual); the checks that
can hand a result to the instructor's review return it too."""
NOTHING_FOUND = frozenset({"missing", "model_missing", "too_few", "untrained", "no_prediction"})
"""Outcomes that mean the run showed nothing to grade: a report then says which cell failed first."""


@dataclass(frozen=True)
class Outcome:
    """A check's verdict: `key` selects the credit in the rubric (e.g. "ok", "partial")."""

    key: str
    message: str | Text  # a catalogue message; text from families not converted yet (see grader/i18n.py)
    metrics: dict[str, float] = field(default_factory=dict)
    figures: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()  # doubts for the instructor's review (the check's id is filled in)


@dataclass
class CheckContext:
    lang: str
    cells: list[Cell]  # the student's source (read as text, never executed here)
    run_cells: tuple[CellRecord, ...]
    probe: dict[str, Any]
    figures: list[dict[str, Any]]
    out_dir: Any  # the student's report folder (figures may be written there)
    memo: dict[str, Any] = field(default_factory=dict)  # per-submission cache between checks
    data: Any = None  # Task 2: grader.families.models.setup.ModelsSetup (hidden labels, baseline); None elsewhere


CheckFn = Callable[[CheckContext, dict[str, Any]], Outcome]
