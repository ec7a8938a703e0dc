"""Scores of one model's hidden-split predictions against the hidden labels (grader side only)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_CLASSES = 10


@dataclass(frozen=True)
class ModelScore:
    accuracy: float  # 0..1 on the hidden split
    per_class: tuple[float, ...]  # recall per true class (NaN where a class has no image)
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted class
    dominant_share: float  # share of images given the most frequent predicted class
    dominant_class: int
    n: int
    images_per_s: float | None

    @property
    def constant(self) -> bool:
        """Predicts (almost) one class for everything: a degenerate model."""
        return self.dominant_share >= CONSTANT_SHARE


CONSTANT_SHARE = 0.9


def score_predictions(predictions: np.ndarray, labels: np.ndarray, seconds: float | None = None,
                      n_classes: int = N_CLASSES) -> ModelScore:
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.shape[0]} predictions for {labels.shape[0]} labels")
    pred = np.clip(predictions.astype(np.int64), -1, n_classes)
    valid = (pred >= 0) & (pred < n_classes)
    conf = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(conf, (labels[valid], pred[valid]), 1)
    totals = np.bincount(labels, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(conf) / np.maximum(totals, 1), np.nan)
    counts = np.bincount(pred[valid], minlength=n_classes)
    n = len(labels)
    return ModelScore(
        accuracy=float(np.mean(pred == labels)) if n else 0.0,
        per_class=tuple(float(x) for x in per_class),
        confusion=tuple(tuple(int(v) for v in row) for row in conf),
        dominant_share=float(counts.max() / n) if n else 0.0,
        dominant_class=int(counts.argmax()),
        n=n,
        images_per_s=(n / seconds) if seconds and seconds > 0 else None,
    )
