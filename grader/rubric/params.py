"""The parameters each check kind takes from its rubric entry (`params:`), as strict schemas.

One model per set of parameters; `grader.rubric.kinds` says which kind takes which. Every model
forbids unknown keys, so `min_stpes: 30` is an error at loading instead of a silently ignored key.
Defaults are the ones the check functions fall back to (a test compares them with the code).
The apps stage (grader/apps/stage.py) reads the run budgets (`digits`, `*_timeout_s`, `files`)
from the app checks' parameters too; that is why they are declared here for those kinds.

It lives with the rubric, not with the checks, and imports no check: the loader validates every
rubric with it, and a check module imports its model from here (the checks' package imports the
sandbox and the runner, and the rubric package must load without them and without a cycle).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.apps.source import DEFAULT_NAMES
from grader.rubric.schema import Text

Share = Annotated[float, Field(ge=0, le=1)]
"""A share of the hidden split (accuracy 0..1)."""
Framework = Literal["any", "torch", "keras"]
Example = Literal["best", "mlp", "cnn"]
"""The course example's model to compare with: the best of them, or one by name
(reference/mnist.py `BASELINES`)."""


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Params):
    """The kind takes no parameters."""


# -- Task 1 ---------------------------------------------------------------------------------
class StepsParams(_Params):
    min_steps: int = Field(default=3, ge=1)
    """Fewer correct descent steps than this earn `too_few`."""


class PlotParams(_Params):
    min_points: int = Field(default=3, ge=1)
    """Steps that must be marked on the function's curve."""


# -- Task 2: the student's models -----------------------------------------------------------
class AccuracyParams(_Params):
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


class BeatsExampleParams(_Params):
    framework: Framework = "any"
    example: Example = "best"
    margin: float = Field(default=0.0, ge=0)
    """The least gap that counts as beating the example (the seeds' spread if larger)."""


class ConvolutionalParams(_Params):
    framework: Framework = "any"
    min_accuracy: Share = 0.5


class RetrainedParams(_Params):
    example: Example = "best"
    margin: float = Field(default=0.0, ge=0)


# -- notebook content -----------------------------------------------------------------------
class QuestionSpec(_Params):
    id: str = Field(min_length=1)
    text: Text  # as the course words it: one string, or {ru: ..., en: ...}
    keywords: list[str] = []
    aliases: list[str] = []
    min_words: int | None = Field(default=None, ge=1)


class AnswersParams(_Params):
    questions: list[QuestionSpec] = Field(min_length=1)
    min_words: int = Field(default=10, ge=1)


class ManualParams(_Params):
    look_for: list[str] = []
    """Word stems that find the markdown cells on the topic for the reviewer."""


# -- HW 3: transfer learning ----------------------------------------------------------------
class TransferLayersParams(_Params):
    min_z: float = Field(default=5.0, gt=0)
    """Standard deviations above unrelated weights that the stem's likeness to a pretrained
    file must reach to count as starting from it."""


class TransferLearningParams(TransferLayersParams):
    min_accuracy: Share = 0.5


class TransferRetrainedParams(_Params):
    good_accuracy: Share = 0.9
    min_accuracy: Share = 0.5


# -- Task 2 bonus: apps and Docker ----------------------------------------------------------
class AppRunParams(_Params):
    files: list[str] = Field(default=list(DEFAULT_NAMES), min_length=1)
    """Preferred file names of the app, in order."""
    digits: int = Field(default=100, gt=0)
    """Hidden digits sent to the app."""
    format_digits: int = Field(default=8, gt=0)
    """Validation digits used to find the app's input form."""
    startup_timeout_s: float = Field(default=60, gt=0)
    timeout_s: float = Field(default=150, gt=0)
    request_timeout_s: float = Field(default=10, gt=0)
    min_accuracy: Share = 0.5


class ComposeParams(_Params):
    docker_timeout_s: float = Field(default=900, gt=0)


class DockerParams(ComposeParams):
    target: Literal["web", "api"] = "web"
    """Which app the Dockerfile must serve."""
