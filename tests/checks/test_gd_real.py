"""Task 1 graded right on patterns seen in real student work (issue 14), with library
optimisers (issue 13) and evidence cross-checks. Every fixture is written here, in our own
words: canned probe artifacts and the cells they came from, no kernel."""
from __future__ import annotations

import math
import types
from pathlib import Path

import numpy as np
import pytest

from grader.i18n import text_of
from grader.artifacts import CheckContext
from grader.families import CHECKS
from grader.run.runner import CellRecord
from grader_inside.notebook import Cell
from reference import gd as ref


def f(x: float) -> float:
    return x**2 + 5 * math.sin(x)


def df(x: float) -> float:
    return 2 * x + 5 * math.cos(x)


def _points(sequences: list[list[float]], lo: float = -6, hi: float = 6) -> np.ndarray:
    xs = [v for s in sequences for v in s]
    return np.unique(np.concatenate([np.linspace(lo, hi, 1601), np.linspace(-10, 10, 401), np.array(xs, dtype=float)]))


def _function(i: int, name: str, fn, points: np.ndarray, origin: str = "callable", source: str | None = None) -> dict:
    h = 1e-6
    return {"id": f"fn{i}", "name": name, "origin": origin, "source": source,
            "values": [fn(p) for p in points], "derivs": [(fn(p + h) - fn(p - h)) / (2 * h) for p in points]}


def _trace(i: int, name: str, values: list[float], cell: int = 1, scope: str = "<module>", origin: str = "trace") -> dict:
    return {"id": f"sq{i}", "origin": origin, "name": name, "scope": scope if origin == "trace" else None,
            "cell": None if origin == "namespace" else cell, "values": values, "order": i}


def _probe(funcs: dict, sequences: list[dict], lo: float = -6, hi: float = 6, scalars: dict | None = None,
           sources: dict | None = None) -> dict:
    points = _points([s["values"] for s in sequences], lo, hi)
    functions = [_function(i, name, fn, points, source=(sources or {}).get(name))
                 for i, (name, fn) in enumerate(funcs.items())]
    return {"gd": {"points": points.tolist(), "functions": functions, "sequences": sequences,
                   "calls": [], "scalars": scalars or {}}}


def _ctx(probe: dict, tmp_path: Path, cells: list[Cell] | None = None, figures: list | None = None,
         run_cells: tuple[CellRecord, ...] = ()) -> CheckContext:
    return CheckContext(lang="en", cells=cells or [], run_cells=run_cells, probe=probe,
                        figures=figures or [], out_dir=tmp_path)


def _check(ctx: CheckContext, check: str, params: dict | None = None):
    return CHECKS[f"gd.{check}"](ctx, params or {})


def _figure(lines: list[dict], points: list[dict] | None = None, fig_id: str = "fig1") -> dict:
    return {"id": fig_id, "png": f"{fig_id}.png", "cell": 1, "library": "matplotlib",
            "axes": [{"title": "", "lines": lines, "points": points or []}]}


def _curve(fn, lo: float, hi: float, n: int = 200) -> dict:
    grid = np.linspace(lo, hi, n)
    return {"x": grid.tolist(), "y": [fn(v) for v in grid], "marker": False, "line": True}


# -- 1. evenly spaced arrays are grids, not steps -------------------------------------------
def test_a_plotting_grid_is_not_read_as_steps(tmp_path: Path) -> None:
    steps = ref.run_gd(df, 4.0, 0.1, 15)
    grid = [round(v, 1) for v in np.arange(-5, 5, 0.1)]  # x_plt = np.arange(-5, 5, 0.1)
    probe = _probe({"f": f, "df": df}, [_trace(0, "x", steps), _trace(1, "x_plt", grid, origin="namespace")])
    fig = _figure([_curve(f, -5, 5, 100)], [{"x": [steps[-1]], "y": [f(steps[-1])]}])
    ctx = _ctx(probe, tmp_path, figures=[fig])
    assert _check(ctx, "nesterov").key == "missing"
    assert _check(ctx, "function").key == "ok"
    assert _check(ctx, "gradient").key == "ok"
    assert _check(ctx, "plot").key == "no_steps"


# -- 2. which function is the student's -----------------------------------------------------
def test_a_function_written_only_inline_in_a_torch_loop(tmp_path: Path) -> None:
    steps = ref.run_gd(lambda x: 2 * x - 2, 5.0, 0.01, 60)
    cells = [Cell("code", "x = torch.tensor(5.0, requires_grad=True)\nfor n in range(60):\n"
                          "    y = x**2 - 2*x + 3\n    y.backward()\n    with torch.no_grad():\n"
                          "        x -= 0.01 * x.grad\n        x.grad.zero_()\n", 1)]
    ctx = _ctx(_probe({}, [_trace(0, "x", steps)]), tmp_path, cells)
    assert _check(ctx, "function").key == "simple"
    assert "x ** 2 - 2 * x + 3" in text_of(_check(ctx, "function").message, "en")
    assert _check(ctx, "steps").key == "ok"
    assert _check(ctx, "gradient").key == "ok"  # autograd: the steps show it is right


def test_a_function_written_only_in_the_plot_with_nesterov_steps(tmp_path: Path) -> None:
    xs, v = [8.0], 0.0
    for _ in range(25):  # Nesterov, in a function named as if it were plain momentum
        v = 0.9 * v + 0.05 * df(xs[-1] - 0.9 * v)
        xs.append(xs[-1] - v)
    cells = [Cell("code", "def grad(t):\n    return 2*t + 5*math.cos(t)\n"
                          "def descent_with_momentum(t0):\n    theta, v = [t0], 0.0\n    for i in range(25):\n"
                          "        v = 0.9*v + 0.05*grad(theta[-1] - 0.9*v)\n        theta.append(theta[-1] - v)\n"
                          "    return theta\n"
                          "F = []\nfor p in grid:\n    F.append(p**2 + 5*math.sin(p))\nplt.plot(grid, F)\n", 1)]
    probe = _probe({"grad": df}, [_trace(0, "theta", xs, scope="descent_with_momentum")])
    fig = _figure([_curve(f, -6, 8, 60), {"x": xs, "y": [f(t) for t in xs], "marker": True, "line": False}])
    ctx = _ctx(probe, tmp_path, cells, [fig])
    assert _check(ctx, "function").key == "ok"
    assert _check(ctx, "gradient").key == "ok"
    nesterov = _check(ctx, "nesterov")
    assert nesterov.key == "ok"
    assert "шаг 0,05, момент 0,9;" in text_of(nesterov.message, "ru")  # numbers, written the language's way
    assert "theta в descent_with_momentum(), ячейка 1" in text_of(nesterov.message, "ru")
    assert _check(ctx, "momentum").key == "missing"
    assert _check(ctx, "steps").key == "momentum_only"
    assert _check(ctx, "plot").key == "ok"


def test_the_function_the_steps_minimise_wins_over_one_redefined_later(tmp_path: Path) -> None:
    def parabola(x: float) -> float:
        return x * x - 5 * x + 5

    steps = ref.run_gd(lambda x: 2 * x - 5, 0.0, 0.3, 20)
    probe = _probe({"f": lambda x: math.sin(x) + 0.5 * x, "df": lambda x: math.cos(x) + 0.5,
                    "f (cell 1)": parabola, "df (cell 1)": lambda x: 2 * x - 5},
                   [_trace(0, "xx", steps), _trace(1, "x_plt", list(np.arange(-5, 5, 0.1)), origin="namespace")])
    ctx = _ctx(probe, tmp_path)
    assert _check(ctx, "function").key == "simple"
    assert "f (cell 1)" in text_of(_check(ctx, "function").message, "en")
    assert _check(ctx, "gradient").key == "ok"
    assert _check(ctx, "nesterov").key == "missing"


def test_the_derivative_named_f_is_not_the_function(tmp_path: Path) -> None:
    steps = ref.run_gd(df, -5.0, 0.1, 15)
    grid = list(np.arange(-6, 6, 0.1))  # x = np.arange(-6, 6, 0.1); plt.plot(x, F(x))
    probe = _probe({"f": df, "F": f}, [_trace(0, "x_new", steps, scope="myGD"), _trace(1, "x", grid, origin="namespace")])
    ctx = _ctx(probe, tmp_path)
    assert "F" in text_of(_check(ctx, "function").message, "en") and _check(ctx, "function").key == "ok"
    assert _check(ctx, "gradient").key == "ok"
    assert _check(ctx, "nesterov").key == "missing"


def test_a_rounded_two_argument_derivative_helper_is_right(tmp_path: Path) -> None:
    def g(x: float) -> float:
        return math.cos(x) + 0.05 * x**3

    probe = _probe({"g": g, "derivation(x, g)": lambda x: round((g(x + 1e-4) - g(x)) / 1e-4, 2)}, [])
    ctx = _ctx(probe, tmp_path)
    assert _check(ctx, "function").key == "ok"
    assert _check(ctx, "gradient").key == "ok"


def test_a_sign_error_in_the_derivative_is_named_with_both_values(tmp_path: Path) -> None:
    def slope(x: float) -> float:  # the cos term should be +5 cos x
        return 2 * x - 5 * math.cos(x)

    steps = ref.run_gd(slope, 3.0, 0.1, 30)
    probe = _probe({"slope": slope, "parabola_sin": f}, [_trace(0, "w", steps)])  # the derivative defined first
    ctx = _ctx(probe, tmp_path)
    assert _check(ctx, "function").key == "ok" and "parabola_sin" in text_of(_check(ctx, "function").message, "en")
    out = _check(ctx, "gradient")
    assert out.key == "wrong" and "slope" in text_of(out.message, "en")
    assert _check(ctx, "steps").key == "wrong_gradient"


def test_steps_along_a_derivative_with_no_function_in_the_code(tmp_path: Path) -> None:
    def slope(x: float) -> float:
        return 4 * x**3 - 9 * x**2

    steps = ref.run_gd(slope, 6.0, 0.01, 200)
    ctx = _ctx(_probe({"df": slope}, [_trace(0, "cur_x", steps)], lo=0, hi=7), tmp_path)
    assert _check(ctx, "function").key == "missing"
    assert _check(ctx, "gradient").key == "missing"
    assert _check(ctx, "steps").key == "ok"


def test_several_functions_descended_on_the_harder_one_counts(tmp_path: Path) -> None:
    a = ref.run_gd(lambda x: 2 * x, 10.0, 0.01, 100)
    b = ref.run_gd(lambda x: 4 * x**3, 1.0, 0.01, 100)
    probe = _probe({"x2": lambda x: x * x, "x2_": lambda x: 2 * x, "x4": lambda x: x**4, "x4_": lambda x: 4 * x**3},
                   [_trace(0, "x1", a), _trace(1, "x1b", a, cell=2), _trace(2, "x2", b)], lo=-10, hi=10)
    assert _check(_ctx(probe, tmp_path), "function").key == "ok"


def test_a_variable_reused_for_several_runs_is_cut_into_runs(tmp_path: Path) -> None:
    runs = ref.run_gd(lambda x: 4 * x**3, 1.0, 0.1, 60) + ref.run_gd(lambda x: 4 * x**3, 1.0, 0.01, 60)
    newton = [1.0]
    for _ in range(60):
        newton.append(newton[-1] * 2 / 3)
    probe = _probe({"f": lambda x: x**4, "df": lambda x: 4 * x**3, "df2": lambda x: 12 * x**2},
                   [_trace(0, "cur_x", runs + newton), _trace(1, "ys4", [v**4 for v in newton], origin="namespace")],
                   lo=-2, hi=2)
    ctx = _ctx(probe, tmp_path)
    assert _check(ctx, "function").key == "ok" and "Function f " in text_of(_check(ctx, "function").message, "en")
    assert _check(ctx, "gradient").key == "ok"
    assert _check(ctx, "steps").key == "ok"
    assert _check(ctx, "momentum").key == "missing"


def test_float32_steps_of_a_tensor_are_verified(tmp_path: Path) -> None:
    xs = [np.float32(5.0)]
    for _ in range(3000):
        x = xs[-1]
        xs.append(np.float32(x - np.float32(0.001) * (np.float32(2) * x - np.float32(2))))
    probe = _probe({"f": lambda x: x * x - 2 * x + 3}, [_trace(0, "x", [float(v) for v in xs])])
    assert _check(_ctx(probe, tmp_path), "steps").key == "ok"


# -- 3. partial credit and its messages -----------------------------------------------------
def test_a_single_step_is_too_few(tmp_path: Path) -> None:
    x1 = 2.0 - 0.1 * df(2.0)
    probe = _probe({"f": f, "df": df}, [_trace(0, "x", [2.0, x1])], scalars={"lr": 0.1, "x0": 2.0})
    out = _check(_ctx(probe, tmp_path), "steps", {"min_steps": 3})
    assert out.key == "too_few" and out.metrics["steps"] == 1.0


def test_a_stop_test_written_as_a_helper_on_f_prime_is_a_gradient_rule(tmp_path: Path) -> None:
    steps = ref.run_gd(df, 4.0, 0.1, 40)
    cells = [Cell("code", "def has_converged(x_new):\n    return abs(df(x_new)) < 1e-3\n"
                          "x = 4.0\nwhile True:\n    x_new = x - 0.1*df(x)\n    if has_converged(x_new):\n"
                          "        break\n    x = x_new\n", 1)]
    ctx = _ctx(_probe({"f": f, "df": df}, [_trace(0, "x", steps)]), tmp_path, cells)
    assert _check(ctx, "stop_rule").key == "grad_norm"


def test_the_stop_rule_comes_from_the_loop_that_made_the_steps(tmp_path: Path) -> None:
    xs, v = [4.0], 0.0
    for _ in range(60):
        v = 0.8 * v + 0.05 * df(xs[-1])
        xs.append(xs[-1] - v)
    cells = [Cell("code", "x, v = 4.0, 0.0\nfor i in range(60):\n    v = 0.8*v + 0.05*df(x)\n    x = x - v\n", 1),
             Cell("code", "a, b = -2.0, 0.0\nwhile abs(f(b) - f(a)) > 1e-6:\n    a, b = (a + b) / 2, b\n", 2)]
    ctx = _ctx(_probe({"f": f, "df": df}, [_trace(0, "x", xs)]), tmp_path, cells)
    assert _check(ctx, "momentum").key == "ok"
    assert _check(ctx, "stop_rule").key == "fixed_steps"


def test_steps_marked_on_another_curve_are_not_on_the_function(tmp_path: Path) -> None:
    def cubic(x: float) -> float:
        return x**3 - x

    steps = ref.run_gd(lambda x: 3 * x * x - 1, 1.0, 0.05, 25)
    fig = _figure([_curve(cubic, 0, 4, 28)], [{"x": steps, "y": [s * s for s in steps]}])
    ctx = _ctx(_probe({"function": cubic}, [_trace(0, "a", steps)], lo=0, hi=4), tmp_path, figures=[fig])
    assert _check(ctx, "plot").key == "no_steps"


def test_the_last_point_of_three_methods_is_not_three_steps(tmp_path: Path) -> None:
    runs = [ref.run_gd(df, 4.0, 0.1, 40), ref.run_momentum(df, 4.0, 0.02, 0.8, 40),
            ref.run_momentum(df, 4.0, 0.02, 0.8, 40, nesterov=True)]
    singles = [{"x": [r[-1]], "y": [f(r[-1])]} for r in runs]
    fig = _figure([_curve(f, -6, 6)], singles)
    probe = _probe({"f": f, "df": df}, [_trace(i, f"xx_{i}", r) for i, r in enumerate(runs)])
    assert _check(_ctx(probe, tmp_path, figures=[fig]), "plot").key == "no_steps"


def test_complexity_is_judged_on_the_central_window_not_the_last_steps(tmp_path: Path) -> None:
    from grader_inside.probes import gd as probe_gd

    ns: dict = {"math": math}
    exec(compile("def function_1(x):\n    return math.cos(x) + 0.05*x**3 + math.log2(x**2)\n", "<student-1>", "exec"), ns)
    near_ten = {"origin": "trace", "name": "x", "scope": "<module>", "cell": 1, "order": 0,
                "values": [10.0, 10.000004, 10.000008]}  # the only numbers the run recorded
    tracer = types.SimpleNamespace(histories={0: near_ten}, calls={}, returns=[], code_of={}, line_events=0)
    session = types.SimpleNamespace(tracer=tracer, capture=types.SimpleNamespace(figures=[]),
                                    _is_student_file=lambda name: name.startswith("<student"))
    probe = {"gd": probe_gd.collect(ns, session)}
    assert min(probe["gd"]["points"]) <= -9.9 and max(probe["gd"]["points"]) >= 9.9
    assert _check(_ctx(probe, tmp_path), "function").key == "ok"


# -- 4. PyTorch's Nesterov form written by hand ----------------------------------------------
def test_torch_nesterov_written_by_hand_in_a_helper_with_a_flag(tmp_path: Path) -> None:
    def q(x: float) -> float:  # on a parabola heavy-ball momentum with other constants makes the same steps
        return x * x - 4 * x + 6

    def dq(x: float) -> float:
        return 2 * x - 4

    xs, buf = [10.0], 0.0
    for _ in range(40):  # buf = mu*buf + g; x -= lr*(g + mu*buf)
        g = dq(xs[-1])
        buf = 0.9 * buf + g
        xs.append(xs[-1] - 0.02 * (g + 0.9 * buf))
    cells = [Cell("code", "def sgd_step(x, buf, lr, mu, nesterov=False):\n    g = df(x)\n    buf = mu*buf + g\n"
                          "    if nesterov:\n        return x - lr*(g + mu*buf), buf\n    return x - lr*buf, buf\n", 1)]
    probe = _probe({"f": q, "df": dq}, [_trace(0, "x", xs, cell=2)], lo=-2, hi=11)
    ctx = _ctx(probe, tmp_path, cells + [Cell("code", "x, buf = 10.0, 0.0\nfor i in range(40):\n"
                                                     "    x, buf = sgd_step(x, buf, 0.02, 0.9, nesterov=True)\n", 2)])
    assert _check(ctx, "nesterov").key == "ok"


# -- 5. steps computed by hand in markdown ----------------------------------------------------
def _hand_cells(text: str) -> list[Cell]:
    return [Cell("code", "def f(x):\n    return x**2 + 5*np.sin(x)\ndef df(x):\n    return 2*x + 5*np.cos(x)\n", 1),
            Cell("markdown", text, 1)]


def test_steps_computed_by_hand_in_latex_are_checked(tmp_path: Path) -> None:
    xs = ref.run_gd(df, 1.0, 0.1, 3)
    text = ("Шаг обучения $\\eta = 0,1$.\n\n"
            + "".join(f"$x_{k + 1} = x_{k} - \\eta f'(x_{k}) = {xs[k]:.4f} - 0,1 \\cdot {df(xs[k]):.4f} = {xs[k + 1]:.4f}$\n\n"
                      .replace(".", ",") for k in range(3)))
    ctx = _ctx(_probe({"f": f, "df": df}, []), tmp_path, _hand_cells("$x_0 = 1$\n\n" + text))
    out = _check(ctx, "steps", {"min_steps": 3})
    assert out.key == "ok" and out.metrics["steps"] == 3.0


def test_an_arithmetic_slip_is_named_and_later_steps_keep_their_credit(tmp_path: Path) -> None:
    x = [1.0]
    for k in range(4):
        nxt = x[-1] - 0.1 * df(x[-1])
        x.append(nxt + (0.05 if k == 1 else 0.0))  # step 2 is off by 0.05; steps 3 and 4 follow from it
    rows = "| k | x_k |\n|---|---|\n" + "".join(f"| {k} | {v:.4f} |\n" for k, v in enumerate(x))
    ctx = _ctx(_probe({"f": f, "df": df}, []), tmp_path, _hand_cells("lr = 0.1\n\n" + rows))
    out = _check(ctx, "steps", {"min_steps": 3})
    assert out.key == "ok" and out.metrics["steps"] == 3.0
    assert "step 2" in text_of(out.message, "en") and f"{x[1] - 0.1 * df(x[1]):.4f}"[:5] in text_of(out.message, "en")


# -- library optimisers (issue 13) ------------------------------------------------------------
def test_torch_sgd_with_nesterov_is_the_librarys_work(tmp_path: Path) -> None:
    xs, buf = [15.0], 0.0
    for k in range(60):
        g = df(xs[-1])
        buf = g if k == 0 else 0.9 * buf + g
        xs.append(xs[-1] - 0.05 * (g + 0.9 * buf))
    cells = [Cell("code", "def main():\n    x = torch.tensor([15.0], requires_grad=True)\n"
                          "    opt = torch.optim.SGD([x], lr=0.05, momentum=0.9, nesterov=True)\n"
                          "    for i in range(60):\n        opt.zero_grad()\n        f(x).backward()\n        opt.step()\n"
                          "main()\n", 1)]
    ctx = _ctx(_probe({"f": f}, [_trace(0, "x", xs, scope="main")], lo=-6, hi=16), tmp_path, cells)
    steps, momentum, nesterov = (_check(ctx, c) for c in ("steps", "momentum", "nesterov"))
    assert (steps.key, momentum.key, nesterov.key) == ("library", "library", "library")
    assert "torch.optim.SGD(momentum=0.9, nesterov=True)" in text_of(nesterov.message, "en")


def test_a_keras_optimizer_is_named_even_when_no_step_was_recorded(tmp_path: Path) -> None:
    cells = [Cell("code", "import tensorflow as tf\nx = tf.Variable(10.0)\n"
                          "opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)\n"
                          "for i in range(100):\n    opt.minimize(lambda: x**2, var_list=[x])\n", 1)]
    ctx = _ctx(_probe({}, []), tmp_path, cells, run_cells=(CellRecord(1, "ok"),))
    assert _check(ctx, "steps").key == "library"
    assert _check(ctx, "momentum").key == "library"
    assert _check(ctx, "nesterov").key == "missing"


def test_scipy_minimize_is_a_library_optimiser(tmp_path: Path) -> None:
    cells = [Cell("code", "from scipy.optimize import minimize\nres = minimize(lambda x: x**4 - 3*x, 1.0)\n", 1)]
    ctx = _ctx(_probe({}, []), tmp_path, cells, run_cells=(CellRecord(1, "ok"),))
    out = _check(ctx, "steps")
    assert out.key == "library" and "minimize" in text_of(out.message, "en")


# -- evidence that does not match the notebook (issue 13) -------------------------------------
def _honest_cells() -> list[Cell]:
    return [Cell("code", "def f(x):\n    return x**2 + 5*math.sin(x)\ndef df(x):\n    return 2*x + 5*math.cos(x)\n", 1),
            Cell("code", "x = 4.0\nfor i in range(30):\n    x = x - 0.1*df(x)\n", 2)]


def _reported(steps: list[float], cell: int = 2, source: str | None = None) -> dict:
    sources = {"f": source or "def f(x):\n    return x**2 + 5*math.sin(x)\n"}
    return _probe({"f": f, "df": df}, [_trace(0, "x", steps, cell=cell)], sources=sources)


def test_honest_steps_pass_the_evidence_check(tmp_path: Path) -> None:
    steps = ref.run_gd(df, 4.0, 0.1, 30)
    ctx = _ctx(_reported(steps), tmp_path, _honest_cells(), run_cells=(CellRecord(1, "ok"), CellRecord(2, "ok")))
    out = _check(ctx, "steps")
    assert out.key == "ok" and not out.flags


@pytest.mark.parametrize("case", ["source not in the notebook", "cell that does not exist", "cell that never ran"])
def test_steps_the_notebook_cannot_have_made_earn_nothing_automatic(case: str, tmp_path: Path) -> None:
    steps = ref.run_gd(df, 4.0, 0.1, 30)
    probe = {"source not in the notebook": _reported(steps, source="def f(x):\n    return x**2 + 5*np.sin(x)  # forged\n"),
             "cell that does not exist": _reported(steps, cell=7),
             "cell that never ran": _reported(steps)}[case]
    runs = (CellRecord(1, "ok"),) if case == "cell that never ran" else (CellRecord(1, "ok"), CellRecord(2, "ok"))
    out = _check(_ctx(probe, tmp_path, _honest_cells(), run_cells=runs), "steps")
    assert out.key == "unverified"
    assert out.flags and out.flags[0].kind == "evidence"


def test_a_list_kept_from_a_loop_stopped_by_the_time_limit_is_no_finished_work(tmp_path: Path) -> None:
    xs, v = [1.2], 0.0
    for _ in range(300):  # right Nesterov steps, but the loop's test never ends it
        v = 0.9 * v + 0.05 * df(xs[-1] - 0.9 * v)
        xs.append(xs[-1] - v)
    stale = [-1.04]  # x as the previous cell left it: the first value the trace saw in this one
    probe = _probe({"f": f, "df": df}, [_trace(0, "x", stale + xs, cell=5), _trace(1, "xs_n", xs, origin="namespace")])
    ctx = _ctx(probe, tmp_path, run_cells=(CellRecord(4, "ok"), CellRecord(5, "timeout")))
    assert _check(ctx, "nesterov").key == "missing"


def test_task1_messages_are_catalogue_messages_that_render_in_either_language(tmp_path: Path) -> None:
    """The checks return messages, not text: a batch graded in Russian re-renders in English
    (issue 18), the evidence problem included (it was an English fragment in Russian reports)."""
    steps = ref.run_gd(lambda x: 2 * x - 2, 5.0, 0.01, 60)
    cells = [Cell("code", "x = torch.tensor(5.0, requires_grad=True)\nfor n in range(60):\n"
                          "    y = x**2 - 2*x + 3\n    y.backward()\n    with torch.no_grad():\n"
                          "        x -= 0.01 * x.grad\n        x.grad.zero_()\n", 1)]
    ctx = _ctx(_probe({}, [_trace(0, "x", steps)]), tmp_path, cells)
    out = _check(ctx, "steps")
    assert out.key == "ok"
    assert text_of(out.message, "ru").startswith("Сделано 60 шагов градиентного спуска")
    assert text_of(out.message, "en").startswith("60 gradient-descent steps made")
    assert ", шаг обучения 0,01;" in text_of(out.message, "ru")
    assert "(x, ячейка 1)" in text_of(out.message, "ru") and "(x, cell 1)" in text_of(out.message, "en")


def test_an_evidence_problem_reads_in_the_report_s_language(tmp_path: Path) -> None:
    from grader.families.gd.evidence import evidence_problem
    from grader.families.gd.analysis import Sequence as Steps

    seq = Steps("s0", "trace", "hidden_xs", scope=None, cell=None, values=(1.0, 0.5))
    problem = evidence_problem([Cell("code", "x = 1", 1)], (), seq, None)
    assert problem is not None
    assert text_of(problem, "ru") == "шаги хранятся в переменной `hidden_xs`, которой нет в коде ноутбука"
    assert "a name the notebook's code never uses" in text_of(problem, "en")
