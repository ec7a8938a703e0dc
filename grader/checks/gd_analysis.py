"""Task 1 analysis: from the probe's plain numbers to what the student actually did.

Pure numpy over the artifacts (no kernel): which function the steps minimise, which update
rule produced each recorded sequence (plain GD, momentum, Nesterov) with which step size and
momentum, inferred from the sequence itself and replayed step by step with `reference.gd`.
Names are used only to break ties and to word messages, never as proof.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from reference import gd as ref

Model = Literal["gd", "gd_schedule", "momentum", "nesterov", "nesterov_torch", "nesterov_schedule"]
BOUND = 1e4
RTOL = 2e-3  # relative to the step size: room for numeric derivatives and float32 code
CURVE_RTOL = 3e-2  # a function known only from a plotted curve is less exact


@dataclass(frozen=True)
class Func:
    """A function of one variable, tabulated by the probe (or taken from a plotted curve)."""

    id: str
    name: str
    origin: str  # callable | sympy | curve
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    source: str | None = None
    dy_err: np.ndarray | None = None  # how far dy may be off (curves: finite differences)

    @property
    def exact(self) -> bool:
        return self.origin != "curve"

    def f(self, x: np.ndarray | float) -> np.ndarray:
        return np.interp(x, self.x, self.y, left=np.nan, right=np.nan)

    def grad(self, x: np.ndarray | float) -> np.ndarray:
        return np.interp(x, self.x, self.dy, left=np.nan, right=np.nan)

    def grad_error(self, x: np.ndarray) -> np.ndarray:
        if self.dy_err is None:
            return np.zeros_like(np.asarray(x, dtype=float))
        return np.interp(x, self.x, self.dy_err)

    def grad_scale(self) -> float:
        finite = self.dy[np.isfinite(self.dy)]
        return float(np.max(np.abs(finite))) if finite.size else 1.0


@dataclass(frozen=True)
class Fit:
    model: Model
    func: Func
    lr: float  # the step size a (for averaged momentum: lr*(1-b))
    beta: float
    steps: int  # steps verified from the start
    total_steps: int
    max_error: float  # worst relative step error among verified steps
    quantum: float  # rounding of the stored values (0: not rounded)


@dataclass(frozen=True)
class Sequence:
    id: str
    origin: str
    name: str
    scope: str | None
    cell: int | None
    values: tuple[float, ...]
    order: int = 0
    finished: bool = True  # False when its cell timed out or the kernel died in it

    @property
    def label(self) -> str:
        where = f"{self.scope}()" if self.scope and self.scope != "<module>" else ""
        cell = f"cell {self.cell}" if self.cell else ""
        return " ".join(p for p in (self.name, where, cell) if p)


@dataclass
class Analysis:
    functions: list[Func]
    sequences: list[Sequence]
    fits: dict[str, Fit] = field(default_factory=dict)  # sequence id -> best fit
    figures: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    scalars: dict[str, float] = field(default_factory=dict)
    main: Func | None = None

    def fits_of(self, *models: str) -> list[tuple[Sequence, Fit]]:
        """Fitted sequences of these models; work from cells that never finished is left out."""
        by_id = {s.id: s for s in self.sequences}
        found = [(by_id[k], f) for k, f in self.fits.items()
                 if f.model in models and by_id[k].finished]
        return sorted(found, key=lambda sf: (-sf[1].steps, sf[0].order))


# -- building ---------------------------------------------------------------------------------
def _array(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _functions(gd: dict[str, Any]) -> list[Func]:
    points = _array(gd.get("points", []))
    out: list[Func] = []
    for raw in gd.get("functions", []):
        y, dy = _array(raw.get("values", [])), _array(raw.get("derivs", []))
        if y.shape != points.shape or dy.shape != points.shape:
            continue
        ok = np.isfinite(y) & np.isfinite(dy)
        if ok.sum() < 10:
            continue
        out.append(Func(str(raw.get("id")), str(raw.get("name", "?")), str(raw.get("origin", "")),
                        points[ok], y[ok], dy[ok], raw.get("source")))
    return out


def curve_functions(figures: list[dict[str, Any]]) -> list[Func]:
    """Functions known only from a plotted curve (x sorted, at least 20 points)."""
    out: list[Func] = []
    for fig in figures:
        for a, ax in enumerate(fig.get("axes", [])):
            for j, line in enumerate(ax.get("lines", [])):
                x, y = _array(line.get("x", [])), _array(line.get("y", []))
                ok = np.isfinite(x) & np.isfinite(y)
                x, y = x[ok], y[ok]
                if x.size < 20 or not line.get("line", True):
                    continue
                order = np.argsort(x)
                x, y = x[order], y[order]
                if np.any(np.diff(x) <= 0) or x[-1] - x[0] <= 0:
                    keep = np.concatenate([[True], np.diff(x) > 0])
                    x, y = x[keep], y[keep]
                if x.size < 20:
                    continue
                dy = np.gradient(y, x)
                out.append(Func(f"{fig.get('id')}-{a}-{j}", f"curve in {fig.get('id')}", "curve",
                                x, y, dy, dy_err=_difference_error(x, y, dy)))
    return out


def _difference_error(x: np.ndarray, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """An estimate of how far a finite-difference slope (plus interpolation) is from f'.

    Richardson: the slope over twice the spacing differs from the slope over one spacing by
    about three times the latter's error; interpolating between points adds about a quarter of
    the second difference of the slopes.
    """
    coarse = np.interp(x, x[::2], np.gradient(y[::2], x[::2])) if x.size >= 6 else dy
    second = np.zeros_like(dy)
    second[1:-1] = np.abs(dy[2:] - 2 * dy[1:-1] + dy[:-2])
    err = np.abs(coarse - dy) / 3 + second / 4
    # smooth the estimate over neighbours: at a single point it can vanish by chance
    return np.maximum.reduce([err, np.roll(err, 1), np.roll(err, -1)]) * 2


def _sequences(gd: dict[str, Any]) -> list[Sequence]:
    out: list[Sequence] = []
    for raw in gd.get("sequences", []):
        vals = [v for v in raw.get("values", []) if v is not None]
        clean: list[float] = []
        for v in vals:
            if not math.isfinite(v) or abs(v) > BOUND:
                break
            if not clean or v != clean[-1]:
                clean.append(float(v))
        if len(clean) < 3:
            continue
        if all(float(v).is_integer() for v in clean) and np.all(np.abs(np.diff(clean)) == 1):
            continue  # a loop counter
        out.append(Sequence(str(raw.get("id")), str(raw.get("origin", "")), str(raw.get("name", "")),
                            raw.get("scope"), raw.get("cell"), tuple(clean), int(raw.get("order", 0) or 0)))
    return out


def quantum(values: np.ndarray) -> float:
    """The rounding step of the stored values (1e-3 for round(x, 3)); 0 when not rounded."""
    for digits in range(0, 9):
        scaled = values * 10.0**digits
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return 10.0**-digits
    return 0.0


# -- fitting ----------------------------------------------------------------------------------
def _tolerance(x: np.ndarray, d: np.ndarray, q: float, func: Func, lr: float) -> np.ndarray:
    """How far a replayed step may be from the stored one: relative to the step, plus
    rounding of the stored values, plus what an inexact (plotted-curve) slope may be off."""
    rtol = RTOL if func.exact else CURVE_RTOL
    slope = abs(lr) * func.grad_error(x[:-1]) if func.dy_err is not None else 0.0
    return rtol * np.abs(d) + 1e-9 * (1 + np.abs(x[:-1])) + 1.01 * q + slope


def _verified(err: np.ndarray, tol: np.ndarray) -> int:
    ok = err <= tol
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else int(ok.size)


def _relerr(err: np.ndarray, d: np.ndarray, n: int) -> float:
    if n == 0:
        return float("inf")
    scale = np.maximum(np.abs(d[:n]), 1e-12)
    return float(np.max(err[:n] / scale))


def fit_gd(x: np.ndarray, func: Func, q: float) -> Fit | None:
    g = func.grad(x[:-1])
    d = np.diff(x)
    mask = np.isfinite(g) & (np.abs(g) > 1e-12)
    if mask.sum() < 1:
        return None
    lr = float(np.median(-d[mask] / g[mask]))
    if not lr > 0:
        return None
    pred = np.array([ref.gd_step(xi, lambda _x, gi=gi: gi, lr) for xi, gi in zip(x[:-1], g)])
    err = np.abs(x[1:] - pred)
    n = _verified(err, _tolerance(x, d, q, func, lr))
    return Fit("gd", func, lr, 0.0, n, d.size, _relerr(err, d, n), q)


SCHEDULES = {
    "1/(k+1)": lambda k: 1.0 / (k + 1),
    "1/sqrt(k+1)": lambda k: 1.0 / np.sqrt(k + 1),
}


def fit_gd_schedule(x: np.ndarray, func: Func, q: float) -> Fit | None:
    """Plain GD whose step size changes by a rule: lr0/(k+1), lr0/sqrt(k+1) or lr0*r**k.

    Every step is still x - lr_k*f'(x); only the step size follows a schedule.
    """
    if x.size < 4:
        return None
    g = func.grad(x[:-1])
    d = np.diff(x)
    if not np.all(np.isfinite(g)) or np.any(np.abs(g) <= 1e-12):
        return None
    lrs = -d / g
    if not np.all(lrs > 0):
        return None
    k = np.arange(d.size, dtype=float)
    shapes = {name: rule(k) for name, rule in SCHEDULES.items()}
    ratio = float(np.median(lrs[1:] / lrs[:-1]))
    if 0 < ratio < 1:
        shapes["r**k"] = ratio ** k
    best: Fit | None = None
    for shape in shapes.values():
        with np.errstate(all="ignore"):  # r**k underflows to 0 on long runs
            lr0 = float(np.median(lrs / shape))
            pred = x[:-1] - lr0 * shape * g
        if not math.isfinite(lr0):
            continue
        err = np.abs(x[1:] - pred)
        n = _verified(err, _tolerance(x, d, q, func, lr0))
        fit = Fit("gd_schedule", func, lr0, 0.0, n, d.size, _relerr(err, d, n), q)
        if best is None or (fit.steps, -fit.max_error) > (best.steps, -best.max_error):
            best = fit
    return best


def _momentum_error(x: np.ndarray, func: Func, a: float, b: float, look_ahead: bool) -> np.ndarray:
    d = np.diff(x)
    d_prev = np.concatenate([[0.0], d[:-1]])
    at = x[:-1] + b * d_prev if look_ahead else x[:-1]
    g = func.grad(at)
    step = ref.nesterov_step if look_ahead else ref.momentum_step
    pred = np.array([step(xi, dp, lambda _x, gi=gi: gi, a, b) for xi, dp, gi in zip(x[:-1], d_prev, g)])
    return np.abs(x[1:] - pred)


def _ls_a(d: np.ndarray, d_prev: np.ndarray, g: np.ndarray, b: float) -> float:
    target = d[1:] - b * d_prev[1:]
    gg = g[1:]
    denom = float(np.dot(gg, gg))
    return float(-np.dot(gg, target) / denom) if denom > 0 else float("nan")


def _look_ahead_search(x: np.ndarray, d: np.ndarray, d_prev: np.ndarray, func: Func,
                       grid: np.ndarray) -> tuple[float, float, float] | None:
    """(residual, b, a) of the best momentum b on the grid, with a least-squares step size a.

    All grid values of a chunk at once: one row of look-ahead points per b.
    """
    found = [r for chunk in _grid_chunks(grid, d.size) if (r := _look_ahead_chunk(x, d, d_prev, func, chunk))]
    return min(found) if found else None


def _smallest_where(values: np.ndarray, ok: np.ndarray) -> int | None:
    """Index of the smallest value among those where `ok` holds (None if none does)."""
    if not ok.any():
        return None
    return int(np.flatnonzero(ok)[np.argmin(values[ok])])


def _grid_chunks(grid: np.ndarray, width: int) -> list[np.ndarray]:
    """Split a grid so that a (rows x width) work array stays around a million cells."""
    rows = max(1, 1_000_000 // max(width, 1))
    return [grid[i:i + rows] for i in range(0, grid.size, rows)]


def _look_ahead_chunk(x: np.ndarray, d: np.ndarray, d_prev: np.ndarray, func: Func,
                      grid: np.ndarray) -> tuple[float, float, float] | None:
    g = func.grad(x[None, :-1] + grid[:, None] * d_prev[None, :])[:, 1:]
    target = d[None, 1:] - grid[:, None] * d_prev[None, 1:]
    denom = np.einsum("ij,ij->i", g, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = -np.einsum("ij,ij->i", g, target) / denom
        res = np.sum((target + a[:, None] * g) ** 2, axis=1)
    i = _smallest_where(res, np.all(np.isfinite(g), axis=1) & (denom > 0) & np.isfinite(a) & np.isfinite(res))
    return None if i is None else (float(res[i]), float(grid[i]), float(a[i]))


def fit_momentum(x: np.ndarray, func: Func, q: float, look_ahead: bool) -> Fit | None:
    """Fit d_k = b*d_{k-1} - a*g(x_k [+ b*d_{k-1}]) over k >= 1 (so any initial velocity works)."""
    if x.size < 4:
        return None
    d = np.diff(x)
    d_prev = np.concatenate([[0.0], d[:-1]])
    if look_ahead:
        coarse = _look_ahead_search(x, d, d_prev, func, np.linspace(0.0, 0.999, 1000))
        if coarse is None:
            return None
        fine = np.clip(np.linspace(coarse[1] - 0.002, coarse[1] + 0.002, 401), 0, 0.9999)
        best = min(coarse, _look_ahead_search(x, d, d_prev, func, fine) or coarse)
        _, b, a = best
    else:
        g = func.grad(x[:-1])
        if not np.all(np.isfinite(g)):
            return None
        A = np.stack([-g[1:], d_prev[1:]], axis=1)
        sol, *_ = np.linalg.lstsq(A, d[1:], rcond=None)
        a, b = float(sol[0]), float(sol[1])
    if not (a > 0 and 0.0 <= b < 1.0):
        return None
    err = _momentum_error(x, func, a, b, look_ahead)
    err[0] = 0.0  # the first step may start from any velocity (often v=0: a plain GD step)
    tol = _tolerance(x, d, q, func, a)
    n = _verified(err, tol)
    return Fit("nesterov" if look_ahead else "momentum", func, a, b, n, d.size, _relerr(err, d, n), q)


def fit_torch_nesterov(x: np.ndarray, func: Func, q: float) -> Fit | None:
    if x.size < 4:
        return None
    d = np.diff(x)
    g = func.grad(x[:-1])
    if not np.all(np.isfinite(g)):
        return None
    found = [r for chunk in _grid_chunks(np.linspace(0.0, 0.999, 1000), g.size)
             if (r := _torch_nesterov_chunk(d, g, chunk))]
    if not found:
        return None
    _, b, lr = min(found)
    if not (lr > 0 and b > 0):
        return None
    buf_v = 0.0
    preds = []
    for k in range(d.size):
        nxt, buf_v = ref.torch_nesterov_step(x[k], buf_v, lambda _x, gk=g[k]: gk, lr, b, k == 0)
        preds.append(nxt)
    err = np.abs(x[1:] - np.array(preds))
    n = _verified(err, _tolerance(x, d, q, func, lr))
    return Fit("nesterov_torch", func, lr, b, n, d.size, _relerr(err, d, n), q)


def _torch_nesterov_chunk(d: np.ndarray, g: np.ndarray,
                          grid: np.ndarray) -> tuple[float, float, float] | None:
    """(residual, b, lr) of the best momentum on the grid for PyTorch's nesterov=True update."""
    # the momentum buffer of every grid value at once: buf_k = b*buf_{k-1} + g_k
    buf = np.empty((grid.size, g.size))
    acc = np.full(grid.size, g[0])
    buf[:, 0] = acc
    for k in range(1, g.size):
        acc = g[k] + grid * acc
        buf[:, k] = acc
    h = g[None, :] + grid[:, None] * buf
    denom = np.einsum("ij,ij->i", h, h)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        lrs = -(h @ d) / denom
        res = np.sum((d[None, :] + lrs[:, None] * h) ** 2, axis=1)
    i = _smallest_where(res, (denom > 0) & np.isfinite(res))
    return None if i is None else (float(res[i]), float(grid[i]), float(lrs[i]))


def fit_schedule_nesterov(x: np.ndarray, func: Func, q: float) -> Fit | None:
    """Nesterov with the (k-1)/(k+2) extrapolation: y = x_k + c_k*d_{k-1}; x_{k+1} = y - a*g(y)."""
    if x.size < 4:
        return None
    d = np.diff(x)
    d_prev = np.concatenate([[0.0], d[:-1]])
    best: Fit | None = None
    for offset in (0, 1, 2):
        k = np.arange(d.size) + offset
        c = np.where(k >= 1, (k - 1) / (k + 2), 0.0)
        y = x[:-1] + c * d_prev
        g = func.grad(y)
        if not np.all(np.isfinite(g)):
            continue
        target = d - c * d_prev
        denom = float(np.dot(g, g))
        if denom <= 0:
            continue
        a = float(-np.dot(g, target) / denom)
        if not a > 0:
            continue
        err = np.abs(target + a * g)
        n = _verified(err, _tolerance(x, d, q, func, a))
        fit = Fit("nesterov_schedule", func, a, float("nan"), n, d.size, _relerr(err, d, n), q)
        if best is None or fit.steps > best.steps:
            best = fit
    return best


def _plausible(fit: Fit, x: np.ndarray) -> bool:
    """A descent, not a grid: the gradient term matters, momentum < 1, and f goes down.

    Plain GD may also go up: with too large a step the iterates overshoot and diverge, yet every
    step is still x - lr*f'(x); the stop-rule check judges where such a run ends.
    """
    func = fit.func
    d = np.abs(np.diff(x))
    if fit.model in ("momentum", "nesterov", "nesterov_torch") and not 0.01 <= fit.beta < 0.999:
        return False
    g = np.abs(func.grad(x[:-1]))
    if not np.median(fit.lr * g) >= 0.05 * np.median(d):
        return False
    if _descends(func, x):
        return True
    return fit.model in ("gd", "gd_schedule") and fit.total_steps >= 3


def _descends(func: Func, x: np.ndarray) -> bool:
    """f ends lower than it starts (or level): what every momentum model must show."""
    f0, f1 = float(func.f(x[0])), float(func.f(x[-1]))
    return f1 < f0 or abs(f1 - f0) <= 1e-12 * (1 + abs(f0))


def _complete(fit: Fit, x: np.ndarray) -> bool:
    """The fit explains every step and is a plausible descent."""
    return fit.steps == fit.total_steps and fit.steps >= 1 and _plausible(fit, x)


def _fits_for(x: np.ndarray, funcs: list[Func]) -> list[Fit]:
    """Every complete fit of `x` that could win in best_fit.

    Plain GD on an exact function outranks every other model on any function (best_fit's
    order), so when one exists the momentum and schedule searches, on this function or another
    (a student's derivative is a candidate function too), would be computed and thrown away.
    """
    q = quantum(x)
    usable = [func for func in funcs if not np.any(np.isnan(func.grad(x)))]
    plain = {id(func): fit_gd(x, func, q) for func in usable}
    complete = {k: fit for k, fit in plain.items() if fit is not None and _complete(fit, x)}
    if any(fit.func.exact for fit in complete.values()):
        return list(complete.values())
    found: list[Fit] = []
    for func in usable:
        gd = complete.get(id(func))
        if gd is not None:
            found.append(gd)
            continue  # plain GD outranks every momentum model on the same function
        sched = fit_gd_schedule(x, func, q)
        if sched is not None and _complete(sched, x):
            found.append(sched)
        if not _descends(func, x):
            continue  # no momentum fit can be plausible (see _plausible): skip their grid searches
        for fit in (fit_momentum(x, func, q, False), fit_momentum(x, func, q, True),
                    fit_torch_nesterov(x, func, q), fit_schedule_nesterov(x, func, q)):
            if fit is not None and _complete(fit, x):
                found.append(fit)
    return found


def best_fit(seq: Sequence, funcs: list[Func]) -> tuple[Sequence, Fit] | None:
    """The simplest update rule that explains the whole sequence, over the candidate functions,
    with the sequence it explains.

    A traced variable often starts with a value left by an earlier cell (`x` at the end of the
    previous loop, then `x = x0`), so a sequence that fits only without its first value is
    accepted too, and that stale value is dropped from the sequence returned.
    """
    x = np.asarray(seq.values, dtype=float)
    found = _fits_for(x, funcs)
    if not found and x.size >= 4:
        found = _fits_for(x[1:], funcs)
        seq = replace(seq, values=seq.values[1:])
    if not found:
        return None
    rank = {"gd": 0, "gd_schedule": 1, "momentum": 1, "nesterov": 2, "nesterov_torch": 2, "nesterov_schedule": 2}
    found.sort(key=lambda f: (0 if f.func.exact else 1, rank[f.model], f.max_error))
    winner = found[0]
    if winner.model == "momentum":
        # both heavy-ball and look-ahead explain it: decide by which error is clearly smaller
        rivals = [f for f in found if f.model.startswith("nesterov") and f.func is winner.func]
        if rivals and rivals[0].max_error * 10 < winner.max_error:
            winner = rivals[0]
    return seq, winner


def analyse(probe: dict[str, Any], figures: list[dict[str, Any]],
            unfinished_cells: frozenset[int] = frozenset()) -> Analysis:
    gd = probe.get("gd") or {}
    funcs = _functions(gd)
    curves = curve_functions(figures)
    seqs = [s if s.cell not in unfinished_cells else replace(s, finished=False) for s in _sequences(gd)]
    # steps marked on plots are sequences too
    for fig in figures:
        for ax in fig.get("axes", []):
            for k, pts in enumerate(marked_points(ax)):
                xs = [float(v) for v in pts[0]]
                if len(xs) >= 3:
                    seqs.append(Sequence(f"{fig.get('id')}-pts{k}", "plot", "plot", None,
                                         fig.get("cell"), tuple(xs), 10**9))
    analysis = Analysis(funcs, seqs, figures=figures, calls=list(gd.get("calls", [])),
                        scalars=dict(gd.get("scalars", {})))
    for k, seq in enumerate(seqs):
        fitted = best_fit(seq, funcs + curves)
        if fitted is not None:
            analysis.sequences[k], analysis.fits[seq.id] = fitted
    analysis.main = _main_function(analysis, curves)
    return analysis


def marked_points(ax: dict[str, Any], max_line: int = 500) -> list[tuple[list[float], list[float]]]:
    """Point sets drawn on an axes: scatter points, lines with markers (up to max_line
    points: longer ones are usually curves drawn with markers), annotations."""
    out: list[tuple[list[float], list[float]]] = []
    ann_x: list[float] = []
    ann_y: list[float] = []
    for pts in ax.get("points", []):
        xs, ys = pts.get("x", []), pts.get("y", [])
        if pts.get("annotation"):
            ann_x += xs
            ann_y += ys
        else:
            out.append((xs, ys))
    for line in ax.get("lines", []):
        if line.get("marker") and len(line.get("x", [])) <= max_line:
            out.append((line["x"], line["y"]))
    if ann_x:
        out.append((ann_x, ann_y))
    return [(
        [x for x, y in zip(xs, ys) if x is not None and y is not None],
        [y for x, y in zip(xs, ys) if x is not None and y is not None],
    ) for xs, ys in out]


def _main_function(analysis: Analysis, curves: list[Func]) -> Func | None:
    """The student's function: the one their steps minimise, else the plotted one, else any."""
    counts: dict[str, int] = {}
    by_id: dict[str, Func] = {}
    for fit in analysis.fits.values():
        counts[fit.func.id] = counts.get(fit.func.id, 0) + fit.steps
        by_id[fit.func.id] = fit.func
    if counts:
        return by_id[max(counts, key=lambda k: counts[k])]
    for func in analysis.functions:
        if any(curve_matches(c, func) for c in curves):
            return func
    if analysis.functions:
        hints = ("f", "l", "func", "loss", "cost", "function")
        named = [f for f in analysis.functions if f.name.lower() in hints]
        return (named or analysis.functions)[0]
    return curves[0] if curves else None


def curve_matches(curve: Func, func: Func) -> bool:
    """Whether a plotted curve draws `func` (values agree over the plotted range)."""
    y = func.f(curve.x)
    ok = np.isfinite(y)
    if ok.sum() < 0.8 * curve.x.size:
        return False
    span = float(np.ptp(curve.y[ok])) or 1.0
    return bool(np.max(np.abs(y[ok] - curve.y[ok])) <= 1e-2 * span + 1e-9)


def derivative_error(g: Func, f: Func) -> tuple[float, float]:
    """Worst pointwise relative difference between g and f' on f's range, and where.

    Pointwise (with a small floor near f' = 0), so a huge range (exp(x) at x = 200) does not
    hide a wrong derivative elsewhere.
    """
    x = f.x
    gv = g.f(x)
    ok = np.isfinite(gv)
    if ok.sum() < 0.8 * x.size:
        return float("inf"), float("nan")
    ok &= np.isfinite(f.dy) & np.isfinite(f.y)
    ref_d = f.dy[ok]
    # The floor: a share of the typical slope, plus the noise of a numeric f' at that point
    # (steps crowd near the minimum, where f' ~ 0 and the median slope can be tiny).
    noise = 1e-6 * (1 + np.abs(f.y[ok]))
    floor = 2e-2 * float(np.median(np.abs(ref_d))) + noise
    diff = np.abs(gv[ok] - ref_d) / np.maximum(np.abs(ref_d), floor)
    i = int(np.argmax(diff))
    return float(diff[i]), float(x[ok][i])


def is_simple(func: Func) -> bool:
    """A polynomial of degree <= 2 (x**2, a parabola, a line): simpler than the task asks."""
    ok = np.isfinite(func.y)
    x, y = func.x[ok], func.y[ok]
    central = np.abs(x) <= 10
    # on the whole range and on the central part: far out, x**2 swamps a sin(x) term
    return _quadratic(x, y) and (central.sum() < 20 or _quadratic(x[central], y[central]))


def _quadratic(x: np.ndarray, y: np.ndarray) -> bool:
    if x.size < 5:
        return False
    coeffs = np.polyfit(x, y, 2)
    resid = np.max(np.abs(np.polyval(coeffs, x) - y))
    return bool(resid <= 1e-6 * (float(np.ptp(y)) or 1.0))
