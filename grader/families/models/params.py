"""The parameters of the models checks (Task 2; HW 3's accuracy)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from grader.rubric.params import Share, StrictParams


Framework = Literal["any", "torch", "keras"]
Example = Literal["best", "mlp", "cnn"]
"""The course example's model to compare with: the best of them, or one by name
(reference/mnist.py `BASELINES`)."""


class AccuracyParams(StrictParams):
    framework: Framework = "any"
    example: Example = "cnn"
    good_gap: float = Field(default=0.02, ge=0)
    """`good` from the example's accuracy minus this gap."""
    good_accuracy: Share = 0.9
    """`good` from this accuracy when there is no example to compare with (HW 3)."""
    min_accuracy: Share = 0.5
    """Below this the model is `low`."""
    ceiling: float | None = Field(default=None, gt=0, le=1)
    """A hidden accuracy above this is flagged as implausible for the instructor's review."""


class BeatsExampleParams(StrictParams):
    framework: Framework = "any"
    example: Example = "best"
    margin: float = Field(default=0.0, ge=0)
    """The least gap that counts as beating the example (the seeds' spread if larger)."""


class ConvolutionalParams(StrictParams):
    framework: Framework = "any"
    min_accuracy: Share = 0.5


class RetrainedParams(StrictParams):
    example: Example = "best"
    margin: float = Field(default=0.0, ge=0)
