"""The report's own line charts (SVG text): parseable, scaled to the data, robust to bad values."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from grader.report.svgplot import Series, format_tick, line_chart, nice_ticks

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_markers_and_line_are_drawn_for_every_finite_point() -> None:
    grid = np.linspace(-2, 2, 50)
    steps = [1.5, 0.9, 0.5, 0.3]
    root = _parse(line_chart([Series(grid, grid**2, "f", "#444"),
                              Series(steps, [v**2 for v in steps], "steps", "red", None, "o")], "title"))
    assert len(root.findall(".//s:circle", NS)) == len(steps) + 1  # + the legend's sample
    lines = root.findall(".//s:polyline", NS)
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == grid.size
    assert root.find("s:title", NS).text == "title"


def test_points_are_placed_by_value() -> None:
    root = _parse(line_chart([Series([0.0, 1.0], [0.0, 1.0], "", "red", None, "o")]))
    (a, b) = [(float(c.get("cx")), float(c.get("cy"))) for c in root.findall(".//s:circle", NS)]
    assert b[0] > a[0] and b[1] < a[1]  # right of and above the first point (SVG's y grows down)


def test_missing_values_break_the_line_and_drop_markers() -> None:
    x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    y = [0.0, 1.0, math.nan, 3.0, math.inf, 1e300]
    root = _parse(line_chart([Series(x, y, "s", "blue", "solid", "x")]))
    assert len(root.findall(".//s:polyline", NS)) == 1  # [0, 1] is a line, [3] alone is not
    # crosses: 3 finite points, plus the legend's sample
    assert len([p for p in root.findall(".//s:path", NS)]) == 3 + 1


def test_nothing_drawable_still_gives_a_valid_picture() -> None:
    root = _parse(line_chart([Series([math.nan], [math.nan], "none", "red", None, "o")], "t"))
    assert root.tag.endswith("svg")


def test_labels_are_escaped() -> None:
    svg = line_chart([Series([0, 1], [0, 1], "f<x> & g", "red")], 'L(x) "<b>"')
    root = _parse(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "f<x> & g" in texts and 'L(x) "<b>"' in texts
    assert "<b>" not in svg


def test_legend_moves_away_from_the_data() -> None:
    # points crowd the top right: the legend goes to the top left
    x = np.linspace(0, 1, 30)
    root = _parse(line_chart([Series(x, x**4, "rising", "red", None, "o")]))
    legend = [r for r in root.findall("s:rect", NS) if r.get("fill-opacity")][0]
    assert float(legend.get("x")) < 100


@pytest.mark.parametrize(("lo", "hi", "count", "expected"), [
    (0.0, 1.0, 5, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (-2.4, 0.4, 6, [-2.0, -1.5, -1.0, -0.5, 0.0]),
    (-3.7, 12.2, 5, [0.0, 5.0, 10.0]),
    (0.0, 0.01, 4, [0.0, 0.0025, 0.005, 0.0075, 0.01]),
])
def test_nice_ticks(lo: float, hi: float, count: int, expected: list[float]) -> None:
    assert nice_ticks(lo, hi, count) == pytest.approx(expected)


def test_tick_labels() -> None:
    assert format_tick(0.25, 0.25) == "0.25"
    assert format_tick(-1.0, 0.5) == "−1.0"
    assert format_tick(10.0, 5.0) == "10"
    assert format_tick(0.0, 0.1) == "0"
    assert format_tick(2e6, 1e6) == "2e+06"
    assert format_tick(0.25, 0.25, ",") == "0,25" and format_tick(-1.5, 0.5, ",") == "−1,5"  # a Russian chart


def test_a_long_run_stays_a_small_picture() -> None:
    # 10 000 GD steps on x^2: almost all of them on the same few pixels at the minimum
    xs = [2.0]
    for _ in range(10_000):
        xs.append(xs[-1] - 0.001 * 2 * xs[-1])
    ys = [v * v for v in xs]
    svg = line_chart([Series(xs, ys, "ref", "green", "dashed", "x"), Series(xs, ys, "steps", "red", None, "o")])
    root = _parse(svg)
    assert len(svg) < 200_000
    circles = root.findall(".//s:circle", NS)
    assert 20 < len(circles) < 2_000
    # the first and the last step are still drawn
    cx = sorted(float(c.get("cx")) for c in circles)
    assert cx[0] < 80 and cx[-1] > 400
