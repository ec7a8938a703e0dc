"""The Task 1 probe's tabulation of student functions (called directly: no kernel)."""
from __future__ import annotations

import math
import multiprocessing
import os
import types
from pathlib import Path

import numpy as np
import pytest

from grader_inside.probes import gd
from grader_inside.probes.gd import FUNCTION_POINTS, Work, _as_unary, _tabulate
from grader_inside.probes.trace import Tracer


def _run(fn, points: np.ndarray, exact: np.ndarray | None = None, work: Work | None = None):
    unary = _as_unary(fn)
    assert unary is not None
    mask = np.zeros(points.size, dtype=bool) if exact is None else np.isin(points, exact)
    return _tabulate(unary, fn, points, mask, work)


def test_numpy_function_is_tabulated_in_one_call() -> None:
    calls = []

    def f(x):
        calls.append(1)
        return 3 * x**2 - np.sin(x) + np.exp(x) - 5

    points = np.linspace(-2, 2, 1001)
    values, derivs = _run(f, points)
    assert len(calls) < 20  # arrays, not 3 calls per point
    assert values[500] == 3 * 0.0 - 0.0 + 1.0 - 5
    assert abs(derivs[750] - (6 * 1.0 - math.cos(1.0) + math.exp(1.0))) < 1e-5


def test_math_function_falls_back_to_points() -> None:
    def f(x):
        return x**2 + 10 * math.sin(x)

    points = np.linspace(-3, 3, 301)
    values, derivs = _run(f, points)
    assert all(v is not None for v in values)
    assert abs(derivs[200] - (2 * points[200] + 10 * math.cos(points[200]))) < 1e-5


def test_array_result_that_disagrees_with_scalar_calls_is_not_trusted() -> None:
    def f(x):
        return x if isinstance(x, np.ndarray) else x**2

    points = np.linspace(-1, 1, 101)
    values, _ = _run(f, points)
    assert values[100] == 1.0 and values[75] == points[75] ** 2


def test_point_by_point_tabulation_is_capped_by_a_count_spread_over_the_range() -> None:
    def f(x):
        return math.exp(0.5 * x) + x * x - 2 * math.cos(x)

    points = np.linspace(-5, 5, 4001)
    steps = points[[1234, 1300, 2900]]
    values, _ = _run(f, points, exact=steps)
    done = [i for i, v in enumerate(values) if v is not None]
    assert len(done) == FUNCTION_POINTS  # cut by the count, not by a clock...
    assert done[0] == 0 and done[-1] >= 3900  # ...yet spread over the whole range
    assert all(values[i] is not None for i in (1234, 1300, 2900))  # and the steps are there


def test_an_evaluation_that_does_too_much_work_is_stopped_by_counting_events() -> None:
    def optimiser_run(x0):  # a whole descent per call: not a function of x
        x = x0
        for _ in range(100_000):
            x = x - 0.01 * 2 * x
        return x

    work = Work()
    assert _as_unary(optimiser_run, work) is None
    assert work.events_left < gd.TOTAL_EVENTS  # the events it made were counted


def test_the_total_event_budget_ends_tabulation_deterministically() -> None:
    def f(x):
        total = 0.0
        for k in range(20):
            total += math.sin(k * x) / (k + 1)  # math: one point at a time
        return total

    points = np.linspace(-2, 2, 3000)
    first = _run(f, points, work=Work(total=50_000))
    second = _run(f, points, work=Work(total=50_000))
    done = sum(v is not None for v in first[0])
    assert 0 < done < 3000 and first == second


def _replaced_session(tmp_path: Path):
    """A tracer that saw f (a parabola) called in cell 1, then f redefined in cell 2."""
    tracer = Tracer(lambda name: name.startswith("<student"))
    ns: dict = {"np": np}
    old = compile("def f(x):\n    return x**2 - 5*x + 5\n", "<student-1>", "exec")
    exec(old, ns)
    tracer.start(1)
    for x in (0.0, 1.5, 2.1):
        ns["f"](x)
    tracer.stop()
    exec(compile("def f(x):\n    return np.sin(x) + 0.5*x\n", "<student-2>", "exec"), ns)
    capture = types.SimpleNamespace(figures=[])
    return ns, types.SimpleNamespace(tracer=tracer, capture=capture, _is_student_file=tracer.is_student_file)


def test_a_function_redefined_later_is_still_tabulated(tmp_path: Path) -> None:
    ns, session = _replaced_session(tmp_path)
    out = gd.collect(ns, session)
    by_name = {f["name"]: f for f in out["functions"]}
    assert set(by_name) == {"f", "f (cell 1)"}
    points = out["points"]
    i = points.index(1.5)
    assert by_name["f (cell 1)"]["values"][i] == pytest.approx(1.5**2 - 5 * 1.5 + 5)
    assert by_name["f"]["values"][i] == pytest.approx(math.sin(1.5) + 0.75)


def test_a_rebuilt_function_that_does_not_replay_its_calls_is_dropped(tmp_path: Path) -> None:
    ns, session = _replaced_session(tmp_path)
    for rec in session.tracer.calls.values():
        rec["results"] = [r + 1.0 for r in rec["results"]]  # as if f had read a global since changed
    names = {f["name"] for f in gd.collect(ns, session)["functions"]}
    assert names == {"f"}


def test_a_two_argument_derivative_helper_is_applied_to_the_students_function() -> None:
    ns: dict = {"math": math}
    exec(compile("def g(x):\n    return math.cos(x) + 0.05*x**3\n"
                 "def derivation(x, func):\n    h = 1e-5\n    return (func(x + h) - func(x)) / h\n",
                 "<student-1>", "exec"), ns)
    session = types.SimpleNamespace(tracer=None, capture=types.SimpleNamespace(figures=[]),
                                    _is_student_file=lambda name: name.startswith("<student"))
    out = gd.collect(ns, session)
    helper = next(f for f in out["functions"] if f["name"] == "derivation(x, g)")
    i = min(range(len(out["points"])), key=lambda k: abs(out["points"][k] - 2.0))
    x = out["points"][i]
    assert helper["values"][i] == pytest.approx(-math.sin(x) + 0.15 * x * x, abs=1e-3)


@pytest.mark.torch
def test_library_optimisers_are_listed_with_their_settings() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(1.0, requires_grad=True)
    ns = {"opt": torch.optim.SGD([x], lr=0.1, momentum=0.9, nesterov=True), "x": x}
    (found,) = gd._optimizers(ns)
    assert found["class"] == "SGD" and found["momentum"] == 0.9 and found["nesterov"] == 1.0


def _spin(stop) -> None:  # a CPU hog for the busy-machine test
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _slow_function_session():
    ns: dict = {"math": math}
    exec(compile("def f(x):\n    s = 0.0\n    for k in range(1, 200):\n        s += math.cos(k * x) / k**2\n"
                 "    return x * x + s\n", "<student-1>", "exec"), ns)
    seq = [{"origin": "trace", "name": "x", "scope": "<module>", "cell": 1, "order": 0,
            "values": [2.0 - 0.1 * k for k in range(30)]}]
    tracer = types.SimpleNamespace(histories={0: seq[0]}, calls={}, returns=[], code_of={}, line_events=0)
    return ns, types.SimpleNamespace(tracer=tracer, capture=types.SimpleNamespace(figures=[]),
                                     _is_student_file=lambda name: name.startswith("<student"))


@pytest.mark.slow
def test_the_probe_output_is_the_same_on_a_busy_machine() -> None:
    """Budgets count work: a slow function is tabulated at the same points under load."""
    quiet = gd.collect(*_slow_function_session())
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(2 * (os.cpu_count() or 1))]
    for hog in hogs:
        hog.start()
    try:
        busy = gd.collect(*_slow_function_session())
    finally:
        stop.set()
        for hog in hogs:
            hog.join(timeout=10)
    assert busy == quiet
    table = quiet["functions"][0]["values"]
    assert all(v is not None for v in table)  # seconds of work, yet no point left out
