"""Task 1 analysis and checks on canned artifacts (no kernel)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from grader.i18n import text_of
from grader.artifacts import CheckContext
from grader.families import CHECKS
from grader.families.gd.analysis import analyse, quantum
from grader.families.gd.stoprule import Roles, loop_rules
from grader_inside.notebook import Cell
from reference import gd as ref


def f(x: float) -> float:
    return 3 * x**2 - math.sin(x) + math.exp(x) - 5


def df(x: float) -> float:
    return 6 * x - math.cos(x) + math.exp(x)


def wrong_df(x: float) -> float:
    return 6 * x + math.cos(x) + math.exp(x)


def _probe(funcs: dict, sequences: list[list[float]], lo: float = -3, hi: float = 3) -> dict:
    xs = [v for s in sequences for v in s]
    points = np.unique(np.concatenate([np.linspace(lo, hi, 1601), np.array(xs, dtype=float)]))
    functions = []
    for i, (name, fn) in enumerate(funcs.items()):
        h = 1e-6
        functions.append({"id": f"fn{i}", "name": name, "origin": "callable", "source": None,
                          "values": [fn(p) for p in points],
                          "derivs": [(fn(p + h) - fn(p - h)) / (2 * h) for p in points]})
    seqs = [{"id": f"sq{i}", "origin": "trace", "name": "x", "scope": "<module>", "cell": i + 1,
             "values": s, "order": i} for i, s in enumerate(sequences)]
    return {"gd": {"points": points.tolist(), "functions": functions, "sequences": seqs,
                   "calls": [], "scalars": {}}}


def _ctx(probe: dict, tmp_path: Path, figures: list | None = None, cells: list | None = None) -> CheckContext:
    return CheckContext(lang="en", cells=cells or [], run_cells=(), probe=probe,
                        figures=figures or [], out_dir=tmp_path)


def _heavy_ball(x0: float, lr: float, b: float, n: int, form: str) -> list[float]:
    xs, v = [x0], 0.0
    for _ in range(n):
        x = xs[-1]
        if form == "plus":        # v = b*v + lr*g; x -= v
            v = b * v + lr * df(x)
            xs.append(x - v)
        elif form == "minus":     # v = b*v - lr*g; x += v
            v = b * v - lr * df(x)
            xs.append(x + v)
        elif form == "averaged":  # v = b*v + (1-b)*g; x -= lr*v
            v = b * v + (1 - b) * df(x)
            xs.append(x - lr * v)
        elif form == "nesterov":  # gradient at the look-ahead point x - b*v
            v = b * v + lr * df(x - b * v)
            xs.append(x - v)
        elif form == "nesterov_w":  # v = mu*v - lr*g(w + mu*v); w += v
            v = b * v - lr * df(x + b * v)
            xs.append(x + v)
    return xs


def test_plain_gd_steps_are_verified(tmp_path: Path) -> None:
    seq = ref.run_gd(df, 1.5, 0.05, 6)
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path)
    out = CHECKS["gd.steps"](ctx, {"min_steps": 3})
    assert out.key == "ok"
    assert out.metrics["lr"] == pytest.approx(0.05, rel=1e-4)
    assert CHECKS["gd.gradient"](ctx, {}).key == "ok"
    assert CHECKS["gd.function"](ctx, {}).key == "ok"
    assert CHECKS["gd.momentum"](ctx, {}).key == "missing"


def test_steps_figure_shows_the_student_steps_beside_the_reference(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    seq = ref.run_gd(df, 1.5, 0.05, 6)
    out = CHECKS["gd.steps"](_ctx(_probe({"f": f, "df": df}, [seq]), tmp_path), {"min_steps": 3})
    assert out.figures == ("steps_gd.svg",)
    root = ET.parse(tmp_path / "steps_gd.svg").getroot()
    svg = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{svg}circle")) == len(seq) + 1  # the student's points + legend
    assert len(root.findall(f".//{svg}path")) == len(seq) + 1  # the reference's crosses + legend
    assert [t.text for t in root.iter(f"{svg}text")][-3:] == ["f", "reference", "student's steps"]


def test_two_steps_are_too_few(tmp_path: Path) -> None:
    ctx = _ctx(_probe({"f": f, "df": df}, [ref.run_gd(df, 1.5, 0.05, 2)]), tmp_path)
    assert CHECKS["gd.steps"](ctx, {"min_steps": 3}).key == "too_few"


def test_rounded_steps_match_with_tolerance(tmp_path: Path) -> None:
    xs = [1.5]
    for _ in range(8):
        xs.append(round(xs[-1] - 0.05 * df(xs[-1]), 3))
    assert quantum(np.array(xs)) == pytest.approx(1e-3)
    ctx = _ctx(_probe({"f": f, "df": df}, [xs]), tmp_path)
    assert CHECKS["gd.steps"](ctx, {}).key == "ok"


@pytest.mark.parametrize("form", ["plus", "minus", "averaged"])
def test_momentum_forms_are_accepted(form: str, tmp_path: Path) -> None:
    ctx = _ctx(_probe({"f": f, "df": df}, [_heavy_ball(1.5, 0.02, 0.8, 30, form)]), tmp_path)
    out = CHECKS["gd.momentum"](ctx, {})
    assert out.key == "ok"
    assert out.metrics["beta"] == pytest.approx(0.8, abs=1e-3)
    assert CHECKS["gd.nesterov"](ctx, {}).key == "missing"


@pytest.mark.parametrize("form", ["nesterov", "nesterov_w"])
def test_nesterov_forms_are_accepted(form: str, tmp_path: Path) -> None:
    ctx = _ctx(_probe({"f": f, "df": df}, [_heavy_ball(1.5, 0.02, 0.8, 30, form)]), tmp_path)
    assert CHECKS["gd.nesterov"](ctx, {}).key == "ok"
    assert CHECKS["gd.momentum"](ctx, {}).key == "missing"


def test_torch_style_nesterov_is_accepted(tmp_path: Path) -> None:
    xs, buf = [1.5], 0.0
    for k in range(30):
        x, buf = ref.torch_nesterov_step(xs[-1], buf, df, 0.02, 0.8, k == 0)
        xs.append(x)
    ctx = _ctx(_probe({"f": f, "df": df}, [xs]), tmp_path)
    assert CHECKS["gd.nesterov"](ctx, {}).key == "ok"


def test_fake_nesterov_named_so_is_called_plain_momentum(tmp_path: Path) -> None:
    probe = _probe({"f": f, "df": df}, [_heavy_ball(1.5, 0.02, 0.8, 30, "plus")])
    probe["gd"]["sequences"][0]["scope"] = "nesterov_gd"
    out = CHECKS["gd.nesterov"](_ctx(probe, tmp_path), {})
    assert out.key == "current_point"
    assert "plain momentum" in text_of(out.message, "en")


def test_wrong_derivative_is_caught(tmp_path: Path) -> None:
    seq = ref.run_gd(wrong_df, 1.5, 0.05, 8)
    ctx = _ctx(_probe({"f": f, "df": wrong_df}, [seq]), tmp_path)
    assert CHECKS["gd.gradient"](ctx, {}).key == "wrong"
    assert CHECKS["gd.steps"](ctx, {}).key == "wrong_gradient"


def test_quadratic_is_too_simple(tmp_path: Path) -> None:
    sq = lambda x: x * x  # noqa: E731
    dsq = lambda x: 2 * x  # noqa: E731
    ctx = _ctx(_probe({"f": sq, "df": dsq}, [ref.run_gd(dsq, 2.0, 0.1, 6)]), tmp_path)
    assert CHECKS["gd.function"](ctx, {}).key == "simple"


def test_plot_with_steps_on_the_curve(tmp_path: Path) -> None:
    seq = ref.run_gd(df, 1.5, 0.05, 5)
    grid = np.linspace(-3, 3, 200)
    curve = {"x": grid.tolist(), "y": [f(v) for v in grid], "marker": False, "line": True}
    figure = {"id": "fig1", "png": "fig1.png", "cell": 2, "library": "matplotlib",
              "axes": [{"title": "", "lines": [curve], "points": [{"x": seq, "y": [f(v) for v in seq]}]}]}
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path, [figure])
    assert CHECKS["gd.plot"](ctx, {}).key == "ok"
    figure["axes"][0]["points"] = []
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path, [figure])
    assert CHECKS["gd.plot"](ctx, {}).key == "no_steps"
    wrong = dict(curve, y=[v**3 - v for v in grid])
    figure["axes"][0]["lines"] = [wrong]
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path, [figure])
    assert CHECKS["gd.plot"](ctx, {}).key == "wrong_function"
    assert CHECKS["gd.plot"](_ctx(_probe({"f": f, "df": df}, [seq]), tmp_path), {}).key == "missing"


@pytest.mark.parametrize(("condition", "kind"), [
    ("abs(f(x_new) - f(x)) < eps", "delta_f"),
    ("abs(x_new - x) < eps", "delta_x"),
    ("abs(df(x_new)) < eps", "grad_norm"),
])
def test_stop_rules_are_classified(condition: str, kind: str) -> None:
    src = ("x = 1.5\nfor i in range(10000):\n    x_new = x - 0.05*df(x)\n"
           f"    if {condition}:\n        break\n    x = x_new\n")
    rules = loop_rules([Cell("code", src, 1)], Roles(frozenset({"f"}), frozenset({"df"})))
    assert [r.kind for r in rules] == [kind]


def test_fixed_steps_loop_has_no_stop_rule(tmp_path: Path) -> None:
    src = "x = 1.5\nfor i in range(6):\n    x = x - 0.05*df(x)\n"
    probe = _probe({"f": f, "df": df}, [ref.run_gd(df, 1.5, 0.05, 6)])
    out = CHECKS["gd.stop_rule"](_ctx(probe, tmp_path, cells=[Cell("code", src, 1)]), {})
    assert out.key == "fixed_steps"


def test_delta_f_rule_that_stops_at_the_minimum(tmp_path: Path) -> None:
    src = ("x = 1.5\nwhile True:\n    x_new = x - 0.05*df(x)\n"
           "    if abs(f(x_new) - f(x)) < 1e-8:\n        break\n    x = x_new\n")
    seq = ref.run_until(f, df, 1.5, 0.05, 1e-8, "delta_f")
    out = CHECKS["gd.stop_rule"](_ctx(_probe({"f": f, "df": df}, [seq]), tmp_path,
                                      cells=[Cell("code", src, 1)]), {})
    assert out.key == "delta_f"


def test_stale_start_value_from_an_earlier_cell_is_not_a_step(tmp_path: Path) -> None:
    # cell 1 runs GD to the minimum (x ends near 0); cell 2 restarts with x = x0 and a stop
    # rule: its trace of `x` begins with the value cell 1 left, which is not a step of cell 2
    first = ref.run_gd(df, -0.857, 0.05, 50)
    second = ref.run_until(f, df, -0.857, 0.05, 1e-6, "delta_f")
    src = ("x = x0\nfor i in range(10000):\n    x_new = x - lr * df(x)\n"
           "    if abs(f(x_new) - f(x)) < 1e-6:\n        x = x_new\n        break\n    x = x_new\n")
    probe = _probe({"f": f, "df": df}, [first, [first[-1], *second]])
    cells = [Cell("code", "x = x0\nfor i in range(50):\n    x = x - lr * df(x)\n", 1), Cell("code", src, 2)]
    ctx = _ctx(probe, tmp_path, cells=cells)
    an = analyse(probe, [])
    stop_seq = [s for s, fit in an.fits_of("gd") if s.cell == 2]
    assert stop_seq and stop_seq[0].values[0] == pytest.approx(-0.857)
    assert CHECKS["gd.stop_rule"](ctx, {}).key == "delta_f"


def test_decaying_step_size_is_a_gd_variant_not_plain_gd(tmp_path: Path) -> None:
    xs = [2.0]
    for k in range(20):
        xs.append(xs[-1] - 0.4 / (k + 1) * df(xs[-1]))
    ctx = _ctx(_probe({"f": f, "df": df}, [xs]), tmp_path)
    out = CHECKS["gd.steps"](ctx, {})
    assert out.key == "variable_lr"
    assert out.metrics["lr"] == pytest.approx(0.4, rel=1e-3)
    assert CHECKS["gd.momentum"](ctx, {}).key == "missing"


def test_diverging_gd_is_gd_but_its_stop_rule_earns_nothing(tmp_path: Path) -> None:
    g = lambda x: x * x + 5 * math.sin(x)  # noqa: E731
    dg = lambda x: 2 * x + 5 * math.cos(x)  # noqa: E731
    xs = ref.run_gd(dg, 1.0, 1.1, 12)  # lr too large: the iterates grow
    assert abs(xs[-1]) > 50
    src = ("x = 1.0\nfor i in range(12):\n    x_new = x - 1.1*df(x)\n"
           "    if abs(f(x_new) - f(x)) < 1e-6:\n        break\n    x = x_new\n")
    probe = _probe({"f": g, "df": dg}, [xs], lo=min(xs), hi=max(xs))
    ctx = _ctx(probe, tmp_path, cells=[Cell("code", src, 1)])
    steps = CHECKS["gd.steps"](ctx, {})
    assert steps.key == "ok" and "diverge" in text_of(steps.message, "en")
    assert CHECKS["gd.stop_rule"](ctx, {}).key == "diverged"


def _retabulate(probe: dict, funcs: tuple, extra: np.ndarray) -> dict:
    """The probe with more tabulation points (as the in-kernel probe adds them)."""
    points = np.unique(np.concatenate([np.asarray(probe["gd"]["points"]), extra]))
    probe["gd"]["points"] = points.tolist()
    for fn, spec in zip(funcs, probe["gd"]["functions"]):
        spec["values"] = [fn(p) for p in points]
        spec["derivs"] = [(fn(p + 1e-6) - fn(p - 1e-6)) / 2e-6 for p in points]
    return probe


def test_wide_range_does_not_make_a_sine_term_look_quadratic(tmp_path: Path) -> None:
    g = lambda x: x * x + 5 * math.sin(x)  # noqa: E731
    dg = lambda x: 2 * x + 5 * math.cos(x)  # noqa: E731
    probe = _probe({"f": g, "df": dg}, [ref.run_gd(dg, 1.0, 0.1, 8)], lo=-2000, hi=8000)
    probe = _retabulate(probe, (g, dg), np.linspace(-10, 10, 401))  # the probe's central grid
    assert CHECKS["gd.function"](_ctx(probe, tmp_path), {}).key == "ok"


def test_correct_derivative_near_its_zero_is_accepted(tmp_path: Path) -> None:
    # f'(0) = 0 here; a long run crowds thousands of points at the minimum, where a numeric
    # f' is pure rounding noise (about 1e-10) and the median slope is tiny
    probe = _probe({"f": f, "grad_f": df}, [ref.run_gd(df, 1.2, 0.05, 30)], lo=-2, hi=2)
    probe = _retabulate(probe, (f, df), np.linspace(-1e-11, 1e-11, 4001))
    assert CHECKS["gd.gradient"](_ctx(probe, tmp_path), {}).key in ("ok", "ok_steps")


def test_inline_function_known_only_from_its_curve(tmp_path: Path) -> None:
    # F.append(x**2 + 10*math.sin(x)) on a 0.05 grid; the update writes the derivative inline
    g = lambda x: x * x + 10 * math.sin(x)  # noqa: E731
    grid = np.arange(-6, 6.0001, 0.05)
    xs, ys = [4.0], [g(4.0)]
    while True:
        xs.append(xs[-1] - 0.05 * (2 * xs[-1] + 10 * math.cos(xs[-1])))
        ys.append(g(xs[-1]))
        if abs(ys[-1] - ys[-2]) < 1e-4:
            break
    curve = {"x": grid.tolist(), "y": [g(v) for v in grid], "marker": False, "line": True}
    marks = {"x": xs, "y": ys, "marker": True, "line": False}
    figure = {"id": "fig1", "png": "fig1.png", "cell": 3, "library": "matplotlib",
              "axes": [{"title": "", "lines": [curve, marks], "points": []}]}
    probe = {"gd": {"points": [], "functions": [], "calls": [], "scalars": {}, "sequences": [
        {"id": "sq0", "origin": "trace", "name": "x_cur", "scope": "<module>", "cell": 3, "values": xs},
        {"id": "sq1", "origin": "namespace", "name": "ys", "scope": None, "cell": None, "values": ys}]}}
    src = ("lr = 0.05\neps = 0.0001\nx_cur = 4\nxs = [x_cur]\nys = [x_cur**2 + 10*math.sin(x_cur)]\n"
           "while True:\n    x_cur = x_cur - lr*(2*x_cur + 10*math.cos(x_cur))\n    xs.append(x_cur)\n"
           "    ys.append(x_cur**2 + 10*math.sin(x_cur))\n    if abs(ys[-1] - ys[-2]) < eps:\n        break\n")
    ctx = _ctx(probe, tmp_path, [figure], cells=[Cell("code", src, 3)])
    assert CHECKS["gd.steps"](ctx, {}).key == "ok"
    assert CHECKS["gd.gradient"](ctx, {}).key in ("ok", "ok_steps")
    assert CHECKS["gd.stop_rule"](ctx, {}).key == "delta_f"
    assert CHECKS["gd.momentum"](ctx, {}).key == "missing"


def test_long_marked_line_counts_only_when_it_is_the_steps(tmp_path: Path) -> None:
    seq = ref.run_gd(df, 1.5, 0.002, 900)
    grid = np.linspace(-3, 3, 200)
    curve = {"x": grid.tolist(), "y": [f(v) for v in grid], "marker": False, "line": True}
    steps_line = {"x": seq, "y": [f(v) for v in seq], "marker": True, "line": True}
    dense = np.linspace(-3, 3, 900)
    dotted_curve = {"x": dense.tolist(), "y": [f(v) for v in dense], "marker": True, "line": True}
    figure = {"id": "fig1", "png": "fig1.png", "cell": 2, "library": "matplotlib",
              "axes": [{"title": "", "lines": [curve, steps_line], "points": []}]}
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path, [figure])
    assert CHECKS["gd.plot"](ctx, {}).key == "ok"
    figure["axes"][0]["lines"] = [curve, dotted_curve]
    ctx = _ctx(_probe({"f": f, "df": df}, [seq]), tmp_path, [figure])
    assert CHECKS["gd.plot"](ctx, {}).key == "no_steps"
