"""Task 2 checks: the student's models, scored on the hidden test split.

The models probe (in the sandbox) found the models, chose each one's input format and predicted
the hidden images; here the grader compares those predictions with the hidden labels, which never
left the grader. Every check that scores a model names it in its message and records the figures
(`accuracy` in 0..1 of the hidden split, ...) in `metrics`.
"""
from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from typing import Any

from grader.artifacts import CheckContext, Outcome
from grader.artifacts import MANUAL_KEY
from grader.errors import GraderError, RubricError
from grader.i18n import Message, Text, joined, msg, tr
from grader.families.models.artifacts import ModelRecord, ProbeReport, read_probe_report
from grader.families.models.baseline import BaselineModel
from grader.families.models.evaluate import ModelScore, score_predictions
from grader.families.models.figures import save_confusion, save_learning_curves
from grader.families.models.setup import ModelsSetup
from grader.results import Flag

logger = logging.getLogger(__name__)

FRAMEWORKS = {"torch": "PyTorch", "keras": "Keras"}
CNN_WORDS = re.compile(r"cnn|conv|сверт|сверст", re.IGNORECASE)
DEFAULT_MIN_ACCURACY = 0.5  # clearly learnt something (chance is 0.1)


@dataclass(frozen=True)
class Scored:
    record: ModelRecord
    score: ModelScore | None  # None: the model could not be evaluated (record.error says why)


@dataclass(frozen=True)
class Evaluation:
    report: ProbeReport
    scored: tuple[Scored, ...]
    setup: ModelsSetup


def evaluation_of(ctx: CheckContext) -> Evaluation:
    if "models" not in ctx.memo:
        setup = ctx.data
        if not isinstance(setup, ModelsSetup) or not setup.evaluate:
            raise GraderError(tr(ctx.lang, "models.not_configured"))
        report = read_probe_report(ctx.out_dir / "run")
        labels = setup.hidden_labels()
        scored = []
        for rec in report.models:
            score = None
            if rec.predictions is not None and len(rec.predictions) == len(labels):
                score = score_predictions(rec.predictions, labels, rec.inference_s, n_classes=setup.n_classes)
            scored.append(Scored(rec, score))
        ctx.memo["models"] = Evaluation(report, tuple(scored), setup)
    return ctx.memo["models"]


def _framework_ok(rec: ModelRecord, framework: str) -> bool:
    return framework in ("any", rec.framework)


def _best(items: list[Scored]) -> Scored | None:
    scored = [s for s in items if s.score is not None]
    if scored:
        return max(scored, key=lambda s: s.score.accuracy)  # type: ignore[union-attr]
    return items[0] if items else None


def label(rec: ModelRecord) -> str:
    return f"{rec.name} ({FRAMEWORKS.get(rec.framework, rec.framework)}, {rec.cls})"


def _framework_name(lang: str, framework: str) -> str | Message:
    return FRAMEWORKS.get(framework) or msg("models.any_framework")


def _metrics(s: Scored, example: BaselineModel | None = None, per_class: bool = False) -> dict[str, float]:
    rec, score = s.record, s.score
    out: dict[str, float] = {"params": float(rec.params)}
    if rec.val_accuracy is not None:
        out["validation_accuracy"] = rec.val_accuracy
    if score is not None:
        out["accuracy"] = score.accuracy
        out["dominant_class_share"] = score.dominant_share
        if score.images_per_s is not None:
            out["images_per_s"] = round(score.images_per_s, 1)
        if per_class:
            out.update({f"accuracy_class_{i}": v for i, v in enumerate(score.per_class) if v == v})
    if rec.inference_s is not None:
        out["inference_s"] = round(rec.inference_s, 4)
    if example is not None:
        out["example_accuracy"] = example.mean
        if len(example.accuracies) > 1:
            out["example_spread"] = example.spread
    return out


def _missing(ctx: CheckContext, ev: Evaluation, framework: str) -> Outcome:
    fw = _framework_name(ctx.lang, framework)
    if not ev.report.ran:
        return Outcome("missing", msg("models.probe_missing", framework=fw))
    broken = [s.record for s in ev.scored if _framework_ok(s.record, framework) and s.score is None]
    if broken:
        rec = broken[0]
        return Outcome("missing", msg("models.not_evaluated", model=label(rec),
                                     detail=rec.error or "?"), {"params": float(rec.params)})
    return Outcome("missing", msg("models.none_found", framework=fw))


def _constant(ctx: CheckContext, s: Scored, example: BaselineModel | None = None) -> Outcome | None:
    score = s.score
    if score is None or not score.constant:
        return None
    return Outcome("constant", msg("models.constant", model=label(s.record),
                                  share=score.dominant_share * 100, cls=score.dominant_class,
                                  accuracy=score.accuracy * 100), _metrics(s, example))


def _example(ev: Evaluation, which: str) -> BaselineModel | None:
    base = ev.setup.baseline
    if base is None or not base.models:
        return None
    if which == "best":
        return base.best()
    return base.models.get(which)


def _figure(ctx: CheckContext, s: Scored) -> tuple[str, ...]:
    if s.score is None:
        return ()
    title = f"{s.record.name}: {s.score.accuracy * 100:.1f}%"
    try:
        return (save_confusion(s.score, s.record.name, title, ctx.out_dir),)
    except Exception:  # a missing picture never costs points
        logger.exception("confusion matrix for %s failed", s.record.name)
        return ()


def _candidates(ev: Evaluation, framework: str) -> list[Scored]:
    return [s for s in ev.scored if _framework_ok(s.record, framework)]


def _best_scored(ctx: CheckContext, params: dict[str, Any]) -> Scored | Outcome:
    """The framework's most accurate evaluated model, or the "missing" outcome saying why none."""
    ev = evaluation_of(ctx)
    framework = str(params.get("framework", "any"))
    waited = [s.record for s in ev.scored if s.record.limit == "wall"]
    if waited:  # what was evaluated depended on the machine's load: the instructor decides
        return Outcome(MANUAL_KEY, msg("models.backstop", models=", ".join(label(r) for r in waited)))
    best = _best(_candidates(ev, framework))
    if best is None or best.score is None:
        return _missing(ctx, ev, framework)
    return best


# -- inventory ------------------------------------------------------------------------------
def check_inventory(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Which models the notebook left behind: PyTorch and Keras both, one of them, or none."""
    ev = evaluation_of(ctx)
    if not ev.scored:
        return _missing(ctx, ev, "any")
    lines = [_inventory_line(ctx.lang, s) for s in ev.scored]
    frameworks = {s.record.framework for s in ev.scored}
    key = "both" if {"torch", "keras"} <= frameworks else f"{next(iter(frameworks))}_only"
    best = _best(list(ev.scored))
    metrics = {"models": float(len(ev.scored))}
    if best is not None and best.score is not None:
        metrics["accuracy"] = best.score.accuracy
    message: Text = msg(f"models.inventory.{key}", count=len(ev.scored), models=joined(lines, "; "))
    if ev.report.skipped:
        message = joined([message, msg("models.inventory.skipped", count=ev.report.skipped)], " ")
    return Outcome(key, message, metrics)


def _inventory_line(lang: str, s: Scored) -> Message:
    rec = s.record
    kind = msg("models.kind.cnn" if rec.convolutional else "models.kind.dense")
    if s.score is None:
        return msg("models.inventory.line_failed", model=label(rec), params=rec.params, kind=kind,
                  detail=rec.error or "?")
    speed = s.score.images_per_s or "unknown"  # the message writes the number the language's way, or "?"
    return msg("models.inventory.line", model=label(rec), params=rec.params, kind=kind,
              shape=rec.shape, scale=rec.scale, accuracy=s.score.accuracy * 100, speed=speed)


# -- accuracy -------------------------------------------------------------------------------
def check_accuracy(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The framework's best model on the hidden split, against the example's accuracy."""
    best = _best_scored(ctx, params)
    if isinstance(best, Outcome):
        return best
    assert best.score is not None
    example = _example(evaluation_of(ctx), str(params.get("example", "cnn")))
    figures = _figure(ctx, best)
    constant = _constant(ctx, best, example)
    if constant is not None:
        return Outcome(constant.key, constant.message, constant.metrics, figures)
    acc = best.score.accuracy
    gap = float(params.get("good_gap", 0.02))
    good = example.mean - gap if example is not None else float(params.get("good_accuracy", 0.9))
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    key = "good" if acc >= good else ("fair" if acc >= floor else "low")
    ref = (msg("models.vs_example", example=example.mean * 100) if example is not None
           else msg("models.no_example", good=good * 100))
    message = msg(f"models.accuracy.{key}", model=label(best.record), accuracy=acc * 100,
                 good=good * 100, floor=floor * 100, reference=ref, shape=best.record.shape,
                 scale=best.record.scale)
    return Outcome(key, message, _metrics(best, example, per_class=True), figures,
                   _implausible(ctx, best, params.get("ceiling")))


def _implausible(ctx: CheckContext, s: Scored, ceiling: Any) -> tuple[Flag, ...]:
    """A flag for the instructor when the hidden accuracy is above what a model trained on this
    data plausibly reaches (the rubric's `ceiling`, 0..1): the points stand until someone looks;
    `--retrain` (the architecture trained afresh by the grader) settles it."""
    if ceiling is None or s.score is None:
        return ()
    if not isinstance(ceiling, (int, float)) or not 0 < float(ceiling) <= 1:
        raise RubricError(f"models.accuracy: ceiling must be a share of the hidden split in (0, 1]; got {ceiling!r}")
    if s.score.accuracy <= float(ceiling):
        return ()
    return (Flag("implausible", tr(ctx.lang, "models.implausible", model=label(s.record),
                                   accuracy=s.score.accuracy * 100, ceiling=float(ceiling) * 100,
                                   n=s.score.n)),)


# -- beats the example ----------------------------------------------------------------------
def check_beats_example(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Better than the course example on the hidden split, by more than the seeds' spread."""
    best = _best_scored(ctx, params)
    if isinstance(best, Outcome):
        return best
    assert best.score is not None
    which = str(params.get("example", "best"))
    example = _example(evaluation_of(ctx), which)
    if example is None:
        raise GraderError(tr(ctx.lang, "models.no_baseline", example=which))
    constant = _constant(ctx, best, example)
    if constant is not None:
        return constant
    acc = best.score.accuracy
    margin = max(float(params.get("margin", 0.0)), example.spread)
    gap = acc - example.mean
    key = "beats" if gap > margin else ("tie" if gap >= -margin else "below")
    message = msg(f"models.beats.{key}", model=label(best.record), accuracy=acc * 100,
                 example=example.mean * 100, example_name=example.name.upper(), gap=gap * 100,
                 margin=margin * 100)
    return Outcome(key, message, _metrics(best, example))


# -- convolutional --------------------------------------------------------------------------
def check_convolutional(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A trained convolutional network in this framework; an MLP sold as a CNN gets no credit."""
    ev = evaluation_of(ctx)
    framework = str(params.get("framework", "any"))
    items = _candidates(ev, framework)
    if not items:
        return _missing(ctx, ev, framework)
    conv = [s for s in items if s.record.convolutional]
    if not conv:
        named = [s for s in items if CNN_WORDS.search(s.record.name) or CNN_WORDS.search(s.record.cls)]
        s = _best(named or items)
        assert s is not None
        key = "models.cnn.sold_as_cnn" if named else "models.cnn.no_conv"
        return Outcome("not_convolutional", msg(key, model=label(s.record),
                                               layers=", ".join(s.record.layers[:12])), _metrics(s))
    best = _best(conv)
    assert best is not None
    if best.score is None:
        return Outcome("missing", msg("models.not_evaluated", model=label(best.record),
                                     detail=best.record.error or "?"), _metrics(best))
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    if best.score.constant or best.score.accuracy < floor:
        return Outcome("untrained", msg("models.cnn.untrained", model=label(best.record),
                                       accuracy=best.score.accuracy * 100, floor=floor * 100), _metrics(best))
    conv_layers = [name for name in best.record.layers if "conv" in name.lower()]
    return Outcome("ok", msg("models.cnn.ok", model=label(best.record), convs=len(conv_layers) or
                            best.record.conv_weights, accuracy=best.score.accuracy * 100), _metrics(best))


# -- equal-budget retraining ----------------------------------------------------------------
def check_retrained(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The student's PyTorch architecture, re-initialised and trained with the example's budget
    over k seeds, against the example: "beats" only when the gap exceeds the seeds' spread."""
    ev = evaluation_of(ctx)
    if ev.setup.retrain is None:
        return Outcome("not_run", msg("models.retrain.not_run"))
    labels = ev.setup.hidden_labels()
    done = [(s.record, [score_predictions(r.predictions, labels).accuracy for r in s.record.retrain])
            for s in ev.scored if s.record.framework == "torch" and s.record.retrain]
    if not done:
        failed = [s.record for s in ev.scored if s.record.framework == "torch" and s.record.retrain_error]
        if failed:
            return Outcome("failed", msg("models.retrain.failed", model=label(failed[0]),
                                        detail=failed[0].retrain_error))
        return _missing(ctx, ev, "torch")
    rec, accs = max(done, key=lambda d: statistics.fmean(d[1]))
    example = _example(ev, str(params.get("example", "best")))
    if example is None:
        raise GraderError(tr(ctx.lang, "models.no_baseline", example=params.get("example", "best")))
    mean = statistics.fmean(accs)
    spread = statistics.stdev(accs) if len(accs) > 1 else 0.0
    margin = max(spread, example.spread, float(params.get("margin", 0.0)))
    gap = mean - example.mean
    key = "beats" if gap > margin else ("tie" if gap >= -margin else "below")
    overfit = sum(len(r.overfit_epochs) for r in rec.retrain)
    figures: tuple[str, ...] = ()
    try:
        figures = (save_learning_curves(rec.retrain, rec.name, ctx.out_dir),)
    except Exception:
        logger.exception("learning curves for %s failed", rec.name)
    message: Text = msg(f"models.retrain.{key}", model=label(rec), seeds=len(accs), accuracy=mean * 100,
                 spread=spread * 100, example=example.mean * 100, example_name=example.name.upper(),
                 gap=gap * 100, margin=margin * 100)
    if overfit:
        message = joined([message, msg("models.retrain.overfit", epochs=overfit)], " ")
    metrics = {"accuracy": mean, "retrained_spread": spread, "example_accuracy": example.mean,
               "example_spread": example.spread, "seeds": float(len(accs)), "overfit_epochs": float(overfit)}
    return Outcome(key, message, metrics, figures)
