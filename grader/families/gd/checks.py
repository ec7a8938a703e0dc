"""Task 1 checks: function, gradient, steps, plot, stop rule, momentum, Nesterov.

Each check reads the shared analysis (built once per submission from the probe's numbers and
the student's source) and returns an Outcome whose key the rubric maps to a share of the
points. Steps made by a library optimiser are the library's (key `library`); steps whose
recorded evidence does not match the notebook earn nothing automatic (key `unverified`) and
are flagged for the instructor's review.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.artifacts import CheckContext, Outcome
from grader.families.gd.analysis import (
    DERIVATIVE_TOL,
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
from grader.families.gd.evidence import LibraryUse, evidence_problem, library_uses, made_by_library
from grader.families.gd.handsteps import HandSteps, hand_steps
from grader.families.gd.stoprule import LoopRule, Roles, loop_rules
from grader.i18n import Message, joined, msg, tr
from grader.results import Flag
from reference import gd as ref

logger = logging.getLogger(__name__)

NESTEROV_WORDS = re.compile(r"nesterov|nag|нестеров", re.IGNORECASE)
SHORT_MARKED_LINE = 500  # a marked line longer than this must itself be a step sequence
MAX_MARKED_LINE = 20000
MOMENTUM_MODELS = ("momentum", "nesterov", "nesterov_torch", "nesterov_schedule")
NESTEROV_MODELS = ("nesterov", "nesterov_torch", "nesterov_schedule")


@dataclass
class Task1:
    """What the student did, sorted once for all checks."""

    an: Analysis
    uses: list[LibraryUse]
    gd: list[tuple[Sequence, Fit]]  # plain GD by the student, on their function (or derivative)
    wrong: list[tuple[Sequence, Fit]]  # plain GD that follows a derivative which is not f'
    schedule: list[tuple[Sequence, Fit]]
    momentum: list[tuple[Sequence, Fit]]  # heavy-ball, written by the student
    nesterov: list[tuple[Sequence, Fit]]
    library: list[tuple[Sequence, Fit, LibraryUse]]  # any model, made by a library optimiser
    hand: HandSteps | None  # steps computed by hand in a markdown cell


def analysis_of(ctx: CheckContext) -> Analysis:
    return task_of(ctx).an


def task_of(ctx: CheckContext) -> Task1:
    if "gd" not in ctx.memo:
        unfinished = frozenset(c.number for c in ctx.run_cells if c.status in ("timeout", "died"))
        an = analyse(ctx.probe, ctx.figures, unfinished, ctx.cells)
        ctx.memo["gd"] = _sorted(an, library_uses(ctx.cells), ctx)
    return ctx.memo["gd"]


def _sorted(an: Analysis, uses: list[LibraryUse], ctx: CheckContext) -> Task1:
    library: list[tuple[Sequence, Fit, LibraryUse]] = []
    own: list[tuple[Sequence, Fit]] = []
    fitted = an.fits_of("gd", "gd_schedule", *MOMENTUM_MODELS)
    for seq, fit in fitted:
        use = made_by_library(seq, uses)
        if use is not None:
            library.append((seq, fit, use))
    # the same values recorded another way (the calls of f at the library's points) are the
    # library's work too
    made = {s.values[:8]: use for s, _, use in library}
    for seq, fit in fitted:
        use = made.get(seq.values[:8]) or made.get(seq.values[1:9])
        if use is not None and not any(s is seq for s, _, _ in library):
            library.append((seq, fit, use))
        elif use is None:
            own.append((seq, fit))
    own = _not_plot(own)
    main = an.main
    gd, wrong = [], []
    for seq, fit in own:
        if fit.model != "gd":
            continue
        owner = an.minimised(fit)
        if owner is not None and not an.is_derivative(owner):
            gd.append((seq, fit))
        elif owner is None and fit.func.origin == "antiderivative":
            (wrong if main is not None else gd).append((seq, fit))
    if main is not None:  # steps on the student's own function first
        gd.sort(key=lambda sf: an.minimised(sf[1]) is not main)
    momentum = [sf for sf in own if sf[1].model == "momentum"]
    nesterov = [sf for sf in own if sf[1].model in NESTEROV_MODELS]
    # momentum steps that a Nesterov form explains as well, where the code says Nesterov
    for seq, fit in list(momentum):
        alt = next((a for a in an.alternatives.get(seq.id, ()) if a.model in NESTEROV_MODELS), None)
        if alt is not None and _claims_nesterov(ctx, seq):
            momentum.remove((seq, fit))
            nesterov.append((seq, alt))
    return Task1(an, uses, gd, wrong, [sf for sf in own if sf[1].model == "gd_schedule"], momentum, nesterov,
                 library, hand_steps(ctx.cells, an))


def _not_plot(fits: list[tuple[Sequence, Fit]]) -> list[tuple[Sequence, Fit]]:
    """Steps recorded from the run; points read off a plot only when nothing else was recorded."""
    recorded = [sf for sf in fits if sf[0].origin != "plot"]
    return recorded or fits


def _hinted_derivative(name: str) -> bool:
    low = name.lower()
    return bool(re.search(r"(^d|grad|deriv|diff|prime|производн|_d|dx$|^g$)", low))


def _where(seq: Sequence) -> Message:
    """Where the steps are, in the report's language: "xs, ячейка 3" / "xs in descend(), cell 3"."""
    scope = seq.scope if seq.scope and seq.scope != "<module>" else None
    if seq.cell and scope:
        return msg("gd.where.scope_cell", name=seq.name, scope=scope, cell=seq.cell)
    if seq.cell:
        return msg("gd.where.cell", name=seq.name, cell=seq.cell)
    if scope:
        return msg("gd.where.scope", name=seq.name, scope=scope)
    return msg("gd.where.name", name=seq.name)


def _evidence(ctx: CheckContext, an: Analysis, seq: Sequence, fit: Fit, check: str) -> Outcome | None:
    """No automatic credit when the recorded steps do not match the notebook: say why, and
    flag the submission for the instructor's review."""
    problem = evidence_problem(ctx.cells, ctx.run_cells, seq, an.minimised(fit) or fit.func)
    if problem is None:
        return None
    message = msg("gd.unverified", problem=problem)
    return Outcome("unverified", message, flags=(Flag("evidence", message.render(ctx.lang), check),))


# -- function -------------------------------------------------------------------------------
def check_function(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    func = analysis_of(ctx).main
    if func is None:
        return Outcome("missing", msg("gd.function.missing"))
    if is_simple(func):
        return Outcome("simple", msg("gd.function.simple", name=func.name))
    return Outcome("ok", msg("gd.function.ok", name=func.name))


# -- gradient -------------------------------------------------------------------------------
def check_gradient(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    task = task_of(ctx)
    an = task.an
    func = an.main
    if func is None:
        followed = [fit.func for _, fit in task.gd if fit.func.origin == "antiderivative"]
        if followed:
            return Outcome("missing", msg("gd.gradient.no_function", name=followed[0].name))
        return Outcome("missing", msg("gd.gradient.missing", func="f"))
    derivatives = sorted((g for g in an.functions if g.id != func.id and _matches_derivative(g, func)),
                         key=lambda g: (g.origin == "inline", g.origin == "helper"))
    if derivatives:
        err, _ = derivative_error(derivatives[0], func) if func.exact else (0.0, 0.0)
        return Outcome("ok", msg("gd.gradient.ok", name=derivatives[0].name, func=func.name),
                       {"max_rel_error": err})
    if task.wrong:
        followed = task.an.by_id(task.wrong[0][1].func.of)
        if followed is not None:
            return _wrong(ctx, followed, func)
    if _steps_on(task, func):
        return Outcome("ok", msg("gd.gradient.ok_steps", func=func.name))
    hinted = [g for g in an.functions if g.id != func.id and g.origin in ("callable", "sympy", "helper")
              and _hinted_derivative(g.name)]
    if hinted:
        return _wrong(ctx, hinted[0], func)
    return Outcome("missing", msg("gd.gradient.missing", func=func.name))


def _matches_derivative(g: Func, func: Func) -> bool:
    if func.exact:
        return derivative_error(g, func)[0] <= DERIVATIVE_TOL
    # a plotted curve: its slope is known only to within the finite differences' error
    gv = g.f(func.x)
    ok = np.isfinite(gv)
    if ok.sum() < 0.8 * func.x.size:
        return False
    slack = (func.dy_err[ok] if func.dy_err is not None else 0.0) + 3e-2 * np.abs(func.dy[ok]) \
        + 2e-2 * float(np.median(np.abs(func.dy[ok])))
    return bool(np.all(np.abs(gv[ok] - func.dy[ok]) <= slack))


def _wrong(ctx: CheckContext, g: Func, func: Func) -> Outcome:
    err, where = derivative_error(g, func)
    got = float(g.f(where)) if np.isfinite(where) else float("nan")
    expected = float(func.grad(where)) if np.isfinite(where) else float("nan")
    return Outcome("wrong", msg("gd.gradient.wrong", name=g.name, x=where, got=got,
                               expected=expected), {"max_rel_error": err})


def _steps_on(task: Task1, func: Func) -> bool:
    """Descent steps (any method) on `func` itself: its derivative was computed in the loop."""
    fits = task.gd + task.momentum + task.nesterov + [(s, f) for s, f, _ in task.library]
    return any(fit.func.id == func.id for _, fit in fits)


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
    task = task_of(ctx)
    an = task.an
    min_steps = int(params.get("min_steps", 3))
    if task.gd:
        seq, fit = task.gd[0]
        metrics = {"steps": float(fit.steps), "lr": fit.lr}
        problem = _evidence(ctx, an, seq, fit, "steps")
        if problem is not None:
            return problem
        if fit.steps < min_steps:
            return Outcome("too_few", msg("gd.steps.too_few", steps=fit.steps, min_steps=min_steps), metrics)
        figs = _reference_figure(ctx, seq, fit, "steps_gd.svg")
        if fit.func.origin == "antiderivative":  # no function of theirs to check the derivative against
            return Outcome("ok", msg("gd.steps.ok_derivative", steps=fit.steps, label=_where(seq),
                                    lr=fit.lr, name=fit.func.name), metrics, figs)
        key = "gd.steps.ok_diverging" if _diverges(seq, fit) else "gd.steps.ok"
        return Outcome("ok", msg(key, steps=fit.steps, label=_where(seq), lr=fit.lr), metrics, figs)
    if task.wrong and an.main is not None:
        seq, fit = task.wrong[0]
        return Outcome("wrong_gradient", msg("gd.steps.wrong_gradient", label=_where(seq),
                                            name=fit.func.name, func=an.main.name), {"steps": float(fit.steps)})
    if task.schedule:
        seq, fit = task.schedule[0]
        return Outcome("variable_lr", msg("gd.steps.variable_lr", steps=fit.steps, label=_where(seq),
                                         lr=fit.lr), {"steps": float(fit.steps), "lr": fit.lr})
    if task.hand is not None:
        return _hand_outcome(ctx, task.hand, min_steps)
    if task.momentum or task.nesterov:
        seq, fit = max(task.momentum + task.nesterov, key=lambda sf: sf[1].steps)
        method = msg("gd.method.nesterov" if fit.model in NESTEROV_MODELS else "gd.method.momentum")
        return Outcome("momentum_only", msg("gd.steps.momentum_only", method=method, label=_where(seq)),
                       {"steps": float(fit.steps)})
    use = _library_use(ctx, task)
    if use is not None:
        return Outcome("library", msg("gd.steps.library", optimizer=use.label, cell=use.cell))
    single = _single_step(an)
    if single is not None:
        return Outcome("too_few", msg("gd.steps.too_few", steps=1, min_steps=min_steps),
                       {"steps": 1.0, "lr": single})
    if any(len(s.values) >= 3 and s.origin in ("trace", "calls", "namespace") for s in an.sequences):
        return Outcome("not_gd", msg("gd.steps.not_gd"))
    return Outcome("missing", msg("gd.steps.missing", min_steps=min_steps))


def _library_use(ctx: CheckContext, task: Task1) -> LibraryUse | None:
    """The library optimiser that did the work: one whose steps were recorded, else one created
    in a cell that ran."""
    return _library_with(ctx, task, lambda u: True, ("gd", "gd_schedule", *MOMENTUM_MODELS))


def _single_step(an: Analysis) -> float | None:
    """One GD step x1 = x0 - lr*f'(x0) whose lr is a step size the student defined: a single
    step fits GD with some lr, so only the student's own lr makes it evidence."""
    func = an.main
    if func is None:
        return None
    rates = [v for k, v in an.scalars.items() if v > 0]
    for seq in an.short:
        x0, x1 = seq.values
        g = float(func.grad(x0))
        if not np.isfinite(g) or abs(g) < 1e-12:
            continue
        lr = (x0 - x1) / g
        if lr > 0 and any(abs(lr - r) <= 1e-6 * r for r in rates):
            return lr
    return None


def _hand_outcome(ctx: CheckContext, hand: HandSteps, min_steps: int) -> Outcome:
    metrics = {"steps": float(hand.correct), "lr": hand.lr}
    slips = joined([msg("gd.steps.hand_slip", k=k, got=got, expected=exp) for k, got, exp in hand.slips], "; ")
    if hand.correct < min_steps:
        too_few = msg("gd.steps.too_few", steps=hand.correct, min_steps=min_steps)
        return Outcome("too_few", joined([too_few, slips], " ") if hand.slips else too_few, metrics)
    key = "gd.steps.ok_hand_slips" if hand.slips else "gd.steps.ok_hand"
    return Outcome("ok", msg(key, steps=hand.correct, cell=hand.cell, lr=hand.lr, slips=slips), metrics)


def _diverges(seq: Sequence, fit: Fit) -> bool:
    """The run ends higher than it started: the step size is too large."""
    return float(fit.func.f(seq.values[-1])) > float(fit.func.f(seq.values[0]))


# -- plot -----------------------------------------------------------------------------------
def check_plot(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    task = task_of(ctx)
    an = task.an
    func = an.main
    min_points = int(params.get("min_points", 3))
    steps = [np.asarray(s.values) for s, _ in _not_plot(task.gd + task.momentum + task.nesterov + task.schedule
                                                        + [(s, f) for s, f, _ in task.library])]
    if task.hand is not None:
        steps.append(np.asarray(task.hand.values))
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
            marked = max(_marked_on_curve(ax, curve, steps) for curve in drawn)
            if marked >= min_points:
                return Outcome("ok", msg("gd.plot.ok", fig=fig.get("id"), points=marked),
                               {"points": float(marked)}, (f"run/{fig.get('png')}",) if fig.get("png") else ())
            cand = (2, "no_steps", str(fig.get("id")))
            best = cand if best is None or cand[0] > best[0] else best
    if best is None:
        return Outcome("missing", msg("gd.plot.missing"))
    _, key, fig_id = best
    figs = tuple(f"run/{f.get('png')}" for f in an.figures if f.get("id") == fig_id and f.get("png"))
    if key == "wrong_function":
        return Outcome(key, msg("gd.plot.wrong_function", func=func.name if func else "f"),
                       figures=figs)
    return Outcome(key, msg("gd.plot.no_steps", fig=fig_id), figures=figs)


def _marked_on_curve(ax: dict[str, Any], curve: Func, steps: list[np.ndarray]) -> int:
    """How many points of one step sequence are marked on the curve.

    Counted per sequence, so the last point of three different methods (an animation's final
    frame) is not three steps. A long line drawn with markers counts only when it is itself a
    step sequence (most of its points are steps): otherwise it is a curve drawn with markers.
    Points one per scatter call are taken together.
    """
    span = float(np.ptp(curve.y)) or 1.0
    xspan = float(np.ptp(curve.x)) or 1.0
    groups = [(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
              for xs, ys in marked_points(ax, max_line=MAX_MARKED_LINE) if len(xs) > 1]
    singles = [(xs[0], ys[0]) for xs, ys in marked_points(ax, max_line=MAX_MARKED_LINE) if len(xs) == 1]
    if singles:
        groups.append((np.array([p[0] for p in singles], dtype=float), np.array([p[1] for p in singles], dtype=float)))
    best = 0
    for x, y in groups:
        on = _on_curve(curve, x, y, span)
        if not steps:
            if x.size <= SHORT_MARKED_LINE:
                best = max(best, int(np.unique(np.round(x[on], 9)).size))
            continue
        for seq in steps:
            nearest = _nearest_step(x, seq, 1e-3 * xspan)
            if x.size > SHORT_MARKED_LINE and (nearest >= 0).mean() < 0.9:
                continue
            best = max(best, int(np.unique(nearest[on & (nearest >= 0)]).size))  # distinct steps hit
    return best


def _nearest_step(x: np.ndarray, seq: np.ndarray, tol: float) -> np.ndarray:
    """For each point: the index of the closest distinct step value within tol, or -1."""
    values = np.unique(seq)
    if values.size == 0:
        return np.full(x.shape, -1)
    i = np.clip(np.searchsorted(values, x), 0, values.size - 1)
    j = np.clip(i - 1, 0, values.size - 1)
    pick = np.where(np.abs(values[j] - x) < np.abs(values[i] - x), j, i)
    return np.where(np.abs(values[pick] - x) <= tol, pick, -1)


def _on_curve(curve: Func, x: np.ndarray, y: np.ndarray, span: float) -> np.ndarray:
    """Points that lie on the drawn curve: within a thousandth of its height, plus what
    straight segments between its points may be off there (a coarse grid bends less)."""
    bend = np.zeros_like(curve.y)
    bend[1:-1] = np.abs(curve.y[2:] - 2 * curve.y[1:-1] + curve.y[:-2])
    slack = np.interp(x, curve.x, np.maximum.reduce([bend, np.roll(bend, 1), np.roll(bend, -1)]))
    return np.abs(curve.f(x) - y) <= 1e-3 * span + slack + 1e-9


# -- stop rule ------------------------------------------------------------------------------
def _roles(task: Task1) -> Roles:
    """Names that compute the function, its derivative, and the variables that held f and x
    at the steps: from what the run showed, with names only for what it could not show."""
    an = task.an
    main = an.main
    f_names: set[str] = set()
    g_names: set[str] = set()
    followed = {fit.func.of for _, fit in task.gd + task.wrong}
    for func in an.functions:
        short = func.name.split(".")[-1].split("(")[0].strip()
        if not short.isidentifier():
            continue
        if func.id in followed or (main is not None and an.primitive_of.get(func.id) is main):
            g_names.add(short)
        elif main is not None and (func.id == main.id or _same_values(func, main)):
            f_names.add(short)
        elif _hinted_derivative(short):
            g_names.add(short)
        elif main is None or not main.exact:
            f_names.add(short)
    f_values, x_values = _value_holders(task)
    return Roles(frozenset(f_names - g_names), frozenset(g_names), f_values, x_values)


def _value_holders(task: Task1) -> tuple[frozenset[str], frozenset[str]]:
    """Names whose recorded values were the steps of a descent, or f at those steps.

    Read from the run, not from names: `ys` in `abs(ys[-1] - ys[-2]) < eps` is a change of f
    when the run shows ys held f(x_k).
    """
    an = task.an
    f_values: set[str] = set()
    x_values: set[str] = set()
    for seq, fit in task.gd + task.schedule + task.momentum + task.nesterov:
        owner = an.minimised(fit)
        if seq.origin in ("trace", "namespace") and seq.name.isidentifier():
            x_values.add(seq.name)
        if owner is None:
            continue
        fx = owner.f(np.asarray(seq.values))
        span = float(np.nanmax(fx) - np.nanmin(fx)) if np.isfinite(fx).any() else 0.0
        # a plotted curve is interpolated between its points: allow for that
        slack = 1e-9 if owner.exact else 2e-3 * float(np.ptp(owner.y))
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
    task = task_of(ctx)
    an = task.an
    rules = loop_rules(ctx.cells, _roles(task))
    order = {"delta_f": 0, "delta_x": 1, "grad_norm": 2, "unknown": 3, "fixed_steps": 4}
    # the descent whose loop is judged: plain GD, else the momentum method the student wrote,
    # else a library optimiser's loop
    fits = task.gd + task.schedule or task.momentum + task.nesterov or [(s, f) for s, f, _ in task.library]
    candidates: list[tuple[LoopRule, tuple[Sequence, Fit] | None]] = []
    for rule in rules:
        seq_fit = _sequence_of(rule, fits)
        if seq_fit is not None or rule.kind in ("delta_f", "delta_x", "grad_norm"):
            candidates.append((rule, seq_fit))
    if not candidates:
        if fits:
            return Outcome("fixed_steps", msg("gd.stop_rule.fixed_steps"))
        return Outcome("missing", msg("gd.stop_rule.missing"))
    candidates.sort(key=lambda c: (c[1] is None, order[c[0].kind]))
    rule, seq_fit = candidates[0]
    if rule.kind in ("fixed_steps", "unknown"):
        if seq_fit is None:
            return Outcome("missing", msg("gd.stop_rule.missing"))
        return Outcome("fixed_steps", msg("gd.stop_rule.fixed_steps"))
    if seq_fit is None and task.wrong and an.main is not None:
        seq = task.wrong[0][0]
        x_last = float(seq.values[-1])
        if not _near_minimum(an.main, seq.values):
            return Outcome("not_converged", msg("gd.stop_rule.not_converged",
                                               condition=rule.condition, cell=rule.cell, x=x_last,
                                               g=float(an.main.grad(x_last))), {"x_final": x_last})
    if seq_fit is None:
        ending = msg("gd.stop_rule.ending_unknown")
        return Outcome(rule.kind, msg(f"gd.stop_rule.{rule.kind}", condition=rule.condition,
                                     cell=rule.cell, ending=ending))
    seq, fit = seq_fit
    func = an.minimised(fit) or fit.func
    x_last = float(seq.values[-1])
    g_last = float(fit.func.grad(x_last))
    metrics = {"x_final": x_last, "grad_final": g_last, "steps": float(fit.steps)}
    if _diverges(seq, fit):
        return Outcome("diverged", msg("gd.stop_rule.diverged", condition=rule.condition, cell=rule.cell,
                                      x0=float(seq.values[0]), x=x_last, lr=fit.lr), metrics)
    if not _near_minimum(func, seq.values):
        return Outcome("not_converged", msg("gd.stop_rule.not_converged", condition=rule.condition,
                                           cell=rule.cell, x=x_last, g=g_last), metrics)
    ending = msg("gd.stop_rule.ending_ok", x=x_last, steps=fit.steps)
    return Outcome(rule.kind, msg(f"gd.stop_rule.{rule.kind}", condition=rule.condition,
                                 cell=rule.cell, ending=ending), metrics)


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


def _near_minimum(func: Func, values: tuple[float, ...]) -> bool:
    """The run ended where descent stops: GD continued from its last point with a safe step
    (from the curvature around the run) moves it by at most 2% of the way the run had to go."""
    x_first, x_last = float(values[0]), float(values[-1])
    lo, hi = min(values), max(values)
    window = (func.x >= lo - 1e-9) & (func.x <= hi + 1e-9)
    curv = np.abs(np.gradient(func.dy, func.x))
    local = curv[window] if window.sum() >= 3 else curv
    lr = 0.5 / max(float(np.nanmax(local)) if local.size else 1.0, 1e-9)
    scale = float(np.ptp(func.x)) or 1.0
    x_star = x_last

    def slope(v: float) -> float:
        return float(func.grad(v))

    for _ in range(5000):  # GD from the last point, until it stops moving (or leaves the range)
        nxt = ref.gd_step(x_star, slope, lr)
        if not np.isfinite(nxt):
            break
        moved = abs(nxt - x_star)
        x_star = nxt
        if moved <= 1e-9 * scale:
            break
    way = max(abs(x_first - x_star), 1e-6 * scale)
    # a plotted curve's slope is rough: where its descent stops is known less precisely
    slack = 0.0 if func.exact else 1e-2 * scale
    return abs(x_star - x_last) <= 2e-2 * way + slack


# -- momentum and Nesterov ------------------------------------------------------------------
def check_momentum(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    task = task_of(ctx)
    if task.momentum:
        seq, fit = task.momentum[0]
        problem = _evidence(ctx, task.an, seq, fit, "momentum")
        if problem is not None:
            return problem
        figs = _reference_figure(ctx, seq, fit, "steps_momentum.svg")
        return Outcome("ok", msg("gd.momentum.ok", label=_where(seq), lr=fit.lr, beta=fit.beta,
                                steps=fit.steps), {"lr": fit.lr, "beta": fit.beta, "steps": float(fit.steps)},
                       figs)
    use = _library_with(ctx, task, lambda u: u.momentum > 0 or u.nesterov, MOMENTUM_MODELS)
    if use is not None:
        return Outcome("library", msg("gd.momentum.library", optimizer=use.label, cell=use.cell))
    return Outcome("missing", msg("gd.momentum.missing"))


def _library_with(ctx: CheckContext, task: Task1, wanted: Any, models: tuple[str, ...]) -> LibraryUse | None:
    """A library optimiser with the setting asked for, seen at work (its steps fit one of
    `models`) or created in a cell that ran."""
    for _, fit, use in task.library:
        if fit.model in models and wanted(use):
            return use
    ran = {c.number for c in ctx.run_cells if c.status in ("ok", "error")}
    return next((u for u in task.uses if wanted(u) and (not ctx.run_cells or u.cell in ran)), None)


def check_nesterov(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    task = task_of(ctx)
    if task.nesterov:
        seq, fit = task.nesterov[0]
        problem = _evidence(ctx, task.an, seq, fit, "nesterov")
        if problem is not None:
            return problem
        beta: str | float = "(k-1)/(k+2)" if fit.model == "nesterov_schedule" else fit.beta  # a number: 0,9 in Russian
        figs = _reference_figure(ctx, seq, fit, "steps_nesterov.svg") if fit.model == "nesterov" else ()
        return Outcome("ok", msg("gd.nesterov.ok", label=_where(seq), lr=fit.lr, beta=beta,
                                steps=fit.steps), {"lr": fit.lr, "steps": float(fit.steps)}, figs)
    use = _library_with(ctx, task, lambda u: u.nesterov, NESTEROV_MODELS)
    if use is not None:
        return Outcome("library", msg("gd.nesterov.library", optimizer=use.label, cell=use.cell))
    for seq, fit in task.momentum:
        if _claims_nesterov(ctx, seq):
            return Outcome("current_point", msg("gd.nesterov.current_point", label=_where(seq)))
    return Outcome("missing", msg("gd.nesterov.missing"))


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
