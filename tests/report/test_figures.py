"""The report draws the figures checks return as data: SVG line charts, PNG confusion matrices
and learning curves, each under the file name the check gave; one that cannot be drawn is left
out of the result, never a failed check."""
from __future__ import annotations

import math
from pathlib import Path

from grader.artifacts import Confusion, CurveRun, LearningCurves, Line, LineChart, RetrainCurves
from grader.report.figures import draw, draw_all

PNG = b"\x89PNG\r\n\x1a\n"


def test_each_kind_of_figure_is_drawn_under_its_name(tmp_path: Path) -> None:
    chart = LineChart("steps_gd.svg", (Line((0.0, 1.0, math.nan, 3.0), (1.0, 0.5, 0.2, 0.1), "steps", "#d62728", None, "o"),),
                      "Steps")
    matrix = Confusion("confusion_net.png", ((5, 1), (0, 4)), "net: 90.0%")
    seeds = RetrainCurves("curves_net.png", "net: retrained, 2 seed(s)",
                          (CurveRun((1.0, 0.5), (0.6, 0.7), (2,)), CurveRun((0.9, 0.4), (0.6, 0.5))))
    own = LearningCurves("learning_curves.png", "history (Keras)", "accuracy", CurveRun((0.5, 0.8, 0.9), (0.5, 0.7, 0.6), (3,)), 2)
    names = draw_all(("run/fig_1.png", chart, matrix, seeds, own), tmp_path / "anna")
    assert names == ("run/fig_1.png", "steps_gd.svg", "confusion_net.png", "curves_net.png", "learning_curves.png")
    assert (tmp_path / "anna" / "steps_gd.svg").read_text(encoding="utf-8").startswith("<svg")
    for name in names[2:]:
        assert (tmp_path / "anna" / name).read_bytes().startswith(PNG)


def test_a_figure_that_cannot_be_drawn_is_left_out(tmp_path: Path) -> None:
    broken = LineChart("broken.svg", (Line((0.0, 1.0), (1.0,), "one y for two x", "#000"),))
    assert draw_all((broken, Confusion("m.png", ((1,),), "m")), tmp_path) == ("m.png",)
    assert not (tmp_path / "broken.svg").exists()
    assert draw(LineChart("empty.svg", ()), tmp_path) == "empty.svg"
