"""The toy family's check: a pure function of what the probe found and the rubric's parameters."""
from __future__ import annotations

from typing import Any

from grader.artifacts import CheckContext, Outcome
from grader.families.toy import AnswerParams
from grader.i18n import msg


def check_answer(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    expected = AnswerParams.model_validate(params).expected
    found = ctx.probe.get("toy")
    if not isinstance(found, dict) or found.get("found") is not True:
        return Outcome("missing", msg("toy.answer", state="missing", expected=expected, value=0))
    value = found.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return Outcome("missing", msg("toy.answer", state="missing", expected=expected, value=0))
    state = "ok" if value == expected else "wrong"
    return Outcome(state, msg("toy.answer", state=state, expected=expected, value=value),
                   metrics={"answer": float(value)})
