"""The course example's models (reference/mnist.py) trained on the data the students got.

"Beats the example" needs the example's accuracy on the hidden split *for this dataset and this
training budget*; it is measured here once per dataset, over k seeds, and cached as JSON next to
the prepared splits. This is the grader's own trusted code, so it runs in the grader's process.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from grader.data.idx import read_idx
from grader.data.splits import PreparedMnist
from grader.errors import DataError
from grader.families.models.evaluate import score_predictions

logger = logging.getLogger(__name__)

BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineSettings:
    epochs: int = 2
    batch_size: int = 64
    lr: float = 1e-3
    subset: int | None = None  # training images used (None: all the student got)
    seeds: int = 1


@dataclass(frozen=True)
class BaselineModel:
    name: str  # mlp | cnn
    accuracies: tuple[float, ...]  # hidden-split accuracy per seed

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def spread(self) -> float:
        """Sample standard deviation over seeds (0 with one seed)."""
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


@dataclass(frozen=True)
class Baseline:
    models: dict[str, BaselineModel]
    settings: BaselineSettings

    def best(self) -> BaselineModel:
        return max(self.models.values(), key=lambda m: m.mean)


def _student_tensors(prepared: PreparedMnist, part: str) -> tuple[np.ndarray, np.ndarray]:
    raw = prepared.student_dir / "MNIST" / "raw"
    return read_idx(raw / f"{part}-images-idx3-ubyte"), read_idx(raw / f"{part}-labels-idx1-ubyte")


def _cache_path(prepared: PreparedMnist, settings: BaselineSettings) -> Path:
    ref = Path(__file__).resolve().parents[2] / "reference" / "mnist.py"
    ref_hash = hashlib.sha256(ref.read_bytes()).hexdigest() if ref.is_file() else "none"
    key = json.dumps([prepared.digest, asdict(settings), ref_hash, BASELINE_VERSION])
    return prepared.labels_path.parent / f"baseline-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def example_baseline(prepared: PreparedMnist, settings: BaselineSettings = BaselineSettings()) -> Baseline:
    """The example's MLP and CNN trained with the reference loop; cached per data and settings."""
    path = _cache_path(prepared, settings)
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Baseline({k: BaselineModel(k, tuple(v)) for k, v in data["accuracies"].items()}, settings)
    try:
        import torch

        from reference import mnist as ref
    except ImportError as exc:
        raise DataError(f"the course example's baseline needs PyTorch ({exc}): install the grader with "
                        "its `models` extra (pip install -e '.[models]')") from exc

    train_x, train_y = _student_tensors(prepared, "train")
    val_x, val_y = _student_tensors(prepared, "t10k")
    hidden = np.load(prepared.hidden_images, allow_pickle=False)
    labels = prepared.hidden_labels()

    def tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(x).float().div_(255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))

    train_t, val_t = tensors(train_x, train_y), tensors(val_x, val_y)
    hidden_t = torch.from_numpy(hidden).float().div_(255.0).unsqueeze(1)
    accuracies: dict[str, list[float]] = {}
    for name, factory in ref.BASELINES.items():
        for seed in range(settings.seeds):
            trained = ref.train(factory, train_t, val_t, optimiser=ref.OptimiserSpec(lr=settings.lr),
                                epochs=settings.epochs, batch_size=settings.batch_size,
                                subset=settings.subset, seed=seed)
            preds = ref.predict(trained.model, hidden_t, batch_size=1000).numpy()
            accuracies.setdefault(name, []).append(score_predictions(preds, labels).accuracy)
            logger.info("example %s, seed %d: hidden accuracy %.4f", name, seed, accuracies[name][-1])
    path.write_text(json.dumps({"accuracies": accuracies, "settings": asdict(settings)}), encoding="utf-8")
    return Baseline({k: BaselineModel(k, tuple(v)) for k, v in accuracies.items()}, settings)


def within_spread(gap: float, spread: float) -> bool:
    """A gap no larger than the seeds' spread is noise, not a difference."""
    return math.isfinite(gap) and abs(gap) <= spread
