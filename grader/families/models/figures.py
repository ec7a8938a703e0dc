"""The figures of a model's result, as data: its confusion matrix on the hidden split and the
learning curves of its retraining (grader.report.figures draws them as PNGs)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from grader.artifacts import Confusion, CurveRun, RetrainCurves
from grader.families.models.artifacts import RetrainRun
from grader.families.models.evaluate import ModelScore


def figure_name(model_name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name).strip("_") or "model"
    return f"confusion_{safe[:60]}.png"


def confusion(score: ModelScore, model_name: str, title: str) -> Confusion:
    return Confusion(figure_name(model_name), score.confusion, title)


def retrain_curves(runs: Sequence[RetrainRun], model_name: str) -> RetrainCurves:
    """Training and validation loss per epoch for every seed, overfitting epochs marked."""
    return RetrainCurves("curves_" + figure_name(model_name)[len("confusion_"):],
                         f"{model_name}: retrained, {len(runs)} seed(s)",
                         tuple(CurveRun(run.train_loss, run.val_loss, run.overfit_epochs) for run in runs))
