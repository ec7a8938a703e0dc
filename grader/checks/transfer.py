"""HW 3 checks: transfer learning really used, which layers were frozen, learning curves watched
for overfitting, and (with --retrain) the architecture retrained within the rubric's budget.

The models probe (grader_inside/probes/images.py, grader_inside/probes/transfer.py) compared each PyTorch
model's weights with the pretrained files of the grader's `--weights` folder inside the sandbox;
its records come back in models.json. Accuracy figures (0..1 of the hidden split) are measured
here against the hidden labels, through the Task 2 model checks' evaluation (grader/checks/models.py).
Outcome keys (the rubric maps them to shares of the points):
    transfer_learning  ok | untrained | not_pretrained | custom | weights_missing | code_only | missing
    layers             frozen | partial | fine_tuned | all_frozen | no_backbone | missing
    overfitting        ok | overfit | no_numbers | train_only | not_run | missing
    retrained          good | fair | low | failed | not_run | missing
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from grader.checks import notebook
from grader.checks.base import CheckContext, Outcome
from grader.checks.models import Scored, _missing, evaluation_of, label
from grader.i18n import tr
from grader.models.artifacts import MAX_JSON_BYTES
from grader.models.evaluate import score_predictions
from grader.models.figures import save_learning_curves
from grader.models.transfer import Curves, missing_weights, overfitting, save_curves_figure

logger = logging.getLogger(__name__)

DEFAULT_MIN_ACCURACY = 0.5


@dataclass(frozen=True)
class Transfer:
    scored: Scored
    info: dict[str, Any]  # the probe's `transfer` record for this model

    @property
    def pretrained(self) -> bool:
        return bool(self.info.get("pretrained"))

    @property
    def accuracy(self) -> float:
        return self.scored.score.accuracy if self.scored.score is not None else 0.0


def probe_records(ctx: CheckContext) -> dict[str, Any]:
    """The raw models.json of the run (for the HW 3 fields the Task 2 reader leaves out)."""
    if "transfer.raw" not in ctx.memo:
        path = ctx.out_dir / "run" / "models" / "models.json"
        data: Any = {}
        try:
            if path.is_file() and path.stat().st_size <= MAX_JSON_BYTES:
                data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("unreadable models.json in %s", path.parent)
        ctx.memo["transfer.raw"] = data if isinstance(data, dict) else {}
    return ctx.memo["transfer.raw"]


def transfers(ctx: CheckContext) -> list[Transfer]:
    raw = {str(m.get("name")): m for m in probe_records(ctx).get("models", []) if isinstance(m, dict)}
    out = []
    for s in evaluation_of(ctx).scored:
        info = raw.get(s.record.name, {}).get("transfer")
        if isinstance(info, dict):
            out.append(Transfer(s, info))
    return out


def _pick(items: list[Transfer]) -> Transfer | None:
    """The model that makes the strongest transfer-learning case: pretrained first, then accuracy."""
    return max(items, key=lambda t: (t.pretrained, t.info.get("backbone") is not None, t.accuracy), default=None)


def _metrics(t: Transfer) -> dict[str, float]:
    out = {"params": float(t.info.get("params") or 0), "trainable_params": float(t.info.get("trainable") or 0)}
    conv = t.info.get("first_conv") or {}
    if isinstance(conv.get("cosine"), (int, float)):
        out["first_conv_cosine"] = float(conv["cosine"])
    for key in ("matched", "unchanged"):
        if isinstance(t.info.get(key), int):
            out[f"{key}_tensors"] = float(t.info[key])
    if t.scored.score is not None:
        out["accuracy"] = t.scored.score.accuracy
    return out


# -- transfer learning really used ----------------------------------------------------------
def check_transfer_learning(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    lang = ctx.lang
    ev = evaluation_of(ctx)
    best = _pick(transfers(ctx))
    missing = missing_weights(ctx.out_dir / "run")
    if missing and (best is None or not best.pretrained):
        return Outcome("weights_missing", tr(lang, "hw3.transfer.weights_missing", files=", ".join(missing)))
    if best is None:
        keras = [s for s in ev.scored if s.record.framework == "keras"]
        if keras:
            code = notebook.check_pretrained(ctx, {})
            return Outcome("code_only" if code.key == "ok" else code.key,
                           tr(lang, "hw3.transfer.keras", model=label(keras[0].record), verdict=code.message))
        return _missing(ctx, ev, "torch")
    info, model = best.info, label(best.scored.record)
    conv = info.get("first_conv") or {}
    files = ", ".join(info.get("files_compared") or []) or "—"
    metrics = _metrics(best)
    if not info.get("backbone") and not best.pretrained:
        return Outcome("custom", tr(lang, "hw3.transfer.custom", model=model, files=files), metrics)
    if not best.pretrained:
        return Outcome("not_pretrained", tr(lang, "hw3.transfer.not_pretrained", model=model,
                                            backbone=info.get("backbone"), files=files,
                                            cosine=float(conv.get("cosine") or 0.0)), metrics)
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    score = best.scored.score
    if score is None or score.constant or score.accuracy < floor:
        return Outcome("untrained", tr(lang, "hw3.transfer.untrained", model=model, file=info.get("weights_file"),
                                       accuracy=best.accuracy * 100, floor=floor * 100), metrics)
    return Outcome("ok", tr(lang, "hw3.transfer.ok", model=model, backbone=info.get("backbone") or "?",
                            file=info.get("weights_file"), layer=conv.get("name"), cosine=float(conv.get("cosine") or 0),
                            unchanged=info.get("unchanged", 0), matched=info.get("matched", 0),
                            accuracy=best.accuracy * 100), metrics)


# -- frozen and fine-tuned layers -----------------------------------------------------------
def _names(groups: list[dict[str, Any]]) -> str:
    names = [str(g.get("name")) for g in groups]
    return ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "—"


def check_layers(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    lang = ctx.lang
    best = _pick(transfers(ctx))
    if best is None:
        return _missing(ctx, evaluation_of(ctx), "torch")
    groups = [g for g in best.info.get("groups") or [] if isinstance(g, dict)]
    backbone = [g for g in groups if int(g.get("matched") or 0) > 0]
    head = [g for g in groups if int(g.get("matched") or 0) == 0]
    model = label(best.scored.record)
    metrics = _metrics(best)
    if not best.pretrained or not backbone:
        return Outcome("no_backbone", tr(lang, "hw3.layers.no_backbone", model=model), metrics)
    frozen = [g for g in backbone if int(g.get("trainable") or 0) == 0]
    tuned = [g for g in backbone if int(g.get("trainable") or 0) > 0]
    changed = [g for g in tuned if int(g.get("unchanged") or 0) < int(g.get("matched") or 0)]
    trainable_head = [g for g in head if int(g.get("trainable") or 0) > 0]
    metrics.update(frozen_groups=float(len(frozen)), fine_tuned_groups=float(len(tuned)))
    fields = dict(model=model, frozen=_names(frozen), tuned=_names(tuned), head=_names(head),
                  changed=_names(changed))
    if not tuned and not trainable_head:
        return Outcome("all_frozen", tr(lang, "hw3.layers.all_frozen", **fields), metrics)
    if not tuned:
        return Outcome("frozen", tr(lang, "hw3.layers.frozen", **fields), metrics)
    if frozen:
        return Outcome("partial", tr(lang, "hw3.layers.partial", **fields), metrics)
    return Outcome("fine_tuned", tr(lang, "hw3.layers.fine_tuned", **fields), metrics)


# -- learning curves and overfitting --------------------------------------------------------
def _numbers(values: Any) -> tuple[float, ...] | None:
    if not isinstance(values, list) or len(values) < 2:
        return None
    try:
        return tuple(float("nan") if v is None else float(v) for v in values)
    except (TypeError, ValueError):
        return None


def curves_of(ctx: CheckContext) -> list[Curves]:
    """Train/validation series: those the probe read from the namespace (Keras History, lists
    named train_losses/val_losses), then pairs of lines in the captured figures."""
    found: list[Curves] = []
    for h in probe_records(ctx).get("histories") or []:
        if not isinstance(h, dict):
            continue
        train, val = _numbers(h.get("train")), _numbers(h.get("val"))
        if train and val:
            found.append(Curves(str(h.get("source", "?")), str(h.get("metric", "loss")), train, val))
    for fig in ctx.figures:
        lines = [ln for ax in fig.get("axes", []) for ln in ax.get("lines", []) if isinstance(ln, dict)]
        kinds = {notebook.series_kind(str(ln.get("label", ""))): ln for ln in lines}
        if kinds.get("train") is not None and kinds.get("val") is not None:
            train, val = _numbers(kinds["train"].get("y")), _numbers(kinds["val"].get("y"))
            text = f"{kinds['train'].get('label')} {kinds['val'].get('label')}".lower()
            if train and val:
                metric = "accuracy" if "acc" in text and "loss" not in text else "loss"
                found.append(Curves(f"figure {fig.get('id', '?')}", metric, train, val))
    return sorted(found, key=lambda c: c.metric != "loss")


def check_overfitting(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    lang = ctx.lang
    found = curves_of(ctx)
    if not found:
        shown = notebook.check_curves(ctx, params)
        key = "no_numbers" if shown.key == "ok" else shown.key
        return Outcome(key, shown.message if key != "no_numbers" else tr(lang, "hw3.overfitting.no_numbers"))
    curves = found[0]
    over = overfitting(curves)
    figures: tuple[str, ...] = ()
    try:
        figures = (save_curves_figure(curves, over, ctx.out_dir),)
    except Exception:  # a missing picture never costs points
        logger.exception("learning curves figure failed")
    metrics = {"epochs": float(over.last_epoch), "best_epoch": float(over.best_epoch),
               "overfit_epochs": float(len(over.epochs)), "worse_than_best": over.worse_by}
    fields = dict(source=curves.source, metric=curves.metric, epochs=over.last_epoch, best=over.best_epoch,
                  worse=over.worse_by * 100, marked=", ".join(str(e) for e in over.epochs) or "—")
    if over.flagged:
        return Outcome("overfit", tr(lang, "hw3.overfitting.overfit", **fields), metrics, figures)
    return Outcome("ok", tr(lang, "hw3.overfitting.ok", **fields), metrics, figures)


# -- retrained within the budget ------------------------------------------------------------
def check_retrained(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    lang = ctx.lang
    ev = evaluation_of(ctx)
    if ev.setup.retrain is None:
        return Outcome("not_run", tr(lang, "hw3.retrain.not_run"))
    raw = {str(m.get("name")): m for m in probe_records(ctx).get("models", []) if isinstance(m, dict)}
    done = [s for s in ev.scored if s.record.retrain]
    if not done:
        failed = [s.record for s in ev.scored if s.record.retrain_error]
        if failed:
            return Outcome("failed", tr(lang, "hw3.retrain.failed", model=label(failed[0]),
                                        detail=failed[0].retrain_error))
        return Outcome("not_run", tr(lang, "hw3.retrain.not_run"))
    labels = ev.setup.hidden_labels()
    rec = max(done, key=lambda s: s.score.accuracy if s.score else 0.0).record
    run = rec.retrain[0]
    acc = score_predictions(run.predictions, labels, n_classes=ev.setup.n_classes).accuracy
    meta = (raw.get(rec.name) or {}).get("retrain") or {}
    good = float(params.get("good_accuracy", 0.9))
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    key = "good" if acc >= good else ("fair" if acc >= floor else "low")
    figures: tuple[str, ...] = ()
    try:
        figures = (save_learning_curves(rec.retrain, rec.name, ctx.out_dir),)
    except Exception:
        logger.exception("retraining curves for %s failed", rec.name)
    message = tr(lang, f"hw3.retrain.{key}", model=label(rec), accuracy=acc * 100, good=good * 100,
                 floor=floor * 100, seconds=float(meta.get("seconds") or 0), budget=float(meta.get("budget_s") or 0),
                 epochs=len(run.train_loss), device=str(meta.get("device", "?")))
    if run.overfit_epochs:
        message += " " + tr(lang, "models.retrain.overfit", epochs=len(run.overfit_epochs))
    metrics = {"accuracy": acc, "epochs": float(len(run.train_loss)), "seconds": float(meta.get("seconds") or 0),
               "overfit_epochs": float(len(run.overfit_epochs))}
    return Outcome(key, message, metrics, figures)
