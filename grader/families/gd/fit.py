"""Task 1 step models: which update rule (plain GD, a step-size schedule, heavy-ball momentum,
Nesterov in its three textbook forms) explains a recorded sequence, with which step size and
momentum, replayed step by step with `reference.gd` on a tabulated function.

Pure numpy over plain numbers; the analysis (gd_analysis) decides which sequences and which
functions to try.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reference import gd as ref

Model = Literal["gd", "gd_schedule", "momentum", "nesterov", "nesterov_torch", "nesterov_schedule"]
RTOL = 2e-3  # relative to the step size: room for numeric derivatives and float32 code
CURVE_RTOL = 3e-2  # a function known only from a plotted curve is less exact


@dataclass(frozen=True)
class Func:
    """A function of one variable, tabulated by the probe, read from the source (inline), taken
    from a plotted curve, or the antiderivative of a student's derivative (`of` names it)."""

    id: str
    name: str
    origin: str  # callable | sympy | helper | inline | curve | antiderivative
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    source: str | None = None
    dy_err: np.ndarray | None = None  # how far dy may be off (curves: finite differences)
    of: str | None = None  # antiderivative: the id of the derivative function it integrates
    cell: int | None = None  # inline: the cell it is written in

    @property
    def exact(self) -> bool:
        return self.origin != "curve"

    @property
    def written(self) -> bool:
        """The student wrote this function (not a hypothesis of the grader's)."""
        return self.origin != "antiderivative"

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


def fit_gd(x: np.ndarray, func: Func, q: float, head: int | None = None) -> Fit | None:
    """Plain GD with the step size read from all steps (or from the first `head` ones: a run
    followed by something else, found by `gd_prefix`)."""
    g = func.grad(x[:-1])
    d = np.diff(x)
    mask = np.isfinite(g) & (np.abs(g) > 1e-12)
    if head is not None:
        mask[head:] = False
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
    if not (np.median(fit.lr * g) >= 0.05 * np.median(d) and np.sum(fit.lr * g) >= 0.05 * np.sum(d)):
        return False
    if _descends(func, x):
        return True
    return fit.model in ("gd", "gd_schedule") and fit.total_steps >= 3


def _descends(func: Func, x: np.ndarray) -> bool:
    """f ends lower than it starts (or level): what every momentum model must show."""
    f0, f1 = float(func.f(x[0])), float(func.f(x[-1]))
    return f1 < f0 or abs(f1 - f0) <= 1e-12 * (1 + abs(f0))


def informative_steps(x: np.ndarray, q: float) -> int:
    """Steps larger than the rounding of the stored values: only they can confirm a model
    (a grid stored to one decimal "fits" anything within its rounding)."""
    return int(np.sum(np.abs(np.diff(x)) > 4 * q + 1e-12 * (1 + np.abs(x[:-1]))))


# steps a model needs before it can be told from chance: momentum fits two constants to the
# steps after the first, so a handful of rounded values (a list typed by hand) fits it anyway
MIN_STEPS = {"momentum": 5, "nesterov": 5, "nesterov_torch": 5, "nesterov_schedule": 4}


def _complete(fit: Fit, x: np.ndarray) -> bool:
    """The fit explains every step, enough of them to tell the model from chance and larger
    than the rounding, and it is a plausible descent."""
    return (fit.steps == fit.total_steps and fit.steps >= MIN_STEPS.get(fit.model, 1)
            and informative_steps(x, fit.quantum) >= min(2, fit.total_steps) and _plausible(fit, x))

