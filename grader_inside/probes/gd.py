"""Task 1 probe: the student's functions, step sequences and plotted data, as plain numbers.

Runs inside the kernel after the student's cells. Names are only hints: every callable the
student defined is tried as a function of one variable and tabulated on the points the
checks need (all step values, a grid over their range and a fixed central window), with a
numeric derivative. Besides the functions left in the namespace it also tabulates
- functions the student called and later redefined (from the code the tracer saw run, checked
  against the values those calls returned), and
- two-argument derivative helpers (`derivative(x, f)`) applied to the student's functions.

Every budget counts work, never time, so the output depends only on the submission: points
tabulated per callable and in all, and traced events (Python lines and calls) per evaluation
and in all. The only clock is a CPU-time (not wall) backstop for one evaluation that never
returns to Python (a huge array built in C code).
"""
from __future__ import annotations

import inspect
import logging
import math
import re
import signal
import sys
import types
from typing import Any, Callable

import numpy as np

from grader_inside.probes.trace import scalar_value, sequence_value

logger = logging.getLogger(__name__)

GRID = 1601
CENTRAL_GRID = 401
MAX_POINTS = 30000
MAX_SEQUENCES = 300
BOUND = 1e4
CENTRAL = 10.0
CALL_EVENTS = 20_000  # traced events one evaluation may make (a function of x makes a few dozen)
TOTAL_EVENTS = 4_000_000  # all evaluations together
CALL_CPU_SECONDS = 2.0  # backstop for one evaluation that stays in C code
FUNCTION_POINTS = 2500  # points one callable is tabulated at one by one (arrays: all at once)
TOTAL_POINTS = 20_000  # the same, all callables together
MAX_CALLABLES = 40
HELPER_PARTNERS = 4  # unary functions a two-argument derivative helper is applied to
PROBE_X = 0.37
DERIVATIVE_NAME = re.compile(r"deriv|diff|grad|prime|der$|^d[a-z]*$|производн", re.IGNORECASE)


class _TooMuchWork(Exception):
    pass


def _cpu_alarm(_sig: int, _frame: Any) -> None:
    raise _TooMuchWork()


class Work:
    """Runs student callables under counted budgets: traced events per call and in all."""

    def __init__(self, per_call: int = CALL_EVENTS, total: int = TOTAL_EVENTS,
                 points: int = TOTAL_POINTS) -> None:
        self.per_call = per_call
        self.events_left = total
        self.points_left = points
        self._count = 0

    def _trace(self, frame: Any, event: str, arg: Any) -> Any:
        self._count += 1
        if self._count > self.per_call:
            raise _TooMuchWork()
        return self._trace

    @property
    def spent(self) -> bool:
        return self.events_left <= 0 or self.points_left <= 0

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args); raises _TooMuchWork past the per-call or total event budget."""
        if self.events_left <= 0:
            raise _TooMuchWork()
        self._count = 0
        old_trace = sys.gettrace()
        old_handler = signal.signal(signal.SIGPROF, _cpu_alarm)
        signal.setitimer(signal.ITIMER_PROF, CALL_CPU_SECONDS)
        sys.settrace(self._trace)
        try:
            return fn(*args)
        finally:
            sys.settrace(old_trace)
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, old_handler)
            self.events_left -= self._count


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


def _replaced_functions(tracer: Any, current: list[tuple[str, Any, str]]) -> list[tuple[str, Any, str]]:
    """Functions of one argument the student called and then redefined (or deleted).

    Rebuilt from the code object the tracer saw run, with the namespace as globals; kept only
    when the rebuilt function returns what the recorded calls returned.
    """
    if tracer is None:
        return []
    live = {getattr(obj, "__code__", None) for _, obj, _ in current}
    names = {name for name, _, _ in current}
    found: list[tuple[str, Any, str]] = []
    for key, (code, env) in tracer.code_of.items():
        rec = tracer.calls.get(key)
        if (rec is None or code in live or code.co_freevars or code.co_argcount != 1
                or code.co_name.startswith("<") or not rec["args"]):
            continue
        fn = types.FunctionType(code, env, code.co_name)
        if not _replays(fn, rec):
            continue
        live.add(code)
        name = f"{code.co_name} (cell {rec['cell']})" if code.co_name in names else code.co_name
        found.append((name, fn, "callable"))
    return found


def _replays(fn: Any, rec: dict[str, Any]) -> bool:
    pairs = list(zip(rec["args"], rec["results"]))[:5]
    work = Work(points=len(pairs))
    for arg, result in pairs:
        try:
            got = scalar_value(work.call(fn, arg))
        except BaseException:  # student code may raise anything, SystemExit included
            return False
        if got is None or not abs(got - result) <= 1e-9 * (1 + abs(result)):
            return False
    return bool(pairs)


def _derivative_helpers(ns: dict[str, Any], is_student_file: Any, unary: list[tuple[str, Any]],
                        work: Work) -> list[tuple[str, Any, str, Any]]:
    """`derivative(x, f)` (or `(f, x)`) helpers of the student's, applied to their functions:
    (label, helper, origin, unary wrapper)."""
    partners = [(n, fn) for n, fn in unary if not DERIVATIVE_NAME.search(n)][:HELPER_PARTNERS]
    found: list[tuple[str, Any, str, Any]] = []
    for name, obj in list(ns.items()):
        code = getattr(obj, "__code__", None)
        if (not isinstance(obj, types.FunctionType) or code is None or code.co_argcount != 2
                or not is_student_file(code.co_filename) or not DERIVATIVE_NAME.search(name)):
            continue
        for partner, g in partners:
            for first in (True, False):
                helper = (lambda x, _h=obj, _g=g: _h(x, _g)) if first else (lambda x, _h=obj, _g=g: _h(_g, x))
                fn = _as_unary(helper, work)
                if fn is not None:
                    label = f"{name}(x, {partner})" if first else f"{name}({partner}, x)"
                    found.append((label, helper, "helper", fn))
                    break
    return found


def _as_unary(fn: Any, work: Work | None = None) -> Any | None:
    """`fn` if it maps a float to a float (plain, numpy or torch), else None."""
    work = work or Work()
    for make in (float, _torch_scalar):
        try:
            arg = make(PROBE_X)
            if arg is None:
                continue
            val = scalar_value(work.call(fn, arg))
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
              work: Work | None = None) -> tuple[list, list]:
    """Values and central-difference derivatives of `fn` at `points` (None where it fails).

    One call on the whole array when the student's function takes arrays (numpy code does)
    and agrees with the scalar calls; otherwise point by point, at most FUNCTION_POINTS points,
    in an order that covers the whole range first and the step values next, so a budget cut
    leaves a coarser table rather than a truncated one.
    """
    work = work or Work()
    h = 1e-6 * np.maximum(1.0, np.abs(points))
    whole = _tabulate_array(fn, raw, points, h, work)
    if whole is not None:
        return whole
    values: list[float | None] = [None] * points.size
    derivs: list[float | None] = [None] * points.size
    order = _priority(points.size, exact)[:FUNCTION_POINTS]
    for i in order:
        if work.spent:
            break
        work.points_left -= 1
        x, hx = float(points[i]), float(h[i])
        try:
            v, up, down = work.call(lambda: (fn(x), fn(x + hx), fn(x - hx)))
            d = (up - down) / (2 * hx)
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


def _tabulate_array(fn: Any, raw: Any, points: np.ndarray, h: np.ndarray,
                    work: Work) -> tuple[list, list] | None:
    def call(arr: np.ndarray) -> np.ndarray | None:
        try:
            out = work.call(raw, arr)
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
                v = work.call(fn, float(points[i]))
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


def _optimizers(ns: dict[str, Any]) -> list[dict[str, Any]]:
    """Library optimiser objects left in the namespace (torch.optim, Keras), with their settings."""
    out: list[dict[str, Any]] = []
    for name, obj in list(ns.items()):
        module = getattr(type(obj), "__module__", "") or ""
        if not module.startswith(("torch.optim", "keras", "tensorflow", "tf_keras")):
            continue
        if not (hasattr(obj, "step") or hasattr(obj, "apply_gradients")):
            continue
        settings: dict[str, Any] = {}
        groups = getattr(obj, "param_groups", None)
        source = groups[0] if isinstance(groups, list) and groups and isinstance(groups[0], dict) else obj
        for key in ("lr", "momentum", "nesterov"):
            value = source.get(key) if isinstance(source, dict) else getattr(source, key, None)
            value = scalar_value(value) if not isinstance(value, bool) else float(value)
            if value is not None:
                settings[key] = value
        out.append({"name": name, "class": type(obj).__name__, "module": module, **settings})
    return out


def _step_points(sequences: list[dict[str, Any]], figures: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Every finite step value, plus grids over the range of steps and plots and a fixed
    central window (so a function's shape is always seen on a sensible scale)."""
    xs: list[float] = []
    for s in sequences:
        xs.extend(v for v in s["values"] if v is not None and math.isfinite(v) and abs(v) <= BOUND)
    lo, hi = (min(xs), max(xs)) if xs else (-5.0, 5.0)
    for fig in figures:
        for ax in fig["axes"]:
            for ln in ax["lines"]:
                fin = [v for v in ln["x"] if v is not None and abs(v) <= BOUND]
                if len(fin) >= 10:
                    lo, hi = min(lo, min(fin)), max(hi, max(fin))
    if hi - lo < 1e-6:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    grid = np.concatenate([np.linspace(lo - pad, hi + pad, GRID), np.linspace(-CENTRAL, CENTRAL, CENTRAL_GRID)])
    exact = np.unique(np.asarray(xs[: MAX_POINTS], dtype=float))
    points = np.unique(np.concatenate([grid, exact]))
    return points, np.isin(points, exact)


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
    points, is_step = _step_points(sequences, session.capture.figures)

    work = Work()
    found = _student_callables(ns, session._is_student_file)
    found += _replaced_functions(tracer, found)
    unary: list[tuple[str, Any, str, Any]] = []
    for name, obj, origin in found[:MAX_CALLABLES]:
        fn = _as_unary(obj, work)
        if fn is not None:
            unary.append((name, obj, origin, fn))
    unary += _derivative_helpers(ns, session._is_student_file, [(n, o) for n, o, _, _ in unary], work)

    functions: list[dict[str, Any]] = []
    for name, obj, origin, fn in unary:
        if work.spent:
            logger.warning("tabulation budget spent; %s and later callables skipped", name)
            break
        values, derivs = _tabulate(fn, obj, points, is_step, work)
        if sum(v is not None for v in values) < 10:
            continue
        source = _source(obj) if origin == "callable" else str(ns.get(name))[:400] if origin == "sympy" else None
        functions.append({"id": f"fn{len(functions)}", "name": name, "origin": origin,
                          "source": source, "values": values, "derivs": derivs})
    scalars = {k: float(v) for k, v in ns.items()
               if not k.startswith("_") and type(v) is float and math.isfinite(v)}
    return {"points": points.tolist(), "functions": functions, "sequences": sequences,
            "calls": calls, "scalars": scalars, "optimizers": _optimizers(ns),
            "line_events": tracer.line_events if tracer is not None else 0}
