"""Manual checks: items the instructor grades by reading (quality of answers, conclusions).

The check awards nothing by itself: its outcome key `manual` gives the result the status
"manual" ("awaiting review") until an overrides file (grader/overrides.py) supplies the points.
To save the reviewer a search it points at the markdown cells on the topic, found by the words
in `params.look_for` (stems, e.g. ["вывод", "заключен", "conclusion"]).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grader.artifacts import CheckContext, Outcome
from grader.families.notebook.answers import normalise, validate_params, words
from grader.i18n import joined, msg
from grader.artifacts import MANUAL_KEY
from grader.families.manual.params import ManualParams
from grader_inside.notebook import Cell

MAX_POINTERS = 5


def check_manual(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    spec = validate_params(ManualParams, params, "manual")
    if not spec.look_for:
        return Outcome(MANUAL_KEY, msg("manual.awaiting"))
    hits = topic_cells(ctx.cells, spec.look_for)
    if not hits:
        return Outcome(MANUAL_KEY, msg("manual.nothing_found", words=", ".join(spec.look_for)))
    cells = joined([msg("manual.pointer_cell", cell=n, words=w) for n, w in hits[:MAX_POINTERS]])
    return Outcome(MANUAL_KEY, msg("manual.pointers", cells=cells),
                   metrics={"words": float(max(w for _, w in hits))})


def topic_cells(cells: Sequence[Cell], look_for: Sequence[str]) -> list[tuple[int, int]]:
    """(markdown cell number, words in its section) of each markdown cell naming one of the stems
    in `look_for`; the review page points at the same cells."""
    wanted = [normalise(w) for w in look_for if w.strip()]
    hits = []
    for i, cell in enumerate(cells):
        if cell.kind != "markdown" or not any(w in normalise(cell.source) for w in wanted):
            continue
        # a heading cell ("## Выводы") is followed by the text itself: count the cells up to the next code cell
        text = cell.source
        for nxt in cells[i + 1:]:
            if nxt.kind != "markdown":
                break
            text += "\n" + nxt.source
        hits.append((cell.number, len(words(text))))
    return hits


def review_cells(params: Mapping[str, Any], cells: Sequence[Cell]) -> list[int]:
    """The markdown cells on the check's topic (its `look_for` stems), for the review page."""
    words = params.get("look_for")
    return [n for n, _ in topic_cells(cells, [str(w) for w in words])] if isinstance(words, list) else []
