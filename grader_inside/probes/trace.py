"""Tracing the student's own code while it runs: calls of their functions and value histories.

Many programs keep nothing (the loop overwrites `x`, steps are only printed), so the grader
records, for code compiled from the student's cells only:
- every call of a student function: its scalar arguments and its result;
- every change of a numeric variable (scalars, 1-element arrays/tensors), per cell or per call.
Library code is never traced (the global trace function returns None for it), and budgets
bound the cost for long loops.
"""
from __future__ import annotations

import itertools
import math
import sys
from typing import Any, Callable

MAX_LINE_EVENTS = 2_000_000
MAX_HISTORY = 5000
MAX_CALLS_PER_FUNCTION = 20000
MAX_SCOPES = 400


def scalar_value(v: Any) -> float | None:
    """A float for numbers, 1-element numpy arrays and torch tensors; None otherwise."""
    t = type(v)
    if t is float or t is int:
        return float(v)
    if t is bool or v is None:
        return None
    name = t.__name__
    try:
        if name.startswith(("float", "int")) and hasattr(v, "dtype"):  # numpy scalars
            return float(v)
        if name == "ndarray" and v.size == 1 and v.dtype.kind in "fiu":
            return float(v.reshape(-1)[0])
        if name in ("Tensor", "Parameter") and v.numel() == 1 and v.is_floating_point():
            return float(v.detach().reshape(-1)[0])
    except Exception:
        return None
    return None


def sequence_value(v: Any, limit: int = 100_000) -> list[float] | None:
    """A list of floats for 1-D lists/tuples/arrays/tensors of numbers (len >= 2)."""
    t = type(v)
    try:
        if t in (list, tuple):
            if not 2 <= len(v) <= limit:
                return None
            out = []
            for item in v:
                s = scalar_value(item)
                if s is None:
                    return None
                out.append(s)
            return out
        name = t.__name__
        if name == "ndarray" and v.ndim == 1 and 2 <= v.size <= limit and v.dtype.kind in "fiu":
            return [float(x) for x in v.tolist()]
        if name == "Tensor" and v.dim() == 1 and 2 <= v.numel() <= limit and v.is_floating_point():
            return [float(x) for x in v.detach().cpu().tolist()]
    except Exception:
        return None
    return None


class Tracer:
    def __init__(self, is_student_file: Callable[[str], bool]) -> None:
        self.is_student_file = is_student_file
        self.cell: int | None = None
        self.histories: dict[tuple, dict[str, Any]] = {}
        self.calls: dict[tuple, dict[str, Any]] = {}
        # the code and globals of every student function called, by the key of its calls record:
        # a function redefined later (f for a second task) can still be tabulated by the probe
        self.code_of: dict[tuple, tuple[Any, dict[str, Any]]] = {}
        self.returns: list[dict[str, Any]] = []
        self.line_events = 0
        self._tick = itertools.count()
        self._invocations: dict[str, int] = {}
        self._frames: dict[int, tuple[tuple, dict[str, float], list[Any] | None]] = {}
        # last seen values per scope; shared by the top-level statements of one cell, which
        # IPython runs as separate code objects
        self._last: dict[tuple, dict[str, float]] = {}
        self._student_code: dict[Any, bool] = {}
        self.active = False

    # -- installation ----------------------------------------------------------------------
    def start(self, cell: int | None) -> None:
        self.cell = cell
        self.active = True
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(None)
        self.active = False
        self._frames.clear()
        self._last.clear()

    # -- trace functions -------------------------------------------------------------------
    def _is_student(self, code: Any) -> bool:
        known = self._student_code.get(code)
        if known is None:
            known = self.is_student_file(code.co_filename)
            self._student_code[code] = known
        return known

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        if event != "call" or not self._is_student(frame.f_code):
            return None
        code = frame.f_code
        scope = code.co_name
        n = self._invocations.get(scope, 0)
        self._invocations[scope] = n + 1
        key = (self.cell, scope, n if scope != "<module>" else 0)
        args = None
        if scope != "<module>":
            names = code.co_varnames[: code.co_argcount]
            f_locals = frame.f_locals
            args = [f_locals.get(a) for a in names]
        last = self._last.setdefault(key, {}) if scope == "<module>" else {}
        self._frames[id(frame)] = (key, last, args)
        return self._local

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.line_events += 1
            if self.line_events <= MAX_LINE_EVENTS:
                self._snapshot(frame)
        elif event == "return":
            self._snapshot(frame)
            entry = self._frames.pop(id(frame), None)
            if entry is not None and entry[2] is not None:
                self._record_call(frame, entry[2], arg)
        return self._local

    def _snapshot(self, frame: Any) -> None:
        entry = self._frames.get(id(frame))
        if entry is None:
            return
        key, last, _ = entry
        for name, v in frame.f_locals.items():
            val = scalar_value(v)
            if val is None or name.startswith("_"):
                continue
            old = last.get(name)
            if old is not None and (old == val or (math.isnan(old) and math.isnan(val))):
                continue
            last[name] = val
            hkey = key + (name,)
            hist = self.histories.get(hkey)
            if hist is None:
                if len(self.histories) >= MAX_SCOPES * 20:
                    continue
                hist = {"cell": key[0], "scope": key[1], "call": key[2], "name": name,
                        "order": next(self._tick), "values": []}
                self.histories[hkey] = hist
            if len(hist["values"]) < MAX_HISTORY:
                hist["values"].append(val)

    def _record_call(self, frame: Any, args: list[Any], result: Any) -> None:
        code = frame.f_code
        fkey = (self.cell, code.co_name, code.co_firstlineno)
        rec = self.calls.get(fkey)
        if rec is None:
            rec = {"cell": self.cell, "name": code.co_name, "order": next(self._tick),
                   "args": [], "results": [], "callables": []}
            self.calls[fkey] = rec
            self.code_of[fkey] = (code, frame.f_globals)
        if len(rec["args"]) >= MAX_CALLS_PER_FUNCTION:
            return
        scalars = [scalar_value(a) for a in args]
        res = scalar_value(result)
        if len(args) >= 1 and scalars[0] is not None and res is not None:
            rec["args"].append(scalars[0])
            rec["results"].append(res)
        names = [getattr(a, "__name__", None) for a in args if callable(a)]
        if names and not rec["callables"]:
            rec["callables"] = [n for n in names if n]
        seq = sequence_value(result)
        if seq is None and isinstance(result, tuple):
            for item in result:
                seq = sequence_value(item)
                if seq is not None:
                    self._add_return(code, seq)
        elif seq is not None:
            self._add_return(code, seq)

    def _add_return(self, code: Any, seq: list[float]) -> None:
        if len(self.returns) < 200:
            self.returns.append({"cell": self.cell, "name": code.co_name, "order": next(self._tick),
                                 "values": seq[:MAX_HISTORY]})
