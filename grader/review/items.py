"""What the instructor reviews for one student, and what the review form says about it.

An item is a check to grade or confirm: a `manual` check (graded only by the instructor) or a
check some flag points at. It is done once the instructor's grade for it is in the overrides
file (the check carries a `review`). Flags on the whole submission are shown above the items;
the instructor answers them by overruling any check, listed below the items.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.families import family_of
from grader.i18n import tr
from grader.overrides import automatic
from grader.report.html import shown_points
from grader.results import CheckResult, Flag, SubmissionResult
from grader.rubric import Rubric
from grader_inside.notebook import Cell

MAX_COMMENT = 4000  # characters of one comment


@dataclass(frozen=True)
class Item:
    check: CheckResult
    flags: tuple[Flag, ...]  # flags raised about this check
    manual: bool  # graded only by the instructor
    cells: tuple[int, ...] = ()  # markdown cells on the topic (a manual check's `look_for`)

    @property
    def done(self) -> bool:
        return self.check.review is not None

    @property
    def auto(self) -> CheckResult:
        """The check as the grader left it."""
        return automatic(self.check)

    @property
    def points(self) -> str:
        """The instructor's points, as the score box shows them ("" when not graded yet)."""
        return f"{self.check.points:g}" if self.done else ""

    @property
    def comment(self) -> str:
        return self.check.review.comment if self.check.review is not None else ""


def is_manual(check: CheckResult) -> bool:
    return check.status == "manual" or (check.review is not None and check.review.auto_status == "manual")


def needs_review(check: CheckResult, result: SubmissionResult) -> bool:
    return is_manual(check) or any(f.check == check.id for f in result.flags)


def left_to_review(result: SubmissionResult) -> int:
    """Items of this student still without the instructor's grade."""
    return sum(1 for c in result.checks if needs_review(c, result) and c.review is None)


def _pointed(rubric: Rubric | None, check_id: str, cells: Sequence[Cell]) -> tuple[int, ...]:
    """The cells a reviewer is shown for the check, as its family finds them (none by default)."""
    try:
        spec = rubric.check(check_id) if rubric is not None else None
    except KeyError:
        return ()
    fam = family_of(spec.kind) if spec is not None else None
    find = fam.hook("review_cells") if fam is not None and cells else None
    return tuple(find(spec.params, cells)) if find is not None else ()


def review_items(result: SubmissionResult, rubric: Rubric | None,
                 cells: Sequence[Cell] = ()) -> tuple[list[Item], list[Item]]:
    """(items to review, the other checks) of one student, in rubric order."""
    to_review: list[Item] = []
    others: list[Item] = []
    for check in result.checks:
        flags = tuple(f for f in result.flags if f.check == check.id)
        item = Item(check, flags, is_manual(check), _pointed(rubric, check.id, cells))
        (to_review if needs_review(check, result) else others).append(item)
    return to_review, others


# -- the form ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """The instructor's word on one check: points (None: no grade, the grader's result stands)."""

    check: str
    points: float | None
    comment: str


def parse_points(raw: str) -> float:
    """Points as typed: "2", "2.5" or "2,5" (a Russian keyboard's decimal comma). ValueError if not."""
    value = float(raw.strip().replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def parse_decisions(form: Mapping[str, str], result: SubmissionResult,
                    lang: str) -> tuple[list[Decision], list[str]]:
    """The decisions in a submitted review form, and every problem with it (translated)."""
    decisions: list[Decision] = []
    problems: list[str] = []
    for check in result.checks:
        key = f"points:{check.id}"
        if key not in form:
            continue
        raw = str(form[key]).strip()
        comment = str(form.get(f"comment:{check.id}", "")).strip()
        if len(comment) > MAX_COMMENT:
            problems.append(tr(lang, "review.comment_too_long", check=check.title, limit=MAX_COMMENT))
            continue
        if not raw:
            if comment:
                problems.append(tr(lang, "review.points_missing", check=check.title))
            else:
                decisions.append(Decision(check.id, None, ""))
            continue
        try:
            points = parse_points(raw)
        except ValueError:
            problems.append(tr(lang, "review.points_not_number", check=check.title, value=raw[:40]))
            continue
        if points < 0 or points > check.max_points + 1e-9:
            problems.append(tr(lang, "review.points_out_of_range", check=check.title, value=raw[:40],
                               max_points=shown_points(check.max_points, lang)))
            continue
        decisions.append(Decision(check.id, round(points, 4), comment))
    return decisions, problems
