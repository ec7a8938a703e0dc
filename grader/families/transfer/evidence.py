"""HW 3 (transfer learning) on the grader's side: learning curves read as numbers (overfitting).

Nothing here imports torch: the comparisons with the pretrained files run inside the sandbox
(grader_inside/probes/transfer.py) and come back as plain JSON.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from grader.artifacts import CurveRun, LearningCurves


# -- learning curves ------------------------------------------------------------------------
@dataclass(frozen=True)
class Curves:
    """A training and a validation series of one metric, per epoch, from the student's run."""

    source: str  # where they came from: "history (Keras)", "variables train_losses/val_losses", "figure 3"
    metric: str  # loss | accuracy
    train: tuple[float, ...]
    val: tuple[float, ...]

    @property
    def lower_is_better(self) -> bool:
        return self.metric == "loss"


@dataclass(frozen=True)
class Overfitting:
    epochs: tuple[int, ...]  # 1-based epochs where validation got worse while training got better
    best_epoch: int  # 1-based epoch of the best validation value
    last_epoch: int
    worse_by: float  # last validation value against the best, relative (0.25 = 25 % worse)

    @property
    def flagged(self) -> bool:
        """Still overfitting at the end: validation kept getting worse after its best epoch."""
        return len(self.epochs) >= 2 and self.last_epoch > self.best_epoch and self.worse_by > 0.05


def overfitting(c: Curves) -> Overfitting:
    sign = 1.0 if c.lower_is_better else -1.0
    train = [sign * v for v in c.train]
    val = [sign * v for v in c.val]
    n = min(len(train), len(val))
    marked = tuple(e + 1 for e in range(1, n) if val[e] > val[e - 1] and train[e] < train[e - 1])
    finite = [(v, i) for i, v in enumerate(val[:n]) if math.isfinite(v)]
    if not finite:
        return Overfitting(marked, 0, n, 0.0)
    best, best_i = min(finite)
    last = val[n - 1]
    worse = (last - best) / abs(best) if best and math.isfinite(last) else 0.0
    return Overfitting(marked, best_i + 1, n, worse)


def curves_figure(curves: Curves, over: Overfitting, name: str = "learning_curves.png") -> LearningCurves:
    """Training and validation per epoch, the epochs with overfitting marked (drawn by the report)."""
    return LearningCurves(name, curves.source[:70], curves.metric, CurveRun(curves.train, curves.val, over.epochs),
                          over.best_epoch)
