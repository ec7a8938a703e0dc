"""What the models probe left in the outbox (models.json and the predictions' .npy files, among
the run's records), read back as plain data (nothing is unpickled)."""
from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.artifacts import Records
from grader.families.models import MODELS_FOLDER

logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 8 * 1024 * 1024
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class RetrainRun:
    """One seed of equal-budget retraining: hidden-split predictions and per-epoch history."""

    seed: int
    predictions: np.ndarray
    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    overfit_epochs: tuple[int, ...]


@dataclass(frozen=True)
class ModelRecord:
    """One model the probe found in the student's namespace."""

    name: str
    framework: str  # torch | keras
    cls: str
    params: int
    trainable_params: int
    conv_weights: int  # weight tensors of 3+ dimensions: convolution kernels
    layers: tuple[str, ...]
    shape: str | None  # chosen input layout, e.g. "N,1,28,28" (None: none worked)
    scale: str | None  # chosen value range, e.g. "mnist-norm"
    val_accuracy: float | None
    tried: dict[str, float] = field(default_factory=dict)
    predictions: np.ndarray | None = None  # class per hidden image
    inference_s: float | None = None
    batch_size: int | None = None
    error: str | None = None
    retrain: tuple[RetrainRun, ...] = ()
    retrain_error: str | None = None
    limit: str | None = None  # why it was left out: "cpu" (the budget) or "wall" (the backstop)

    @property
    def convolutional(self) -> bool:
        return self.conv_weights > 0

    @property
    def family(self) -> str:
        return "cnn" if self.convolutional else "mlp"


@dataclass(frozen=True)
class ProbeReport:
    models: tuple[ModelRecord, ...]
    device: str = "cpu"
    hidden_images: int = 0
    skipped: int = 0  # models beyond the probe's limit
    error: str | None = None
    ran: bool = True  # False: the probe left no report (the run died before it)


def _clean(text: Any) -> str | None:
    return ANSI.sub("", str(text)) if text else None


def _predictions(folder: Mapping[str, bytes], name: Any, n_hidden: int) -> tuple[np.ndarray | None, str | None]:
    if not isinstance(name, str) or "/" in name or not name.endswith(".npy"):
        return None, None
    raw = folder.get(name)
    if raw is None:
        return None, f"unreadable predictions (no file {name})"
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        return None, f"unreadable predictions ({exc})"
    if arr.ndim != 1 or len(arr) != n_hidden or not np.issubdtype(arr.dtype, np.integer):
        return None, f"predictions of shape {arr.shape} and type {arr.dtype}; expected {n_hidden} integers"
    return arr.astype(np.int64), None


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) if isinstance(v, (int, float)) else float("nan") for v in values or ())


def _retrain_runs(folder: Mapping[str, bytes], raw: Any, n_hidden: int) -> tuple[RetrainRun, ...]:
    runs = []
    for run in (raw or {}).get("runs", []) if isinstance(raw, dict) else []:
        preds, _ = _predictions(folder, run.get("predictions") if isinstance(run, dict) else None, n_hidden)
        if preds is None:
            continue
        epochs = (run.get("history") or {}).get("epochs") or []
        runs.append(RetrainRun(
            seed=int(run.get("seed") or 0), predictions=preds,
            train_loss=_floats(e.get("train_loss") for e in epochs if isinstance(e, dict)),
            val_loss=_floats(e.get("val_loss") for e in epochs if isinstance(e, dict)),
            overfit_epochs=tuple(int(x) for x in (run.get("history") or {}).get("overfit_epochs") or ()
                                 if isinstance(x, int))))
    return tuple(runs)


def models_json(records: Records, folder: str = MODELS_FOLDER) -> tuple[dict[str, Any] | None, str | None]:
    """The models probe's models.json among a run's records, as (its data, an error): (None, None)
    when there is none or it is larger than MAX_JSON_BYTES, (None, "unreadable models.json") when
    it is not a JSON object. Every reader of the file (the checks, the HW 3 fields, the report's
    remarks) reads it through here, within the same bound."""
    raw = records.data(f"{folder}/models.json")
    if raw is None or len(raw) > MAX_JSON_BYTES:
        return None, None
    try:
        data = records.json(f"{folder}/models.json")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        logger.warning("unreadable models.json in %s", folder)
        return None, "unreadable models.json"
    return data, None


def probe_report(records: Records, folder: str = MODELS_FOLDER) -> ProbeReport:
    """The models probe's report among a run's records (models.json and the files beside it in
    `folder`); an empty report when there is none."""
    data, error = models_json(records, folder)
    if data is None:
        return ProbeReport((), ran=False, error=error)
    files = records.under(folder)
    n_hidden = int(data.get("hidden_images") or 0)
    models = []
    for raw in data.get("models", []):
        if not isinstance(raw, dict):
            continue
        preds, pred_error = _predictions(files, raw.get("predictions"), n_hidden)
        tried = {str(k): float(v) for k, v in (raw.get("tried") or {}).items() if isinstance(v, (int, float))}
        models.append(ModelRecord(
            name=str(raw.get("name", "?")), framework=str(raw.get("framework", "?")),
            cls=str(raw.get("class", "?")), params=int(raw.get("params") or 0),
            trainable_params=int(raw.get("trainable_params") or 0),
            conv_weights=int(raw.get("conv_weights") or 0),
            layers=tuple(str(x) for x in raw.get("layers") or ()),
            shape=raw.get("shape") if isinstance(raw.get("shape"), str) else None,
            scale=raw.get("scale") if isinstance(raw.get("scale"), str) else None,
            val_accuracy=float(raw["val_accuracy"]) if isinstance(raw.get("val_accuracy"), (int, float)) else None,
            tried=tried, predictions=preds,
            inference_s=float(raw["inference_s"]) if isinstance(raw.get("inference_s"), (int, float)) else None,
            batch_size=int(raw["batch_size"]) if isinstance(raw.get("batch_size"), int) else None,
            error=_clean(raw.get("error")) or pred_error,
            retrain=_retrain_runs(files, raw.get("retrain"), n_hidden),
            retrain_error=_clean(raw.get("retrain_error")),
            limit=_limit(raw),
        ))
    return ProbeReport(tuple(models), device=str(data.get("device", "cpu")), hidden_images=n_hidden,
                       skipped=int(data.get("skipped") or 0), error=_clean(data.get("error")))


def _limit(raw: dict[str, Any]) -> str | None:
    """Which of the probe's limits left this model out: "cpu" (its budget), "wall" (the backstop,
    which depends on the machine's load), or None. (A retraining's own stop is in its record.)"""
    value = raw.get("limit")
    return value if value in ("cpu", "wall") else None
