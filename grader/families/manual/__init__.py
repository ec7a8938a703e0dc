"""Checks left to the instructor: no automatic points; the review page shows the cells on the
topic (found by the rubric's `look_for` stems)."""
from __future__ import annotations

from grader.artifacts import MANUAL_KEY
from grader.family import CheckKind, Family
from grader.families.manual.params import ManualParams

FAMILY = Family(
    name="manual",
    package=__name__,
    kinds={"manual": CheckKind("checks:check_manual", ManualParams, frozenset({MANUAL_KEY}))},
    review_cells="checks:review_cells",
)
