"""The confusion-matrix picture for a student's report (matplotlib, Agg, PNG)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from grader.families.models.artifacts import RetrainRun
from grader.families.models.evaluate import ModelScore


def figure_name(model_name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name).strip("_") or "model"
    return f"confusion_{safe[:60]}.png"


def save_confusion(score: ModelScore, model_name: str, title: str, folder: Path) -> str:
    """Write the picture into `folder`; returns its file name (relative to `folder`)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 4.0), dpi=80)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(score.confusion, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(score.confusion)))
    ax.set_yticks(range(len(score.confusion)))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    peak = max(max(row) for row in score.confusion) or 1
    for i, row in enumerate(score.confusion):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value > peak / 2 else "black")
    fig.tight_layout()
    name = figure_name(model_name)
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(folder / name))
    return name


def save_learning_curves(runs: Sequence[RetrainRun], model_name: str, folder: Path) -> str:
    """Training and validation loss per epoch for every seed; overfitting epochs (validation
    loss rising while training loss falls) marked with red crosses."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 3.4), dpi=80)
    ax = fig.add_subplot(1, 1, 1)
    for run in runs:
        epochs = range(1, len(run.train_loss) + 1)
        ax.plot(epochs, run.train_loss, color="tab:blue", alpha=0.7, label="train" if run is runs[0] else None)
        ax.plot(epochs, run.val_loss, color="tab:orange", alpha=0.7, label="validation" if run is runs[0] else None)
        marked = [e for e in run.overfit_epochs if 1 <= e <= len(run.val_loss)]
        ax.scatter(marked, [run.val_loss[e - 1] for e in marked], color="red", marker="x", zorder=3,
                   label="overfitting" if marked and run is runs[0] else None)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"{model_name}: retrained, {len(runs)} seed(s)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    name = "curves_" + figure_name(model_name)[len("confusion_"):]
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(folder / name))
    return name
