"""The confusion-matrix picture for a student's report (matplotlib, Agg, PNG)."""
from __future__ import annotations

import re
from pathlib import Path

from grader.models.evaluate import ModelScore


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
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
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
