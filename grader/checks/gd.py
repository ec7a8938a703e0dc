"""Task 1 checks: function, gradient, steps, plot, stop rule, momentum, Nesterov.

Each check reads the shared analysis (built once per submission from the probe's numbers) and
returns an Outcome whose key the rubric maps to a share of the points.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.base import CheckContext, Outcome
from grader.checks.gd_analysis import (
    Analysis,
    Fit,
    Func,
    Sequence,
    analyse,
    curve_functions,
    curve_matches,
    derivative_error,
    is_simple,
    marked_points,
)
from grader.checks.gd_stoprule import LoopRule, Roles, loop_rules
from grader.i18n import tr
from reference import gd as ref

logger = logging.getLogger(__name__)

NESTEROV_WORDS = re.compile(r"nesterov|nag|нестеров", re.IGNORECASE)
DERIVATIVE_TOL = 2e-2  # numeric derivatives (forward differences) are accepted
SHORT_MARKED_LINE = 500  # a marked line longer than this must itself be a step sequence
MAX_MARKED_LINE = 20000


def analysis_of(ctx: CheckContext) -> Analysis:
    if "gd" not in ctx.memo:
        unfinished = frozenset(c.number for c in ctx.run_cells if c.status in ("timeout", "died"))
        ctx.memo["gd"] = analyse(ctx.probe, ctx.figures, unfinished)
    return ctx.memo["gd"]


def _derivatives(an: Analysis, func: Func) -> list[tuple[Func, float, float]]:
    """Every other tabulated callable with its distance from func' (sorted, best first)."""
    out = []
    for g in an.functions:
        if g.id == func.id:
            continue
        err, where = derivative_error(g, func)
        out.append((g, err, where))
    return sorted(out, key=lambda t: t[1])


def _hinted_derivative(name: str) -> bool:
    low = name.lower()
    return bool(re.search(r"(^d|grad|deriv|diff|prime|производн|_d|dx$|^g$)", low))


# -- function -------------------------------------------------------------------------------
def check_function(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    func = an.main
    if func is None:
        return Outcome("missing", tr(ctx.lang, "gd.function.missing"))
    if is_simple(func):
        return Outcome("simple", tr(ctx.lang, "gd.function.simple", name=func.name))
    return Outcome("ok", tr(ctx.lang, "gd.function.ok", name=func.name))


# -- gradient -------------------------------------------------------------------------------
def check_gradient(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    func = an.main
    if func is None:
        return Outcome("missing", tr(ctx.lang, "gd.gradient.missing", func="f"))
    cands = _derivatives(an, func) if func.exact else []
    for g, err, _ in cands:
        if err <= DERIVATIVE_TOL:
            return Outcome("ok", tr(ctx.lang, "gd.gradient.ok", name=g.name, func=func.name),
                           {"max_rel_error": err})
    wrong = _wrong_gradient_used(an, func)
    if wrong is not None:
        return _wrong(ctx, wrong, func)
    hinted = [(g, err, where) for g, err, where in cands if _hinted_derivative(g.name)]
    if hinted and not _steps_on(an, func):
        return _wrong(ctx, hinted[0][0], func)
    if _steps_on(an, func):
        return Outcome("ok", tr(ctx.lang, "gd.gradient.ok_steps", func=func.name))
    if hinted:
        return _wrong(ctx, hinted[0][0], func)
    return Outcome("missing", tr(ctx.lang, "gd.gradient.missing", func=func.name))


def _wrong(ctx: CheckContext, g: Func, func: Func) -> Outcome:
    err, where = derivative_error(g, func)
    got = float(g.f(where)) if np.isfinite(where) else float("nan")
    expected = float(func.grad(where)) if np.isfinite(where) else float("nan")
    return Outcome("wrong", tr(ctx.lang, "gd.gradient.wrong", name=g.name, x=where, got=got,
                               expected=expected), {"max_rel_error": err})


def _steps_on(an: Analysis, func: Func) -> bool:
    return any(f.func.id == func.id and f.model in ("gd", "gd_schedule") for f in an.fits.values())


def _wrong_gradient_used(an: Analysis, func: Func) -> Func | None:
    """A student derivative that is not func' but that their GD steps follow."""
    for g in an.functions:
        if g.id == func.id or not _hinted_derivative(g.name):
            continue
        err, _ = derivative_error(g, func)
        if err <= DERIVATIVE_TOL:
            continue
        for fit in an.fits.values():
            if fit.func.id == g.id:
                return g
        # the steps follow g: fit GD against g treated as the gradient itself
        if _gd_follows(an, g):
            return g
    return None


def _gd_follows(an: Analysis, g: Func) -> Sequence | None:
    from grader.checks.gd_analysis import fit_gd, quantum

    as_grad = Func(g.id + "-as-grad", g.name, g.origin, g.x, g.y, g.y, g.source)
    for seq in an.sequences:
        x = np.asarray(seq.values)
        if np.any(np.isnan(as_grad.grad(x))):
            continue
        fit = fit_gd(x, as_grad, quantum(x))
        if fit is not None and fit.steps == fit.total_steps and fit.steps >= 2:
            return seq
    return None


# -- steps ----------------------------------------------------------------------------------
def _reference_figure(ctx: CheckContext, seq: Sequence, fit: Fit, name: str) -> tuple[str, ...]:
    """The student's steps beside the reference replay on the student's own function (SVG)."""
    from grader.report.svgplot import Series, line_chart

    func = fit.func
    x = np.asarray(seq.values, dtype=float)
    if fit.model == "gd":
        ref_x = ref.run_gd(lambda v: float(func.grad(v)), float(x[0]), fit.lr, x.size - 1)
    else:
        ref_x = ref.run_momentum(lambda v: float(func.grad(v)), float(x[0]), fit.lr, fit.beta,
                                 x.size - 1, nesterov=fit.model == "nesterov")
    ref_arr = np.asarray(ref_x, dtype=float)
    both = np.concatenate([x, ref_arr])
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (float(func.x[0]), float(func.x[-1]))
    pad = 0.2 * (hi - lo or 1.0)
    grid = np.linspace(max(lo - pad, func.x[0]), min(hi + pad, func.x[-1]), 400)
    svg = line_chart([
        Series(grid, func.f(grid), func.name, "#4d4d4d"),
        Series(ref_arr, func.f(ref_arr), tr(ctx.lang, "gd.figure.reference"), "#2ca02c", "dashed", "x"),
        Series(x, func.f(x), tr(ctx.lang, "gd.figure.student"), "#d62728", None, "o"),
    ], tr(ctx.lang, "gd.figure.title") + f" ({fit.model})")
    out = Path(ctx.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(svg, encoding="utf-8")
    return (name,)


def check_steps(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    min_steps = int(params.get("min_steps", 3))
    fits = [(s, f) for s, f in an.fits_of("gd") if s.origin != "plot"] or an.fits_of("gd")
    if fits:
        seq, fit = fits[0]
        metrics = {"steps": float(fit.steps), "lr": fit.lr}
        if fit.steps < min_steps:
            return Outcome("too_few", tr(ctx.lang, "gd.steps.too_few", steps=fit.steps,
                                         min_steps=min_steps), metrics)
        wrong = _wrong_gradient_used(an, fit.func)
        figs = _reference_figure(ctx, seq, fit, "steps_gd.svg")
        if wrong is not None and fit.func.exact and _gd_follows(an, wrong) is not None \
                and fit.func.id == wrong.id:
            return Outcome("wrong_gradient", tr(ctx.lang, "gd.steps.wrong_gradient", label=seq.label,
                                                name=wrong.name, func=fit.func.name), metrics, figs)
        key = "gd.steps.ok_diverging" if _diverges(seq, fit) else "gd.steps.ok"
        return Outcome("ok", tr(ctx.lang, key, steps=fit.steps, label=seq.label, lr=fit.lr), metrics, figs)
    scheduled = [(s, f) for s, f in an.fits_of("gd_schedule") if s.origin != "plot"]
    if scheduled:
        seq, fit = scheduled[0]
        return Outcome("variable_lr", tr(ctx.lang, "gd.steps.variable_lr", steps=fit.steps, label=seq.label,
                                         lr=fit.lr), {"steps": float(fit.steps), "lr": fit.lr})
    if an.main is not None:
        wrong = _wrong_gradient_used(an, an.main)
        seq = _gd_follows(an, wrong) if wrong is not None else None
        if wrong is not None and seq is not None:
            return Outcome("wrong_gradient", tr(ctx.lang, "gd.steps.wrong_gradient", label=seq.label,
                                                name=wrong.name, func=an.main.name),
                           {"steps": float(len(seq.values) - 1)})
    if any(len(s.values) >= 3 and s.origin in ("trace", "calls", "namespace") for s in an.sequences):
        return Outcome("not_gd", tr(ctx.lang, "gd.steps.not_gd"))
    return Outcome("missing", tr(ctx.lang, "gd.steps.missing", min_steps=min_steps))


def _diverges(seq: Sequence, fit: Fit) -> bool:
    """The run ends higher than it started: the step size is too large."""
    return float(fit.func.f(seq.values[-1])) > float(fit.func.f(seq.values[0]))


# -- plot -----------------------------------------------------------------------------------
def check_plot(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    func = an.main
    min_points = int(params.get("min_points", 3))
    step_values = [np.asarray(s.values) for s, _ in an.fits_of("gd", "gd_schedule", "momentum", "nesterov",
                                                                "nesterov_torch", "nesterov_schedule")
                   if s.origin != "plot"]
    best: tuple[int, str, str] | None = None  # (rank, key, figure id)
    for fig in an.figures:
        for ax in fig.get("axes", []):
            curves = curve_functions([{"id": fig.get("id"), "axes": [ax]}])
            if not curves:
                continue
            drawn = [c for c in curves if func is None or curve_matches(c, func)
                     or (not func.exact and c.id == func.id)]
            if not drawn:
                cand = (1, "wrong_function", str(fig.get("id")))
                best = cand if best is None or cand[0] > best[0] else best
                continue
            marked = _marked_on_curve(ax, drawn[0], step_values)
            if marked >= min_points:
                return Outcome("ok", tr(ctx.lang, "gd.plot.ok", fig=fig.get("id"), points=marked),
                               {"points": float(marked)}, (f"run/{fig.get('png')}",) if fig.get("png") else ())
            cand = (2, "no_steps", str(fig.get("id")))
            best = cand if best is None or cand[0] > best[0] else best
    if best is None:
        return Outcome("missing", tr(ctx.lang, "gd.plot.missing"))
    _, key, fig_id = best
    figs = tuple(f"run/{f.get('png')}" for f in an.figures if f.get("id") == fig_id and f.get("png"))
    if key == "wrong_function":
        return Outcome(key, tr(ctx.lang, "gd.plot.wrong_function", func=func.name if func else "f"),
                       figures=figs)
    return Outcome(key, tr(ctx.lang, "gd.plot.no_steps", fig=fig_id), figures=figs)


def _marked_on_curve(ax: dict[str, Any], curve: Func, step_values: list[np.ndarray]) -> int:
    """How many marked points lie on the curve (and, where steps are known, are steps).

    A long line drawn with markers counts only when it is itself a step sequence (most of its
    points are steps): otherwise it is a curve drawn with markers.
    """
    best = 0
    span = float(np.ptp(curve.y)) or 1.0
    xspan = float(np.ptp(curve.x)) or 1.0
    steps = np.sort(np.concatenate(step_values)) if step_values else np.empty(0)
    groups = marked_points(ax, max_line=MAX_MARKED_LINE)
    for xs, ys in groups:
        if len(xs) < 1:
            continue
        x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        on = np.abs(curve.f(x) - y) <= 2e-2 * span + 1e-9
        near = _near_any(x, steps, 1e-3 * xspan)
        if len(xs) > SHORT_MARKED_LINE and near.mean() < 0.9:
            continue
        if steps.size and near[on].sum() >= 3:
            on = on & near
        if len(xs) >= 3 and np.unique(np.round(x[on], 9)).size >= min(3, len(xs)):
            best = max(best, int(on.sum()))
        elif on.sum() > best and len(xs) < 3:
            best = max(best, int(on.sum()))
    # points spread over several scatter calls (one per step)
    singles = [(xs[0], ys[0]) for xs, ys in groups if len(xs) == 1]
    if len(singles) >= 3:
        x = np.array([p[0] for p in singles])
        y = np.array([p[1] for p in singles])
        best = max(best, int((np.abs(curve.f(x) - y) <= 2e-2 * span + 1e-9).sum()))
    return best


def _near_any(x: np.ndarray, sorted_steps: np.ndarray, tol: float) -> np.ndarray:
    """For each x: whether some step value lies within tol of it."""
    if sorted_steps.size == 0:
        return np.zeros(x.shape, dtype=bool)
    i = np.clip(np.searchsorted(sorted_steps, x), 1, sorted_steps.size - 1) if sorted_steps.size > 1 \
        else np.zeros(x.shape, dtype=int)
    nearest = np.minimum(np.abs(sorted_steps[i] - x), np.abs(sorted_steps[np.maximum(i - 1, 0)] - x))
    return nearest <= tol


# -- stop rule ------------------------------------------------------------------------------
def _roles(an: Analysis) -> Roles:
    f_names: set[str] = set()
    g_names: set[str] = set()
    main = an.main
    for func in an.functions:
        short = func.name.split(".")[-1]
        if main is not None and main.exact:
            err, _ = derivative_error(func, main)
            if func.id == main.id or (not _hinted_derivative(short) and err > DERIVATIVE_TOL
                                      and _same_values(func, main)):
                f_names.add(short)
            elif err <= DERIVATIVE_TOL or _hinted_derivative(short):
                g_names.add(short)
        elif _hinted_derivative(short):
            g_names.add(short)
        else:
            f_names.add(short)
    f_values, x_values = _value_holders(an)
    return Roles(frozenset(f_names), frozenset(g_names), f_values, x_values)


def _value_holders(an: Analysis) -> tuple[frozenset[str], frozenset[str]]:
    """Names whose recorded values were the steps of a descent, or f at those steps.

    Read from the run, not from names: `ys` in `abs(ys[-1] - ys[-2]) < eps` is a change of f
    when the run shows ys held f(x_k).
    """
    f_values: set[str] = set()
    x_values: set[str] = set()
    fitted = an.fits_of("gd", "gd_schedule", "momentum", "nesterov", "nesterov_torch", "nesterov_schedule")
    for seq, fit in fitted:
        if seq.origin in ("trace", "namespace") and seq.name.isidentifier():
            x_values.add(seq.name)
        fx = fit.func.f(np.asarray(seq.values))
        span = float(np.nanmax(fx) - np.nanmin(fx)) if np.isfinite(fx).any() else 0.0
        # a plotted curve is interpolated between its points: allow for that
        slack = 1e-9 if fit.func.exact else 2e-3 * float(np.ptp(fit.func.y))
        for other in an.sequences:
            if other.origin not in ("trace", "namespace") or not other.name.isidentifier():
                continue
            vals = np.asarray(other.values[:fx.size])
            if vals.size >= 3 and np.all(np.abs(vals - fx[:vals.size]) <= 5e-3 * span + slack):
                f_values.add(other.name)
    return frozenset(f_values), frozenset(x_values - f_values)


def _same_values(a: Func, b: Func) -> bool:
    y = a.f(b.x)
    ok = np.isfinite(y)
    return bool(ok.any() and np.max(np.abs(y[ok] - b.y[ok])) <= 1e-9 * (1 + float(np.ptp(b.y))))


def check_stop_rule(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    rules = loop_rules(ctx.cells, _roles(an))
    order = {"delta_f": 0, "delta_x": 1, "grad_norm": 2, "unknown": 3, "fixed_steps": 4}
    gd_fits = an.fits_of("gd", "gd_schedule")
    # loops that drive a GD sequence: same cell, same function
    candidates: list[tuple[LoopRule, tuple[Sequence, Fit] | None]] = []
    for rule in rules:
        seq_fit = _sequence_of(rule, gd_fits)
        if seq_fit is not None or rule.kind in ("delta_f", "delta_x", "grad_norm"):
            candidates.append((rule, seq_fit))
    if not candidates:
        if gd_fits:
            return Outcome("fixed_steps", tr(ctx.lang, "gd.stop_rule.fixed_steps"))
        return Outcome("missing", tr(ctx.lang, "gd.stop_rule.missing"))
    candidates.sort(key=lambda c: (c[1] is None, order[c[0].kind]))
    rule, seq_fit = candidates[0]
    if rule.kind in ("fixed_steps", "unknown"):
        if seq_fit is None:
            return Outcome("missing", tr(ctx.lang, "gd.stop_rule.missing"))
        return Outcome("fixed_steps", tr(ctx.lang, "gd.stop_rule.fixed_steps"))
    if seq_fit is None and an.main is not None:
        wrong = _wrong_gradient_used(an, an.main)
        seq = _gd_follows(an, wrong) if wrong is not None else None
        if seq is not None and not _near_minimum_of(an.main, float(seq.values[-1])):
            x_last = float(seq.values[-1])
            return Outcome("not_converged", tr(ctx.lang, "gd.stop_rule.not_converged",
                                               condition=rule.condition, cell=rule.cell, x=x_last,
                                               g=float(an.main.grad(x_last))), {"x_final": x_last})
    if seq_fit is None:
        ending = tr(ctx.lang, "gd.stop_rule.ending_unknown")
        return Outcome(rule.kind, tr(ctx.lang, f"gd.stop_rule.{rule.kind}", condition=rule.condition,
                                     cell=rule.cell, ending=ending))
    seq, fit = seq_fit
    x_last = float(seq.values[-1])
    g_last = float(fit.func.grad(x_last))
    if _diverges(seq, fit):
        return Outcome("diverged", tr(ctx.lang, "gd.stop_rule.diverged", condition=rule.condition, cell=rule.cell,
                                      x0=float(seq.values[0]), x=x_last, lr=fit.lr),
                       {"x_final": x_last, "grad_final": g_last, "steps": float(fit.steps)})
    if not _near_minimum(fit, x_last):
        return Outcome("not_converged", tr(ctx.lang, "gd.stop_rule.not_converged", condition=rule.condition,
                                           cell=rule.cell, x=x_last, g=g_last),
                       {"x_final": x_last, "grad_final": g_last, "steps": float(fit.steps)})
    ending = tr(ctx.lang, "gd.stop_rule.ending_ok", x=x_last, steps=fit.steps)
    return Outcome(rule.kind, tr(ctx.lang, f"gd.stop_rule.{rule.kind}", condition=rule.condition,
                                 cell=rule.cell, ending=ending),
                   {"x_final": x_last, "grad_final": g_last, "steps": float(fit.steps)})


def _sequence_of(rule: LoopRule, fits: list[tuple[Sequence, Fit]]) -> tuple[Sequence, Fit] | None:
    for seq, fit in fits:
        if seq.origin == "trace" and seq.cell == rule.cell and (seq.scope or "<module>") == rule.scope:
            return seq, fit
    for seq, fit in fits:
        if seq.origin in ("calls", "return") and seq.cell == rule.cell:
            return seq, fit
    for seq, fit in fits:
        if seq.origin == "trace" and seq.scope == rule.scope and rule.scope != "<module>":
            return seq, fit
    return None


def _near_minimum(fit: Fit, x_last: float) -> bool:
    """Continuing the same descent from the last point barely moves it."""
    return _near_minimum_of(fit.func, x_last, fit.lr)


def _near_minimum_of(func: Func, x_last: float, lr: float | None = None) -> bool:
    grad = func.grad
    if lr is None:  # a safe step for this function: 1 / the largest curvature on its range
        curv = np.abs(np.gradient(func.dy, func.x))
        lr = 0.5 / max(float(np.nanmax(curv)), 1e-9)
    scale = float(np.ptp(func.x)) or 1.0
    x_star = x_last

    def slope(v: float) -> float:
        return float(grad(v))

    for _ in range(5000):  # GD from the last point, until it stops moving (or leaves the range)
        nxt = ref.gd_step(x_star, slope, lr)
        if not np.isfinite(nxt):
            break
        moved = abs(nxt - x_star)
        x_star = nxt
        if moved <= 1e-9 * scale:  # the steps left could add at most 5e-6 * scale
            break
    return abs(x_star - x_last) <= 2e-2 * scale


# -- momentum and Nesterov ------------------------------------------------------------------
def check_momentum(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    fits = [(s, f) for s, f in an.fits_of("momentum") if s.origin != "plot"]
    if not fits:
        return Outcome("missing", tr(ctx.lang, "gd.momentum.missing"))
    seq, fit = fits[0]
    figs = _reference_figure(ctx, seq, fit, "steps_momentum.svg")
    return Outcome("ok", tr(ctx.lang, "gd.momentum.ok", label=seq.label, lr=fit.lr, beta=fit.beta,
                            steps=fit.steps), {"lr": fit.lr, "beta": fit.beta, "steps": float(fit.steps)},
                   figs)


def check_nesterov(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    an = analysis_of(ctx)
    fits = [(s, f) for s, f in an.fits_of("nesterov", "nesterov_torch", "nesterov_schedule")
            if s.origin != "plot"]
    if fits:
        seq, fit = fits[0]
        beta = "(k-1)/(k+2)" if fit.model == "nesterov_schedule" else f"{fit.beta:.3g}"
        figs = _reference_figure(ctx, seq, fit, "steps_nesterov.svg") if fit.model == "nesterov" else ()
        return Outcome("ok", tr(ctx.lang, "gd.nesterov.ok", label=seq.label, lr=fit.lr, beta=beta,
                                steps=fit.steps), {"lr": fit.lr, "steps": float(fit.steps)}, figs)
    for seq, fit in an.fits_of("momentum"):
        if _claims_nesterov(ctx, seq):
            return Outcome("current_point", tr(ctx.lang, "gd.nesterov.current_point", label=seq.label))
    return Outcome("missing", tr(ctx.lang, "gd.nesterov.missing"))


def _claims_nesterov(ctx: CheckContext, seq: Sequence) -> bool:
    """Names and nearby text as hints: the sequence's function, variable, cell or heading."""
    if NESTEROV_WORDS.search(f"{seq.name} {seq.scope or ''}"):
        return True
    if seq.scope and seq.scope != "<module>":
        return False  # inside a function: its name is the claim
    if seq.cell is None:
        return False
    code = [c for c in ctx.cells if c.kind == "code" and c.number == seq.cell]
    if code and NESTEROV_WORDS.search(code[0].source):
        return True
    # the markdown cell right before that code cell
    previous = None
    for cell in ctx.cells:
        if cell.kind == "code" and cell.number == seq.cell:
            break
        if cell.kind == "markdown":
            previous = cell
        elif cell.kind == "code":
            previous = None
    return bool(previous and NESTEROV_WORDS.search(previous.source))
