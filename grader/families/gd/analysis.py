"""Task 1 analysis: from the probe's plain numbers to what the student actually did.

Pure numpy over the artifacts (no kernel): which function the steps minimise, which update
rule produced each recorded sequence (plain GD, momentum, Nesterov) with which step size and
momentum, inferred from the sequence itself and replayed step by step with `reference.gd`
(gd_fit). The candidate functions are the student's callables (also ones redefined later, and
two-argument derivative helpers applied to them), functions written inline in the source,
plotted curves, and the antiderivative of each function, so that steps which follow a
student's derivative are recognised even when no function of theirs has that derivative.
Names are used only to break ties and to word messages, never as proof.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from grader.families.gd.fit import (
    Fit,
    Func,
    _complete,
    _descends,
    fit_gd,
    fit_gd_schedule,
    fit_momentum,
    fit_schedule_nesterov,
    fit_torch_nesterov,
    quantum,
)
from grader.families.gd.inline import inline_expressions, numeric_constants
from grader_inside.notebook import Cell

BOUND = 1e4
DERIVATIVE_TOL = 2e-2  # numeric derivatives (forward differences) are accepted
MIN_SEGMENT = 3  # steps in a run found inside a longer recording
# how much a fitted sequence tells about which function the student minimises, by where it
# was recorded: their code running (trace, calls, returns) beats a list left in the namespace
EVIDENCE = {"trace": 1.0, "calls": 1.0, "return": 1.0, "namespace": 0.6, "markdown": 0.6, "plot": 0.3}
WRITTEN_RANK = {"callable": 0, "sympy": 1, "helper": 2, "inline": 3, "curve": 4, "antiderivative": 5}


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
    functions: list[Func]  # written by the student: callables, sympy, helpers, inline
    sequences: list[Sequence]
    fits: dict[str, Fit] = field(default_factory=dict)  # sequence id -> best fit
    figures: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    scalars: dict[str, float] = field(default_factory=dict)
    main: Func | None = None
    curves: list[Func] = field(default_factory=list)
    primitive_of: dict[str, Func] = field(default_factory=dict)  # g.id -> f with f' = g (both written)
    short: list[Sequence] = field(default_factory=list)  # two recorded values: one step at most
    # other models that explain a sequence just as well (on a quadratic, Nesterov and heavy-ball
    # momentum with other constants make the same steps): names may then break the tie
    alternatives: dict[str, tuple[Fit, ...]] = field(default_factory=dict)
    optimizers: list[dict[str, Any]] = field(default_factory=list)

    def fits_of(self, *models: str) -> list[tuple[Sequence, Fit]]:
        """Fitted sequences of these models; work from cells that never finished is left out."""
        by_id = {s.id: s for s in self.sequences}
        found = [(by_id[k], f) for k, f in self.fits.items()
                 if f.model in models and by_id[k].finished]
        return sorted(found, key=lambda sf: (-sf[1].steps, sf[0].order))

    def by_id(self, func_id: str | None) -> Func | None:
        for func in self.functions:
            if func.id == func_id:
                return func
        return None

    def is_derivative(self, func: Func) -> bool:
        """`func` equals the derivative of another function the student wrote."""
        return func.id in self.primitive_of

    def minimised(self, fit: Fit) -> Func | None:
        """The student's function whose descent the fit is: its own function, or for steps that
        follow a derivative g, the function whose derivative g is (None when there is none)."""
        if fit.func.origin != "antiderivative":
            return fit.func
        return self.primitive_of.get(fit.func.of or "")


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


def inline_functions(cells: list[Cell], points: np.ndarray, known: list[Func]) -> list[Func]:
    """Functions written inline in the source, tabulated on the probe's points; one that
    only repeats a function already known (the body of a def) is left out."""
    if points.size < 10 or not cells:
        return []
    constants = numeric_constants(cells)
    out: list[Func] = []
    for k, expr in enumerate(inline_expressions(cells, constants)):
        h = 1e-6 * np.maximum(1.0, np.abs(points))
        y = expr.evaluate(points, constants)
        dy = (expr.evaluate(points + h, constants) - expr.evaluate(points - h, constants)) / (2 * h)
        ok = np.isfinite(y) & np.isfinite(dy) & (np.abs(y) < 1e300)
        if ok.sum() < 10 or float(np.ptp(y[ok])) == 0.0 or np.allclose(dy[ok], 1.0):
            continue  # constants, and x or x + c (counters, wrappers like np.array(x))
        func = Func(f"in{k}", expr.text, "inline", points[ok], y[ok], dy[ok], expr.text, cell=expr.cell)
        if not any(_same_function(func, other) for other in known + out):
            out.append(func)
    return out


def _same_function(a: Func, b: Func) -> bool:
    y = b.f(a.x)
    ok = np.isfinite(y)
    if ok.sum() < 0.8 * a.x.size:
        return False
    return bool(np.max(np.abs(y[ok] - a.y[ok])) <= 1e-9 * (1 + float(np.max(np.abs(a.y[ok])))))


def antiderivative(g: Func) -> Func:
    """A function whose derivative is g (up to a constant): the trapezoid rule over g's table."""
    y = np.concatenate([[0.0], np.cumsum(np.diff(g.x) * (g.y[1:] + g.y[:-1]) / 2)])
    return Func(f"{g.id}-int", g.name, "antiderivative", g.x, y, g.y, g.source, of=g.id)


def curve_functions(figures: list[dict[str, Any]]) -> list[Func]:
    """Functions known only from a plotted curve: a line of at least 20 points, or a dense,
    evenly spaced series of markers (a curve drawn as dots)."""
    out: list[Func] = []
    for fig in figures:
        for a, ax in enumerate(fig.get("axes", [])):
            for j, line in enumerate(ax.get("lines", [])):
                x, y = _array(line.get("x", [])), _array(line.get("y", []))
                ok = np.isfinite(x) & np.isfinite(y)
                x, y = x[ok], y[ok]
                if x.size < 20 or not (line.get("line", True) or _dotted_curve(x)):
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


def _dotted_curve(x: np.ndarray) -> bool:
    """Markers only, but 50 or more of them at evenly spaced x: a function drawn as dots."""
    if x.size < 50:
        return False
    d = np.diff(x)
    return bool(np.all(d > 0) and np.max(d) <= 1.5 * np.min(d))


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


def is_grid(values: list[float] | tuple[float, ...] | np.ndarray) -> bool:
    """Evenly spaced values (a plotting grid, a loop counter): no descent makes equal steps."""
    d = np.diff(np.asarray(values, dtype=float))
    if d.size < 2:
        return False
    return bool(np.max(np.abs(d - d.mean())) <= 1e-6 * abs(d.mean()) + 1e-12)


def _sequences(gd: dict[str, Any]) -> tuple[list[Sequence], list[Sequence]]:
    """The recorded sequences worth fitting, and the two-value ones (a single step at most)."""
    out: list[Sequence] = []
    short: list[Sequence] = []
    for raw in gd.get("sequences", []):
        vals = [v for v in raw.get("values", []) if v is not None]
        clean: list[float] = []
        for v in vals:
            if not math.isfinite(v) or abs(v) > BOUND:
                break
            if not clean or v != clean[-1]:
                clean.append(float(v))
        if len(clean) < 2 or is_grid(clean):
            continue
        seq = Sequence(str(raw.get("id")), str(raw.get("origin", "")), str(raw.get("name", "")),
                       raw.get("scope"), raw.get("cell"), tuple(clean), int(raw.get("order", 0) or 0))
        (out if len(clean) >= 3 else short).append(seq)
    return out, short


def _with_cells(seqs: list[Sequence]) -> list[Sequence]:
    """A list left in the namespace has no cell: when its first values are those of a variable
    traced in a cell, it is that cell's work (and unfinished if the cell never finished: a list
    kept from a loop that was stopped by the time limit is no finished work)."""
    traced: dict[tuple[float, ...], Sequence] = {}
    for s in seqs:
        if s.origin == "trace" and s.cell is not None:  # its first value may be stale (see best_fit)
            traced.setdefault(s.values[1:5], s)
            traced.setdefault(s.values[:4], s)
    out = []
    for seq in seqs:
        source = traced.get(seq.values[:4]) if seq.cell is None and len(seq.values) >= 4 else None
        out.append(replace(seq, cell=source.cell, finished=source.finished) if source is not None else seq)
    return out


# -- fitting ----------------------------------------------------------------------------------
def _fits_for(x: np.ndarray, funcs: list[Func]) -> list[Fit]:
    """Every complete fit of `x` that could win in best_fit.

    Plain GD on an exact function outranks every other model on any function (best_fit's
    order), so when one exists the momentum and schedule searches, on this function or another,
    would be computed and thrown away. Momentum models are searched on the functions the
    student wrote (and plotted) only: steps that follow a wrong derivative are plain GD.
    """
    q = _precision(x)
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
        if func.origin == "antiderivative":
            continue
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


def _precision(x: np.ndarray) -> float:
    """How finely the values were stored: their decimal rounding, else float32's resolution
    when every value is a float32 (a torch tensor's default), else exact."""
    q = quantum(x)
    if q == 0.0 and np.all(x.astype(np.float32).astype(float) == x):
        q = 2.4e-7 * float(np.max(np.abs(x)))
    return q


def _rank(fit: Fit) -> tuple[int, int, int, float]:
    model = {"gd": 0, "gd_schedule": 1, "momentum": 1, "nesterov": 2, "nesterov_torch": 2, "nesterov_schedule": 2}
    return (0 if fit.func.exact else 1, model[fit.model], WRITTEN_RANK.get(fit.func.origin, 9), fit.max_error)


def best_fit(seq: Sequence, funcs: list[Func]) -> tuple[Sequence, Fit, tuple[Fit, ...]] | None:
    """The simplest update rule that explains the whole sequence, over the candidate functions,
    with the sequence it explains and the other models that explain it on the same function.

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
    found.sort(key=_rank)
    winner = found[0]
    if winner.model == "momentum":
        # both heavy-ball and look-ahead explain it: decide by which error is clearly smaller
        rivals = [f for f in found if f.model.startswith("nesterov") and f.func is winner.func]
        if rivals and rivals[0].max_error * 10 < winner.max_error:
            winner = rivals[0]
    return seq, winner, tuple(f for f in found if f is not winner and f.func is winner.func)


def gd_runs(seq: Sequence, funcs: list[Func]) -> list[tuple[Sequence, Fit]]:
    """Plain GD runs inside a recording that holds several, one after the other (one variable
    reused for runs with other start points or step sizes): the recording is cut where it
    jumps back (a new start), and each piece must be one whole GD run. Only exact functions
    are tried: a plotted curve's slack lets short pieces of anything fit."""
    exact = [f for f in funcs if f.exact]
    runs: list[tuple[Sequence, Fit]] = []
    for k, piece in enumerate(_pieces(np.asarray(seq.values, dtype=float))):
        for part in (piece, piece[1:]):  # the first value may be the last of the previous run
            if part.size < MIN_SEGMENT + 1:
                continue
            q = _precision(part)
            fits = [fit for func in exact if (fit := fit_gd(part, func, q)) is not None and _complete(fit, part)]
            if fits:
                runs.append((replace(seq, id=f"{seq.id}#{k + 1}", values=tuple(part.tolist())), min(fits, key=_rank)))
                break
    return runs


def _pieces(x: np.ndarray) -> list[np.ndarray]:
    """`x` cut before each jump: a step ten times the steps just before it, or three times and
    against their direction (a variable set back to a start value)."""
    d = np.diff(x)
    cuts = [0]
    for j in range(3, d.size):
        before = d[max(0, j - 5):j]
        typical = float(np.median(np.abs(before)))
        same_way = np.all(np.sign(before) == np.sign(before[-1]))
        if abs(d[j]) > 10 * typical or (same_way and np.sign(d[j]) != np.sign(before[-1]) and abs(d[j]) > 3 * typical):
            cuts.append(j + 1)
    cuts.append(x.size)
    return [x[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def _derivative_pairs(funcs: list[Func]) -> dict[str, Func]:
    """g.id -> f for written functions g that equal the derivative f' of another one."""
    pairs: dict[str, Func] = {}
    for f in funcs:
        for g in funcs:
            if g.id != f.id and g.id not in pairs and derivative_error(g, f)[0] <= DERIVATIVE_TOL:
                pairs[g.id] = f
    return pairs


def analyse(probe: dict[str, Any], figures: list[dict[str, Any]],
            unfinished_cells: frozenset[int] = frozenset(), cells: list[Cell] | None = None) -> Analysis:
    gd = probe.get("gd") or {}
    funcs = _functions(gd)
    funcs += inline_functions(cells or [], _array(gd.get("points", [])), funcs)
    curves = curve_functions(figures)
    seqs, short = _sequences(gd)
    # what a function of x returned for an array of x is its curve, not steps
    names = {f.name for f in funcs}
    seqs = [s for s in seqs if not (s.origin == "return" and s.scope in names)]
    seqs = [s if s.cell not in unfinished_cells else replace(s, finished=False) for s in seqs]
    seqs = _with_cells(seqs)
    # steps marked on plots are sequences too
    for fig in figures:
        for ax in fig.get("axes", []):
            for k, pts in enumerate(marked_points(ax)):
                xs = [float(v) for v in pts[0]]
                if len(xs) >= 3 and not is_grid(xs):
                    seqs.append(Sequence(f"{fig.get('id')}-pts{k}", "plot", "plot", None,
                                         fig.get("cell"), tuple(xs), 10**9))
    analysis = Analysis(funcs, [], figures=figures, calls=list(gd.get("calls", [])),
                        scalars=dict(gd.get("scalars", {})), curves=curves, short=short,
                        optimizers=list(gd.get("optimizers", [])))
    analysis.primitive_of = _derivative_pairs(funcs)
    # steps that follow a derivative of the student's: the antiderivative of every written
    # function that is not already the derivative of another (that one is a candidate itself)
    candidates = funcs + [antiderivative(g) for g in funcs if g.id not in analysis.primitive_of] + curves
    for seq in seqs:
        fitted = best_fit(seq, candidates)
        if fitted is not None:
            analysis.sequences.append(fitted[0])
            analysis.fits[seq.id] = fitted[1]
            if fitted[2]:
                analysis.alternatives[seq.id] = fitted[2]
            continue
        analysis.sequences.append(seq)
        if seq.origin in ("trace", "calls", "namespace") and len(seq.values) >= 2 * MIN_SEGMENT:
            for run, fit in gd_runs(seq, candidates):
                analysis.sequences.append(run)
                analysis.fits[run.id] = fit
    analysis.main = _main_function(analysis)
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


# -- which function is the student's ----------------------------------------------------------
def _main_function(analysis: Analysis) -> Func | None:
    """The student's function: the one their steps minimise (weighted by how the steps were
    recorded), never one that is the derivative of another; ties go to the function that is
    not a parabola, then to one written as a def. Without steps: the plotted one, else one
    named like a function."""
    by_seq = {s.id: s for s in analysis.sequences}
    score: dict[str, float] = {}
    owners: dict[str, Func] = {}
    for seq_id, fit in analysis.fits.items():
        owner = analysis.minimised(fit)
        seq = by_seq.get(seq_id)
        if owner is None or seq is None:
            continue
        owners[owner.id] = owner
        score[owner.id] = score.get(owner.id, 0.0) + EVIDENCE.get(seq.origin, 0.5) * min(fit.steps, 30)
    # several functions each descended on (x**2 and x**4 side by side): the harder one counts
    ranked = sorted(owners.values(), key=lambda f: (analysis.is_derivative(f), score[f.id] < MIN_SEGMENT,
                                                    is_simple(f), -score[f.id], WRITTEN_RANK.get(f.origin, 9)))
    if ranked:
        return ranked[0]
    followed = {fit.func.of for fit in analysis.fits.values() if fit.func.origin == "antiderivative"}
    plain = [f for f in analysis.functions
             if not analysis.is_derivative(f) and f.id not in followed and f.origin != "helper"]
    for func in plain:
        if any(curve_matches(c, func) for c in analysis.curves):
            return func
    hints = ("f", "l", "func", "loss", "cost", "function", "y")
    named = [f for f in plain if f.name.lower() in hints]
    if named or plain:
        return (named or plain)[0]
    return analysis.curves[0] if analysis.curves and not analysis.functions else None


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
    hide a wrong derivative elsewhere; a derivative rounded by the student (round(d, 2)) may be
    off by its rounding.
    """
    x = f.x
    gv = g.f(x)
    ok = np.isfinite(gv)
    if ok.sum() < 0.8 * x.size:
        return float("inf"), float("nan")
    ok &= np.isfinite(f.dy) & np.isfinite(f.y)
    ref_d = f.dy[ok]
    # The floor: a share of the typical slope, plus the noise of a numeric f' at that point
    # (steps crowd near the minimum, where f' ~ 0 and the median slope can be tiny). Typical on
    # the central window the probe always tabulates: over a range out to x = 100, exp(x) makes
    # the median slope astronomic and every difference nearer the origin look small.
    noise = 1e-6 * (1 + np.abs(f.y[ok]))
    central = np.abs(x[ok]) <= 10
    typical = np.abs(ref_d[central]) if central.sum() >= 20 else np.abs(ref_d)
    floor = 2e-2 * float(np.median(typical)) + noise
    rounding = 0.6 * quantum(gv[ok])
    diff = np.maximum(np.abs(gv[ok] - ref_d) - rounding, 0.0) / np.maximum(np.abs(ref_d), floor)
    i = int(np.argmax(diff))
    return float(diff[i]), float(x[ok][i])


def is_simple(func: Func) -> bool:
    """A polynomial of degree <= 2 (x**2, a parabola, a line): simpler than the task asks.

    Judged on the probe's central window [-10, 10] (always tabulated) and on the whole range:
    far out, x**2 swamps a sin(x) term, and a window as narrow as the last steps makes every
    smooth function look like a parabola.
    """
    ok = np.isfinite(func.y)
    x, y = func.x[ok], func.y[ok]
    central = np.abs(x) <= 10
    if central.sum() >= 20 and float(np.ptp(x[central])) >= 1.0:
        return _quadratic(x, y) and _quadratic(x[central], y[central])
    return _quadratic(x, y)


def _quadratic(x: np.ndarray, y: np.ndarray) -> bool:
    if x.size < 5:
        return False
    coeffs = np.polyfit(x, y, 2)
    resid = np.max(np.abs(np.polyval(coeffs, x) - y))
    return bool(resid <= 1e-6 * (float(np.ptp(y)) or 1.0))


