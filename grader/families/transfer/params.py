"""The parameters of the transfer-learning checks (HW 3)."""
from __future__ import annotations

from pydantic import Field

from grader.rubric.params import Share, StrictParams


class TransferLayersParams(StrictParams):
    min_z: float = Field(default=5.0, gt=0)
    """Standard deviations above unrelated weights that the stem's likeness to a pretrained
    file must reach to count as starting from it."""


class TransferLearningParams(TransferLayersParams):
    min_accuracy: Share = 0.5


class TransferRetrainedParams(StrictParams):
    good_accuracy: Share = 0.9
    min_accuracy: Share = 0.5
