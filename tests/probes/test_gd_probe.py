"""The Task 1 probe's tabulation of student functions (called directly: no kernel)."""
from __future__ import annotations

import math
import time

import numpy as np

from grader_inside.probes.gd import _as_unary, _tabulate


def _run(fn, points: np.ndarray, exact: np.ndarray | None = None, budget: float = 5.0):
    unary = _as_unary("f", fn)
    assert unary is not None
    mask = np.zeros(points.size, dtype=bool) if exact is None else np.isin(points, exact)
    return _tabulate(unary, fn, points, mask, budget)


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


def test_slow_function_is_tabulated_coarsely_over_the_whole_range() -> None:
    def f(x):
        time.sleep(0.0005)
        return math.exp(0.5 * x) + x * x - 2 * math.cos(x)

    points = np.linspace(-5, 5, 4001)
    steps = points[[1234, 1300, 2900]]
    values, _ = _run(f, points, exact=steps, budget=0.4)
    done = [i for i, v in enumerate(values) if v is not None]
    assert 50 < len(done) < 4001  # cut short by the budget...
    assert done[0] == 0 and done[-1] >= 3900  # ...yet spread over the whole range
    assert all(values[i] is not None for i in (1234, 1300, 2900))  # and the steps are there
