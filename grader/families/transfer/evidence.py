"""HW 3 (transfer learning) on the grader's side: learning curves read as numbers (overfitting).

Nothing here imports torch: the comparisons with the pretrained files run inside the sandbox
(grader_inside/probes/transfer.py) and come back as plain JSON.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


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


def save_curves_figure(curves: Curves, over: Overfitting, folder: Path, name: str = "learning_curves.png") -> str:
    """Training and validation per epoch, the epochs with overfitting marked (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(5.2, 3.4), dpi=80)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(range(1, len(curves.train) + 1), curves.train, color="tab:blue", marker=".", label="train")
    ax.plot(range(1, len(curves.val) + 1), curves.val, color="tab:orange", marker=".", label="validation")
    marked = [e for e in over.epochs if 1 <= e <= len(curves.val)]
    if marked:
        ax.scatter(marked, [curves.val[e - 1] for e in marked], color="red", marker="x", zorder=3,
                   label="overfitting")
    if 1 <= over.best_epoch <= len(curves.val):
        ax.axvline(over.best_epoch, color="grey", linestyle=":", linewidth=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(curves.metric)
    ax.set_title(curves.source[:70], fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(folder / name))
    return name
