"""What each check kind accepts from a rubric: its parameters and the outcome keys it can return.

    KINDS["gd.steps"].params     -> StepsParams (pydantic, unknown keys forbidden)
    KINDS["gd.steps"].outcomes   -> frozenset({"ok", "too_few", ...}): the keys `credit:` may name

One explicit table, the same kinds as `grader.checks.CHECKS` (a test keeps the two equal and reads
each check's source to keep the parameters and outcomes here in step with the code). The rubric
loader checks every `kind`, `params` and `credit` key against it, so a misspelt kind, parameter or
outcome is an error with a line number instead of a check that silently grades otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from grader.rubric.params import (
    AccuracyParams,
    AnswersParams,
    AppRunParams,
    BeatsExampleParams,
    ComposeParams,
    ConvolutionalParams,
    DockerParams,
    ManualParams,
    NoParams,
    PlotParams,
    RetrainedParams,
    StepsParams,
    TransferLayersParams,
    TransferLearningParams,
    TransferRetrainedParams,
)

MANUAL_KEY = "manual"
"""The outcome that leaves the points to the instructor (grader/checks/manual.py); the checks
that can hand a result to the instructor's review return it too."""


@dataclass(frozen=True)
class CheckKind:
    params: type[BaseModel]
    outcomes: frozenset[str]


def _kind(params: type[BaseModel], *outcomes: str) -> CheckKind:
    return CheckKind(params, frozenset(outcomes))


# Keys a check passes on from another check it consults are listed in full: transfer.overfitting
# returns notebook.curves' keys but "ok"; transfer.transfer_learning returns notebook.pretrained's
# for a Keras model. The models checks that score one model go to review (MANUAL_KEY) when a model
# was left out because the wall-clock backstop stopped its evaluation.
_CURVES = ("ok", "not_run", "train_only", "missing")
_PRETRAINED = ("ok", "offline", "not_run", "untrained", "not_pretrained", "missing")
_APP_RUN = ("ok", "low", "missing", "not_run", "start_failed", "old_gradio", "model_missing", "no_answer",
            "no_endpoint")
_DOCKER = ("ok", "not_verified", "failed", "problems", "missing")

KINDS: dict[str, CheckKind] = {
    "gd.function": _kind(NoParams, "ok", "simple", "missing"),
    "gd.gradient": _kind(NoParams, "ok", "wrong", "missing"),
    "gd.steps": _kind(StepsParams, "ok", "too_few", "wrong_gradient", "variable_lr", "momentum_only", "library",
                      "not_gd", "unverified", "missing"),
    "gd.plot": _kind(PlotParams, "ok", "no_steps", "wrong_function", "missing"),
    "gd.stop_rule": _kind(NoParams, "delta_f", "delta_x", "grad_norm", "not_converged", "diverged", "fixed_steps",
                          "missing"),
    "gd.momentum": _kind(NoParams, "ok", "library", "unverified", "missing"),
    "gd.nesterov": _kind(NoParams, "ok", "library", "current_point", "unverified", "missing"),
    "models.inventory": _kind(NoParams, "both", "torch_only", "keras_only", "missing"),
    "models.accuracy": _kind(AccuracyParams, "good", "fair", "low", "constant", "missing", MANUAL_KEY),
    "models.beats_example": _kind(BeatsExampleParams, "beats", "tie", "below", "constant", "missing", MANUAL_KEY),
    "models.convolutional": _kind(ConvolutionalParams, "ok", "untrained", "not_convolutional", "missing"),
    "models.retrained": _kind(RetrainedParams, "beats", "tie", "below", "failed", "not_run", "missing"),
    "notebook.augmentation": _kind(NoParams, "ok", "test_too", "not_run", "test_only", "unused", "missing"),
    "notebook.pretrained": _kind(NoParams, *_PRETRAINED),
    "notebook.curves": _kind(NoParams, *_CURVES),
    "notebook.save_load": _kind(NoParams, "ok", "no_prediction", "not_run", "save_only", "load_only", "missing"),
    "notebook.answers": _kind(AnswersParams, "ok", "most", "half", "few", "missing"),
    "manual": _kind(ManualParams, MANUAL_KEY),
    "transfer.transfer_learning": _kind(TransferLearningParams, "code_only", "custom", "weights_missing",
                                        *_PRETRAINED),
    "transfer.layers": _kind(TransferLayersParams, "frozen", "partial", "fine_tuned", "all_frozen", "no_backbone",
                             "missing"),
    "transfer.overfitting": _kind(NoParams, "overfit", "no_numbers", *_CURVES),
    "transfer.retrained": _kind(TransferRetrainedParams, "good", "fair", "low", "failed", "not_run", MANUAL_KEY),
    "app.web": _kind(AppRunParams, *_APP_RUN),
    "app.api": _kind(AppRunParams, "no_health", *_APP_RUN),
    "app.docker": _kind(DockerParams, *_DOCKER),
    "app.compose": _kind(ComposeParams, *_DOCKER),
}

__all__ = ["KINDS", "MANUAL_KEY", "CheckKind"]
