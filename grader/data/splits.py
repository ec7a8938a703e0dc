"""The three splits a Task 2 run uses, written where the sandbox can (and cannot) see them.

    student training data  = the official training files minus a seeded validation part
    student "test" data    = that validation part (what `train=False` / `x_test` returns)
    hidden test split      = the official test files, served as this batch's secret shuffle
                             with a secret noise of a grey level or two (grader/data/hidden.py):
                             images enter the sandbox as a plain uint8 .npy; labels stay here

`prepare_mnist` writes, under a cache folder keyed by the data and the split settings:
    student/             a complete MNIST layout: plain and .gz IDX files, and MNIST/raw/ for
                         torchvision; its t10k files are the validation part
    hidden/images.npy    the hidden images as served (mounted read-only for the models probe)
    parent/labels.npy    the hidden labels in the served order: never mounted, read only by the
                         grader
The folder's name depends on the batch's secret, so each batch serves its own order and noise.
With no data folder the demo dataset is used, its test images drawn from the secret too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.demo import load_demo
from grader.data.hidden import HiddenSecret, batch_secret, serve_hidden
from grader.data.idx import write_idx
from grader.data.mnist import MnistArrays, load_mnist
from grader.errors import DataError
from grader.sandbox import Mount

logger = logging.getLogger(__name__)

SPLIT_VERSION = 2
RAW_NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
HIDDEN_IMAGES = "images.npy"
ENV_DATA = "GRADER_DATA_MNIST"
ENV_HIDDEN = "GRADER_HIDDEN_IMAGES"


@dataclass(frozen=True)
class SplitSettings:
    validation: float = 0.1  # share of the training files held out as the student's "test" data
    seed: int = 0
    train_limit: int | None = None  # keep at most this many training images (short test runs)


@dataclass(frozen=True)
class PreparedMnist:
    """Where each split lives, and what the grader may say about the data."""

    student_dir: Path
    hidden_images: Path
    labels_path: Path
    source: Path | None  # the folder the instructor named (None: the demo dataset)
    demo: bool
    digest: str
    n_train: int
    n_validation: int
    n_hidden: int

    def hidden_labels(self) -> np.ndarray:
        labels = np.load(self.labels_path, allow_pickle=False)
        return np.asarray(labels, dtype=np.int64)

    def sandbox_env(self) -> dict[str, str]:
        return {ENV_DATA: str(self.student_dir), ENV_HIDDEN: str(self.hidden_images)}

    def mounts(self) -> tuple[Mount, ...]:
        """Read-only mounts for the sandbox (at their host paths), the source folder hidden."""
        mounts: list[Mount] = []
        mask = _mask_for(self.source, self.student_dir)
        if mask is not None:
            mounts.append(mask)
        mounts.append(Mount(self.student_dir, str(self.student_dir)))
        mounts.append(Mount(self.hidden_images.parent, str(self.hidden_images.parent)))
        return tuple(mounts)

    def describe(self) -> str:
        what = ("demo data (scikit-learn digits through random affine transforms at 28x28, not MNIST)"
                if self.demo else str(self.source))
        return (f"{what}: {self.n_train} training images, {self.n_validation} validation images "
                f"given as the test split, {self.n_hidden} hidden test images")


def _mask_for(source: Path | None, cache: Path) -> Mount | None:
    """An empty folder over the instructor's data folder, so its test labels stay unreadable
    even where the sandbox shows the host path (Debian's datasets live under /usr)."""
    if source is None:
        return None
    src = source.resolve()
    protected = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, cache)]
    if any(p == src or p.is_relative_to(src) for p in protected) or src == Path("/"):
        logger.warning("data folder %s contains the grader's own files; it cannot be hidden in the sandbox", src)
        return None
    empty = cache.parent / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    return Mount(empty, str(src))


def _split_indices(n: int, settings: SplitSettings) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < settings.validation < 1:
        raise DataError(f"validation share must be between 0 and 1; got {settings.validation}")
    rng = np.random.default_rng(settings.seed)
    order = rng.permutation(n)
    n_val = max(1, int(round(n * settings.validation)))
    val, train = np.sort(order[:n_val]), order[n_val:]
    if settings.train_limit is not None:
        train = train[: max(1, settings.train_limit)]
    return np.sort(train), val


def _key(digest: str, settings: SplitSettings, secret: HiddenSecret) -> str:
    text = json.dumps([digest, settings.validation, settings.seed, settings.train_limit, SPLIT_VERSION, secret.tag])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_mnist(source: Path | None, cache_dir: Path, settings: SplitSettings = SplitSettings(),
                  secret: HiddenSecret | None = None) -> PreparedMnist:
    """Load `source` (None: the demo dataset) and write the three splits under `cache_dir`.
    `secret`: the batch's (default: the one kept in `cache_dir`, drawn there on first use)."""
    cache_dir = cache_dir.resolve()
    secret = secret or batch_secret(cache_dir)
    data = (load_demo(cache_dir, secret.derived_seed("demo-test")) if source is None else load_mnist(source))
    digest = data.digest()
    key = _key(digest, settings, secret)
    root = cache_dir / f"mnist-{key}"
    train_idx, val_idx = _split_indices(len(data.train_labels), settings)
    prepared = PreparedMnist(
        student_dir=root / "student", hidden_images=root / "hidden" / HIDDEN_IMAGES,
        labels_path=root / "parent" / "labels.npy", source=None if source is None else source.resolve(),
        demo=source is None, digest=hashlib.sha256(f"{digest}{key}".encode()).hexdigest(),
        n_train=len(train_idx), n_validation=len(val_idx), n_hidden=len(data.test_labels))
    if not (root / "COMPLETE").is_file():
        _write(prepared, data, train_idx, val_idx, secret)
        (root / "COMPLETE").write_text(prepared.describe() + "\n", encoding="utf-8")
    return prepared


def _write(p: PreparedMnist, data: MnistArrays, train_idx: np.ndarray, val_idx: np.ndarray,
           secret: HiddenSecret) -> None:
    student = {"train_images": data.train_images[train_idx], "train_labels": data.train_labels[train_idx],
               "test_images": data.train_images[val_idx], "test_labels": data.train_labels[val_idx]}
    raw = p.student_dir / "MNIST" / "raw"
    for key, name in RAW_NAMES.items():
        write_idx(raw / name, student[key], compress=False)
        write_idx(p.student_dir / f"{name}.gz", student[key], compress=True, level=1)  # fast; 10% larger
        link = p.student_dir / name
        if not link.exists():
            os.symlink(os.path.join("MNIST", "raw", name), link)
    labels = serve_hidden(data.test_images, data.test_labels, secret, "mnist", p.hidden_images)
    p.labels_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(p.labels_path, np.ascontiguousarray(labels), allow_pickle=False)
