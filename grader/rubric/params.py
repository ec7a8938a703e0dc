"""The base of every check kind's parameters (`params:` of a rubric entry), as strict schemas.

Each family declares its kinds' models in its own `params.py` (grader/families/<name>/params.py);
every model forbids unknown keys, so `min_stpes: 30` is an error at loading instead of a silently
ignored key. Defaults are the ones the check functions fall back to (a test compares them with
the code).
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0, le=1)]
"""A share of the hidden split (accuracy 0..1)."""


class StrictParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrictParams):
    """The kind takes no parameters."""
