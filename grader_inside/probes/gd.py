"""Task 1 probe: the student's functions, step sequences and plotted data, as plain numbers.

Runs inside the kernel after the student's cells. Names are only hints: every callable the
student defined is tried as a function of one variable and tabulated on the points the
checks need (all step values and a grid over their range), with a numeric derivative.
"""
from __future__ import annotations

import inspect
import logging
import math
import signal
import sys
import types
from typing import Any

import numpy as np

from grader_inside.probes.trace import scalar_value, sequence_value

logger = logging.getLogger(__name__)

GRID = 1601
MAX_POINTS = 30000
MAX_SEQUENCES = 300
BOUND = 1e4
CALL_SECONDS = 3.0
CENTRAL = 10.0
TABULATE_SECONDS = 12.0  # all the student's callables together
FUNCTION_SECONDS = 1.5  # one callable tabulated point by point (then more coarsely)


class _Timeout(Exception):
    pass


def _alarm(_sig: int, _frame: Any) -> None:
    raise _Timeout()


def _call_limited(fn: Any, arg: Any, seconds: float = CALL_SECONDS) -> Any:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(arg)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _source(obj: Any) -> str | None:
    try:
        return inspect.getsource(obj)[:4000]
    except Exception:
        return None


def _student_callables(ns: dict[str, Any], is_student_file: Any) -> list[tuple[str, Any, str]]:
    found: list[tuple[str, Any, str]] = []
    seen: set[int] = set()
    for name, obj in list(ns.items()):
        if name.startswith("_") or id(obj) in seen:
            continue
        code = getattr(obj, "__code__", None)
        if isinstance(obj, types.FunctionType) and code is not None:
            if is_student_file(code.co_filename):
                seen.add(id(obj))
                found.append((name, obj, "callable"))
            continue
        # sympy expression in one symbol
        free = getattr(obj, "free_symbols", None)
        if (free is not None and not callable(obj) and len(free) == 1
                and not getattr(obj, "is_Symbol", False)):
            try:
                import sympy

                fn = sympy.lambdify(list(free), obj, "numpy")
                seen.add(id(obj))
                found.append((name, fn, "sympy"))
            except Exception:
                pass
        # methods of student class instances (e.g. obj.f, obj.grad)
        cls = type(obj)
        if getattr(cls, "__module__", "") == "__main__" and not isinstance(obj, type):
            for attr in dir(cls):
                if attr.startswith("_"):
                    continue
                member = getattr(obj, attr, None)
                func = getattr(member, "__func__", None)
                if func is not None and is_student_file(getattr(func.__code__, "co_filename", "")):
                    found.append((f"{name}.{attr}", member, "callable"))
    return found


def _as_unary(name: str, fn: Any) -> Any | None:
    """`fn` if it maps a float to a float (plain, numpy or torch), else None."""
    probe = 0.37
    for make in (float, _torch_scalar):
        try:
            arg = make(probe)
            if arg is None:
                continue
            val = scalar_value(_call_limited(fn, arg))
        except BaseException:  # student code may raise anything, SystemExit included
            continue
        if val is not None and math.isfinite(val):
            return (lambda x, _f=fn, _m=make: scalar_value(_f(_m(x))))
    return None


def _torch_scalar(x: float) -> Any:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    return torch.tensor(x, dtype=torch.float64)


def _tabulate(fn: Any, raw: Any, points: np.ndarray, exact: np.ndarray,
              budget_s: float) -> tuple[list, list]:
    """Values and central-difference derivatives of `fn` at `points` (None where it fails).

    One call on the whole array when the student's function takes arrays (numpy code does)
    and agrees with the scalar calls; otherwise point by point within the time budget, in an
    order that covers the whole range first and the step values next, so a slow function is
    tabulated more coarsely rather than cut off.
    """
    h = 1e-6 * np.maximum(1.0, np.abs(points))
    whole = _tabulate_array(fn, raw, points, h)
    if whole is not None:
        return whole
    import time

    values: list[float | None] = [None] * points.size
    derivs: list[float | None] = [None] * points.size
    start = time.monotonic()
    for i in _priority(points.size, exact):
        if time.monotonic() - start > budget_s:
            break
        x, hx = float(points[i]), float(h[i])
        try:
            v = fn(x)
            d = (fn(x + hx) - fn(x - hx)) / (2 * hx)
        except BaseException:
            continue
        values[i] = v if v is not None and math.isfinite(v) else None
        derivs[i] = d if d is not None and math.isfinite(d) else None
    return values, derivs


def _priority(n: int, exact: np.ndarray) -> list[int]:
    """Indices: a coarse grid over the whole range, then the step values, then finer grids."""
    order: list[int] = []
    seen = np.zeros(n, dtype=bool)
    stride = 64
    first = True
    while stride >= 1:
        for i in range(0, n, stride):
            if not seen[i]:
                seen[i] = True
                order.append(i)
        if first:
            for i in np.flatnonzero(exact & ~seen).tolist():
                seen[i] = True
                order.append(i)
            first = False
        stride //= 2
    return order


def _tabulate_array(fn: Any, raw: Any, points: np.ndarray, h: np.ndarray) -> tuple[list, list] | None:
    def call(arr: np.ndarray) -> np.ndarray | None:
        try:
            out = _call_limited(raw, arr, 2.0)
            out = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=float)
        except BaseException:
            return None
        return out if out.shape == arr.shape else None

    with np.errstate(all="ignore"):
        y = call(points)
        if y is None:
            return None
        # the array result must be the same function: compare with scalar calls
        for i in np.linspace(0, points.size - 1, 5).astype(int):
            try:
                v = fn(float(points[i]))
            except BaseException:
                return None
            if v is None or not math.isfinite(v):
                if np.isfinite(y[i]):
                    return None
            elif not abs(v - y[i]) <= 1e-9 * (1 + abs(v)):
                return None
        up, down = call(points + h), call(points - h)
        if up is None or down is None:
            return None
        d = (up - down) / (2 * h)
    return _listed(y), _listed(d)


def _listed(arr: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in arr.tolist()]


def _namespace_sequences(ns: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, obj in list(ns.items()):
        if name.startswith("_") or isinstance(obj, (types.ModuleType, type)):
            continue
        holders = [(name, obj)]
        if getattr(type(obj), "__module__", "") == "__main__" and hasattr(obj, "__dict__"):
            holders += [(f"{name}.{k}", v) for k, v in vars(obj).items()]
        for label, value in holders:
            seq = sequence_value(value)
            if seq is not None:
                out.append({"origin": "namespace", "name": label, "scope": None, "cell": None,
                            "values": seq[:5000]})
                continue
            # history of pairs / rows: [(x, f(x)), ...] or an (n, 2) array
            try:
                arr = np.asarray(value, dtype=float)
            except Exception:
                continue
            if arr.ndim == 2 and 2 <= arr.shape[0] <= 100000 and 2 <= arr.shape[1] <= 4:
                for j in range(arr.shape[1]):
                    out.append({"origin": "namespace", "name": f"{label}[:, {j}]", "scope": None,
                                "cell": None, "values": arr[:5000, j].tolist()})
    return out


def collect(ns: dict[str, Any], session: Any) -> dict[str, Any]:
    tracer = session.tracer
    sequences: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    if tracer is not None:
        for hist in tracer.histories.values():
            if len(hist["values"]) >= 2:
                sequences.append({"origin": "trace", **hist})
        for rec in tracer.calls.values():
            if len(rec["args"]) >= 1:
                calls.append(rec)
                sequences.append({"origin": "calls", "name": rec["name"], "scope": None,
                                  "cell": rec["cell"], "order": rec["order"],
                                  "values": rec["args"][:5000]})
        for ret in tracer.returns:
            sequences.append({"origin": "return", "scope": ret["name"], **ret})
    sequences += _namespace_sequences(ns)
    sequences = [s for s in sequences if len(s["values"]) >= 2][:MAX_SEQUENCES]
    for i, s in enumerate(sequences):
        s["id"] = f"sq{i}"

    # points: every finite step value, plus a grid over the range of steps and plots
    xs: list[float] = []
    for s in sequences:
        xs.extend(v for v in s["values"] if v is not None and math.isfinite(v) and abs(v) <= BOUND)
    lo, hi = (min(xs), max(xs)) if xs else (-5.0, 5.0)
    for fig in session.capture.figures:
        for ax in fig["axes"]:
            for ln in ax["lines"]:
                fin = [v for v in ln["x"] if v is not None and abs(v) <= BOUND]
                if len(fin) >= 10:
                    lo, hi = min(lo, min(fin)), max(hi, max(fin))
    if hi - lo < 1e-6:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, GRID)
    # a fine grid where textbook functions live, so a wide (diverging) range keeps their shape
    near_lo, near_hi = max(lo - pad, -CENTRAL), min(hi + pad, CENTRAL)
    if near_hi > near_lo:
        grid = np.concatenate([grid, np.linspace(near_lo, near_hi, 401)])
    exact = np.unique(np.asarray(xs[: MAX_POINTS], dtype=float))
    points = np.unique(np.concatenate([grid, exact]))
    is_step = np.isin(points, exact)

    functions: list[dict[str, Any]] = []
    import time

    deadline = time.monotonic() + TABULATE_SECONDS
    for name, obj, origin in _student_callables(ns, session._is_student_file):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            logger.warning("tabulation budget spent; %s and later callables skipped", name)
            break
        unary = _as_unary(name, obj)
        if unary is None:
            continue
        # a slow callable (a whole optimiser run, not a function of x) gets a share, not all
        values, derivs = _tabulate(unary, obj, points, is_step, min(FUNCTION_SECONDS, remaining))
        if sum(v is not None for v in values) < 10:
            continue
        functions.append({"id": f"fn{len(functions)}", "name": name, "origin": origin,
                          "source": _source(obj) if origin == "callable" else str(ns.get(name))[:400],
                          "values": values, "derivs": derivs})
    scalars = {k: float(v) for k, v in ns.items()
               if not k.startswith("_") and type(v) is float and math.isfinite(v)}
    return {"points": points.tolist(), "functions": functions, "sequences": sequences,
            "calls": calls, "scalars": scalars,
            "line_events": tracer.line_events if tracer is not None else 0}
