"""Drawing the figures checks return as data (grader.artifacts: LineChart, Confusion,
RetrainCurves, LearningCurves) into a student's folder.

The pipeline calls `draw` after a check returned; the check itself never writes a file. Line
charts are SVG text (grader.report.svgplot, no matplotlib on Task 1's path); the confusion
matrices and learning curves are PNGs drawn with matplotlib's Agg backend, imported on the first
such figure only (a Task 1 batch never pays for it).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from grader.artifacts import Confusion, CurveRun, Figure, LearningCurves, LineChart, RetrainCurves
from grader.report.svgplot import Series, line_chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

logger = logging.getLogger(__name__)


def draw_all(figures: tuple[str | Figure, ...], folder: Path) -> tuple[str, ...]:
    """The check's figures as the paths its result names (relative to `folder`): files the run
    left are named as they are; figures as data are drawn into `folder` first. A figure that
    cannot be drawn is left out (a missing picture never costs points)."""
    out: list[str] = []
    for figure in figures:
        if isinstance(figure, str):
            out.append(figure)
            continue
        try:
            out.append(draw(figure, folder))
        except Exception:
            logger.exception("figure %s could not be drawn", figure.file)
    return tuple(out)


def draw(figure: Figure, folder: Path) -> str:
    """Write `figure` into `folder` under its file name; returns that name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / figure.file
    if isinstance(figure, LineChart):
        path.write_text(_svg(figure), encoding="utf-8")
    else:
        picture = _picture(figure)
        picture.tight_layout()
        picture.savefig(str(path))
    return figure.file


def _svg(chart: LineChart) -> str:
    return line_chart([Series(s.x, s.y, s.label, s.color, s.line, s.marker) for s in chart.series], chart.title)


def _picture(figure: Confusion | RetrainCurves | LearningCurves) -> MplFigure:
    if isinstance(figure, Confusion):
        return _confusion(figure)
    if isinstance(figure, RetrainCurves):
        return _retrain_curves(figure)
    return _learning_curves(figure)


def _new(width: float, height: float) -> tuple[MplFigure, Axes]:
    import matplotlib  # only for a PNG figure: Task 1's batches never import it

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), dpi=80)
    return fig, fig.add_subplot(1, 1, 1)


def _confusion(figure: Confusion) -> MplFigure:
    fig, ax = _new(4.6, 4.0)
    matrix = figure.matrix
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(figure.title, fontsize=9)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value > peak / 2 else "black")
    return fig


def _retrain_curves(figure: RetrainCurves) -> MplFigure:
    """Training and validation loss per epoch for every seed; overfitting epochs (validation
    loss rising while training loss falls) marked with red crosses."""
    fig, ax = _new(5.2, 3.4)
    for k, run in enumerate(figure.runs):
        first = k == 0
        epochs = range(1, len(run.train) + 1)
        ax.plot(epochs, run.train, color="tab:blue", alpha=0.7, label="train" if first else None)
        ax.plot(epochs, run.val, color="tab:orange", alpha=0.7, label="validation" if first else None)
        _mark_overfitting(ax, run, labelled=first)
    _finish_curves(ax, "loss", figure.title)
    return fig


def _learning_curves(figure: LearningCurves) -> MplFigure:
    """Training and validation per epoch, the epochs with overfitting marked."""
    fig, ax = _new(5.2, 3.4)
    run = figure.run
    ax.plot(range(1, len(run.train) + 1), run.train, color="tab:blue", marker=".", label="train")
    ax.plot(range(1, len(run.val) + 1), run.val, color="tab:orange", marker=".", label="validation")
    _mark_overfitting(ax, run, labelled=True)
    if 1 <= figure.best_epoch <= len(run.val):
        ax.axvline(figure.best_epoch, color="grey", linestyle=":", linewidth=1)
    _finish_curves(ax, figure.metric, figure.title)
    return fig


def _mark_overfitting(ax: Axes, run: CurveRun, labelled: bool) -> None:
    """Red crosses on the validation curve at the overfitting epochs (1-based) that it has."""
    marked = [e for e in run.overfit if 1 <= e <= len(run.val)]
    if marked:
        ax.scatter(marked, [run.val[e - 1] for e in marked], color="red", marker="x", zorder=3,
                   label="overfitting" if labelled else None)


def _finish_curves(ax: Axes, metric: str, title: str) -> None:
    """Integer epochs on the x axis, the metric on the y axis, the title and the legend."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
