"""The parameters of the gradient-descent checks."""
from __future__ import annotations

from pydantic import Field

from grader.rubric.params import StrictParams


class StepsParams(StrictParams):
    min_steps: int = Field(default=3, ge=1)
    """Fewer correct descent steps than this earn `too_few`."""


class PlotParams(StrictParams):
    min_points: int = Field(default=3, ge=1)
    """Steps that must be marked on the function's curve."""
