"""HW 3 checks: transfer learning really used, which layers were frozen, learning curves watched
for overfitting, and (with --retrain) the architecture retrained within the rubric's budget.

The models probe (grader_inside/probes/images.py, grader_inside/probes/transfer.py) compared each PyTorch
model's weights with the pretrained files of the grader's `--weights` folder inside the sandbox;
its records come back in models.json. Accuracy figures (0..1 of the hidden split) are measured
here against the hidden labels, through the Task 2 model checks' evaluation (grader/families/models/checks.py).

Transfer learning is a statistical decision, not a threshold on similarity. For each of the
model's early weight tensors (the stem: up to the first eight matched with the file) the probe
measured the cosine similarity with the file's tensor, and what unrelated weights give: the
same filters paired with the file's at random (the permutation distribution of the filter
pairing, whose mean and spread are exact, Hoeffding's combinatorial formulas). Weights built
with `weights=None`, or a network of the student's own, line up with the file's filters no
better than at random (z about 0 +- 1); a network started from the file stays far above chance
even after hard fine-tuning (a cosine of 0.4 over thousands of weights is dozens of standard
deviations). The stem's z (Stouffer's combination of the tensors' z) must reach `min_z`.
Outcome keys (the rubric maps them to shares of the points):
    transfer_learning  ok | untrained | not_pretrained | custom | weights_missing | code_only | missing
    layers             frozen | partial | fine_tuned | all_frozen | no_backbone | missing
    overfitting        ok | overfit | no_numbers | train_only | not_run | missing
    retrained          good | fair | low | failed | not_run | missing
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grader.families.notebook import checks as notebook
from grader.artifacts import Artifacts, Outcome
from grader.artifacts import MANUAL_KEY
from grader.families.models.checks import Scored, _missing, evaluation_of, label
from grader.i18n import Message, Text, joined, msg
from grader.families.models.artifacts import models_json
from grader.families.models.evaluate import score_predictions
from grader.families.models.figures import retrain_curves
from grader.families.models.weights import missing_in
from grader.families.models import WEIGHTS_MISSING
from grader.families.transfer.evidence import Curves, curves_figure, overfitting


DEFAULT_MIN_ACCURACY = 0.5
DEFAULT_MIN_Z = 5.0  # standard deviations above unrelated weights, over the stem (p < 3e-7 by chance)
MAX_STEM = 8


@dataclass(frozen=True)
class TensorEvidence:
    """One early tensor against the pretrained file: its similarity, and what chance gives."""

    name: str
    cosine: float
    chance_mean: float
    chance_sd: float
    z: float  # (cosine - chance_mean) / chance_sd
    equal: bool  # bit for bit the file's tensor


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def stem_evidence(info: dict[str, Any]) -> tuple[TensorEvidence, ...]:
    """The probe's per-tensor similarity records, checked (malformed entries are left out)."""
    out = []
    for raw in info.get("similarity") or []:
        if not isinstance(raw, dict):
            continue
        cos, mean, sd, z = (_number(raw.get(k)) for k in ("cosine", "chance_mean", "chance_sd", "z"))
        if cos is None or mean is None or sd is None or z is None or not -1.0001 <= cos <= 1.0001 or sd < 0:
            continue
        out.append(TensorEvidence(str(raw.get("name", "?"))[:120], cos, mean, sd, z, raw.get("equal") is True))
    return tuple(out[:MAX_STEM])


def stem_z(tensors: tuple[TensorEvidence, ...]) -> float | None:
    """Stouffer's combination of the tensors' z (None without any tensor)."""
    if not tensors:
        return None
    return sum(t.z for t in tensors) / math.sqrt(len(tensors))


@dataclass(frozen=True)
class Transfer:
    scored: Scored
    info: dict[str, Any]  # the probe's `transfer` record for this model
    min_z: float = DEFAULT_MIN_Z

    @property
    def stem(self) -> tuple[TensorEvidence, ...]:
        return stem_evidence(self.info)

    @property
    def z(self) -> float | None:
        return stem_z(self.stem)

    @property
    def pretrained(self) -> bool:
        """Started from the pretrained file: the stem far above chance, or equal to the file."""
        stem = self.stem
        if stem and all(t.equal for t in stem):
            return True
        z = stem_z(stem)
        return z is not None and z >= self.min_z

    @property
    def accuracy(self) -> float:
        return self.scored.score.accuracy if self.scored.score is not None else 0.0


def probe_records(art: Artifacts) -> dict[str, Any]:
    """The raw models.json of the run (for the HW 3 fields the Task 2 reader leaves out)."""
    if "transfer.raw" not in art.memo:
        art.memo["transfer.raw"] = models_json(art.records)[0] or {}
    return art.memo["transfer.raw"]


def transfers(art: Artifacts, params: dict[str, Any]) -> list[Transfer]:
    min_z = float(params.get("min_z", DEFAULT_MIN_Z))
    raw = {str(m.get("name")): m for m in probe_records(art).get("models", []) if isinstance(m, dict)}
    out = []
    for s in evaluation_of(art).scored:
        info = raw.get(s.record.name, {}).get("transfer")
        if isinstance(info, dict):
            out.append(Transfer(s, info, min_z))
    return out


def _pick(items: list[Transfer]) -> Transfer | None:
    """The model that makes the strongest transfer-learning case: pretrained first, then accuracy."""
    return max(items, key=lambda t: (t.pretrained, t.info.get("backbone") is not None, t.accuracy), default=None)


def _metrics(t: Transfer) -> dict[str, float]:
    out = {"params": float(t.info.get("params") or 0), "trainable_params": float(t.info.get("trainable") or 0)}
    stem = t.stem
    if stem:
        out.update(first_conv_cosine=stem[0].cosine, first_conv_chance_sd=stem[0].chance_sd,
                   stem_tensors=float(len(stem)), stem_z=round(stem_z(stem) or 0.0, 2),
                   stem_min_cosine=min(s.cosine for s in stem))
    for key in ("matched", "unchanged"):
        if isinstance(t.info.get(key), int):
            out[f"{key}_tensors"] = float(t.info[key])
    if t.scored.score is not None:
        out["accuracy"] = t.scored.score.accuracy
    return out


def _evidence(t: Transfer) -> dict[str, Any]:
    """The figures a transfer-learning message quotes: the stem's z against what it needs, and
    the first tensor's cosine against chance."""
    stem = t.stem
    first = stem[0] if stem else TensorEvidence("—", 0.0, 0.0, 0.0, 0.0, False)
    return dict(z=t.z or 0.0, min_z=t.min_z, tensors=len(stem), layer=first.name, cosine=first.cosine,
                chance_mean=first.chance_mean, chance_sd=first.chance_sd,
                cosines=joined([round(s.cosine, 2) for s in stem], "; ") if stem else "—")


def _start_state(lang: str, t: Transfer) -> Message:
    """How the pretrained backbone was used, read from the weights: every tensor matched with the
    file still equal to it (frozen), some (partly frozen), none (fine-tuned throughout)."""
    matched, unchanged = t.info.get("matched"), t.info.get("unchanged")
    if not isinstance(matched, int) or not isinstance(unchanged, int) or not 0 <= unchanged <= matched:
        matched, unchanged = len(t.stem), sum(1 for s in t.stem if s.equal)
    if matched and unchanged == matched:
        return msg("hw3.transfer.state.frozen")
    if unchanged:
        return msg("hw3.transfer.state.partly", unchanged=unchanged, tensors=matched)
    return msg("hw3.transfer.state.fine_tuned", lowest=min((s.cosine for s in t.stem), default=0.0))


# -- transfer learning really used ----------------------------------------------------------
def check_transfer_learning(art: Artifacts, params: dict[str, Any]) -> Outcome:
    lang = art.lang
    ev = evaluation_of(art)
    best = _pick(transfers(art, params))
    missing = missing_in(art.records.text(WEIGHTS_MISSING) or "")
    if missing and (best is None or not best.pretrained):
        return Outcome("weights_missing", msg("hw3.transfer.weights_missing", files=", ".join(missing)))
    if best is None:
        keras = [s for s in ev.scored if s.record.framework == "keras"]
        if keras:
            code = notebook.check_pretrained(art, {})
            return Outcome("code_only" if code.key == "ok" else code.key,
                           msg("hw3.transfer.keras", model=label(keras[0].record), verdict=code.message))
        return _missing(art, ev, "torch")
    info, model = best.info, label(best.scored.record)
    files = ", ".join(str(f) for f in info.get("files_compared") or []) or "—"
    metrics = _metrics(best)
    if not info.get("backbone") and not best.pretrained:
        return Outcome("custom", msg("hw3.transfer.custom", model=model, files=files), metrics)
    if not best.pretrained:
        key = "hw3.transfer.not_pretrained" if best.stem else "hw3.transfer.no_match"
        return Outcome("not_pretrained", msg(key, model=model, backbone=info.get("backbone"), files=files,
                                            **_evidence(best)), metrics)
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    score = best.scored.score
    if score is None or score.constant or score.accuracy < floor:
        return Outcome("untrained", msg("hw3.transfer.untrained", model=model, file=info.get("weights_file"),
                                       accuracy=best.accuracy * 100, floor=floor * 100), metrics)
    return Outcome("ok", msg("hw3.transfer.ok", model=model, backbone=info.get("backbone") or "?",
                            file=info.get("weights_file"), state=_start_state(lang, best),
                            accuracy=best.accuracy * 100, **_evidence(best)), metrics)


# -- frozen and fine-tuned layers -----------------------------------------------------------
def _names(groups: list[dict[str, Any]]) -> str:
    names = [str(g.get("name")) for g in groups]
    return ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "—"


def _count(group: dict[str, Any], key: str) -> int:
    value = group.get(key)
    return value if isinstance(value, int) and value >= 0 else 0


def check_layers(art: Artifacts, params: dict[str, Any]) -> Outcome:
    """What was frozen, read two ways: from the flags (requires_grad=False: no trainable weight
    left in the group) and from the weights themselves (every tensor of the group still equal to
    the pretrained file's: never updated, whatever the flags say, e.g. left out of the optimiser)."""
    best = _pick(transfers(art, params))
    if best is None:
        keras = _keras_layers(art)
        return keras if keras is not None else _missing(art, evaluation_of(art), "torch")
    groups = [g for g in best.info.get("groups") or [] if isinstance(g, dict)]
    backbone = [g for g in groups if _count(g, "matched") > 0]
    head = [g for g in groups if _count(g, "matched") == 0]
    model = label(best.scored.record)
    metrics = _metrics(best)
    if not best.pretrained or not backbone:
        return Outcome("no_backbone", msg("hw3.layers.no_backbone", model=model), metrics)
    flagged = [g for g in backbone if _count(g, "trainable") == 0]
    unchanged = [g for g in backbone if _count(g, "unchanged") >= _count(g, "matched")]
    frozen = [g for g in backbone if g in flagged or g in unchanged]
    tuned = [g for g in backbone if g not in frozen]
    untouched = [g for g in unchanged if g not in flagged]  # trainable, yet never updated
    moved = [g for g in flagged if g not in unchanged]  # requires_grad=False now, but changed
    trainable_head = [g for g in head if _count(g, "trainable") > 0]
    metrics.update(frozen_groups=float(len(frozen)), fine_tuned_groups=float(len(tuned)),
                   frozen_by_flag_groups=float(len(flagged)), unchanged_groups=float(len(unchanged)))
    fields = dict(model=model, frozen=_names(frozen), tuned=_names(tuned), head=_names(head), changed=_names(tuned))
    if not tuned and not trainable_head:
        key = "all_frozen"
    elif not tuned:
        key = "frozen"
    elif frozen:
        key = "partial"
    else:
        key = "fine_tuned"
    message = msg(f"hw3.layers.{key}", **fields)
    how = [msg("hw3.layers.by_flag", groups=_names(flagged))] if flagged else []
    if untouched:
        how.append(msg("hw3.layers.by_weights", groups=_names(untouched)))
    if moved:
        how.append(msg("hw3.layers.flag_but_changed", groups=_names(moved)))
    return Outcome(key, joined([message, *how], " "), metrics)


def _keras_layers(art: Artifacts) -> Outcome | None:
    """A Keras model's layers read from its `trainable` flags: the backbone is the model nested
    as one layer (keras.applications), the rest is the head. Its weights are not compared with
    a file, and the message says so."""
    records = {str(m.get("name")): m for m in probe_records(art).get("models", [])
               if isinstance(m, dict) and isinstance(m.get("keras_transfer"), dict)}
    keras = [s for s in evaluation_of(art).scored if s.record.framework == "keras" and s.record.name in records]
    if not keras:
        return None
    s = max(keras, key=lambda k: k.score.accuracy if k.score is not None else 0.0)
    info = records[s.record.name]["keras_transfer"]
    groups = [g for g in info.get("groups") or [] if isinstance(g, dict)]
    backbone = [g for g in groups if g.get("nested") is True and _count(g, "params") > 0]
    head = [g for g in groups if g not in backbone]
    model = label(s.record)
    metrics = {"params": float(sum(_count(g, "params") for g in groups)),
               "trainable_params": float(sum(_count(g, "trainable") for g in groups))}
    if not backbone:
        return Outcome("no_backbone", msg("hw3.layers.no_backbone", model=model), metrics)
    frozen = [g for g in backbone if _count(g, "trainable") == 0]
    partly = [g for g in backbone if 0 < _count(g, "trainable") < _count(g, "params")]
    tuned = [g for g in backbone if g not in frozen]
    trainable_head = [g for g in head if _count(g, "trainable") > 0]
    metrics.update(frozen_groups=float(len(frozen)), fine_tuned_groups=float(len(tuned)))
    if not tuned and not trainable_head:
        key = "all_frozen"
    elif not tuned:
        key = "frozen"
    elif frozen or partly:
        key = "partial"
    else:
        key = "fine_tuned"
    fields = dict(model=model, frozen=_names(frozen), tuned=_names(tuned), head=_names(head), changed=_names(tuned))
    detail = [msg("hw3.layers.keras_partly", group=str(g.get("name")), trainable=_count(g, "trainable_layers"),
                 layers=_count(g, "layers")) for g in partly]
    return Outcome(key, joined([msg(f"hw3.layers.{key}", **fields), *detail, msg("hw3.layers.keras_flags")], " "),
                   metrics)


# -- learning curves and overfitting --------------------------------------------------------
def _numbers(values: Any) -> tuple[float, ...] | None:
    if not isinstance(values, list) or len(values) < 2:
        return None
    try:
        return tuple(float("nan") if v is None else float(v) for v in values)
    except (TypeError, ValueError):
        return None


def curves_of(art: Artifacts) -> list[Curves]:
    """Train/validation series: those the probe read from the namespace (Keras History, lists
    named train_losses/val_losses), then pairs of lines in the captured figures."""
    found: list[Curves] = []
    for h in probe_records(art).get("histories") or []:
        if not isinstance(h, dict):
            continue
        train, val = _numbers(h.get("train")), _numbers(h.get("val"))
        if train and val:
            found.append(Curves(str(h.get("source", "?")), str(h.get("metric", "loss")), train, val))
    for fig in art.figures:
        lines = [ln for ax in fig.get("axes", []) for ln in ax.get("lines", []) if isinstance(ln, dict)]
        kinds = {notebook.series_kind(str(ln.get("label", ""))): ln for ln in lines}
        if kinds.get("train") is not None and kinds.get("val") is not None:
            train, val = _numbers(kinds["train"].get("y")), _numbers(kinds["val"].get("y"))
            text = f"{kinds['train'].get('label')} {kinds['val'].get('label')}".lower()
            if train and val:
                metric = "accuracy" if "acc" in text and "loss" not in text else "loss"
                found.append(Curves(f"figure {fig.get('id', '?')}", metric, train, val))
    return sorted(found, key=lambda c: c.metric != "loss")


def check_overfitting(art: Artifacts, params: dict[str, Any]) -> Outcome:
    found = curves_of(art)
    if not found:
        shown = notebook.check_curves(art, params)
        key = "no_numbers" if shown.key == "ok" else shown.key
        return Outcome(key, shown.message if key != "no_numbers" else msg("hw3.overfitting.no_numbers"))
    curves = found[0]
    over = overfitting(curves)
    figures = (curves_figure(curves, over),)
    metrics = {"epochs": float(over.last_epoch), "best_epoch": float(over.best_epoch),
               "overfit_epochs": float(len(over.epochs)), "worse_than_best": over.worse_by}
    fields = dict(source=curves.source, metric=curves.metric, epochs=over.last_epoch, best=over.best_epoch,
                  worse=over.worse_by * 100, marked=", ".join(str(e) for e in over.epochs) or "—")
    if over.flagged:
        return Outcome("overfit", msg("hw3.overfitting.overfit", **fields), metrics, figures)
    return Outcome("ok", msg("hw3.overfitting.ok", **fields), metrics, figures)


# -- retrained within the budget ------------------------------------------------------------
def check_retrained(art: Artifacts, params: dict[str, Any]) -> Outcome:
    ev = evaluation_of(art)
    if ev.setup.retrain is None:
        return Outcome("not_run", msg("hw3.retrain.not_run"))
    raw = {str(m.get("name")): m for m in probe_records(art).get("models", []) if isinstance(m, dict)}
    done = [s for s in ev.scored if s.record.retrain]
    if not done:
        failed = [s.record for s in ev.scored if s.record.retrain_error]
        if failed:
            return Outcome("failed", msg("hw3.retrain.failed", model=label(failed[0]),
                                        detail=failed[0].retrain_error))
        return Outcome("not_run", msg("hw3.retrain.not_run"))
    labels = ev.setup.hidden_labels()
    rec = max(done, key=lambda s: s.score.accuracy if s.score else 0.0).record
    run = rec.retrain[0]
    acc = score_predictions(run.predictions, labels, n_classes=ev.setup.n_classes).accuracy
    meta = (raw.get(rec.name) or {}).get("retrain") or {}
    if meta.get("stopped") == "wall":  # how far it got depended on the machine's load
        return Outcome(MANUAL_KEY, msg("hw3.retrain.backstop", model=label(rec),
                                      wall=float(meta.get("wall_s") or 0)))
    good = float(params.get("good_accuracy", 0.9))
    floor = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    key = "good" if acc >= good else ("fair" if acc >= floor else "low")
    figures = (retrain_curves(rec.retrain, rec.name),)
    message: Text = msg(f"hw3.retrain.{key}", model=label(rec), accuracy=acc * 100, good=good * 100,
                 floor=floor * 100, seconds=float(meta.get("seconds") or 0), budget=float(meta.get("budget_s") or 0),
                 epochs=len(run.train_loss), device=str(meta.get("device", "?")))
    if run.overfit_epochs:
        message = joined([message, msg("models.retrain.overfit", epochs=len(run.overfit_epochs))], " ")
    metrics = {"accuracy": acc, "epochs": float(len(run.train_loss)), "seconds": float(meta.get("seconds") or 0),
               "overfit_epochs": float(len(run.overfit_epochs))}
    return Outcome(key, message, metrics, figures)
