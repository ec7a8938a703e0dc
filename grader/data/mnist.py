"""MNIST-like datasets on disk: the four IDX files, in any of the layouts they come in.

Accepted: a folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each plain or `.gz`, or with Kaggle's
`train-images.idx3-ubyte` spelling, or inside a folder of the same name), or a torchvision root
(`<root>/MNIST/raw/...`). Fashion-MNIST ships in the same format and is read the same way.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.idx import read_idx
from grader.errors import DataError

IMAGE_SIDE = 28
N_CLASSES = 10
STEMS = {"train_images": ("train-images", 3), "train_labels": ("train-labels", 1),
         "test_images": ("t10k-images", 3), "test_labels": ("t10k-labels", 1)}
SUBFOLDERS = (".", "MNIST/raw", "raw", "MNIST")


@dataclass(frozen=True)
class MnistArrays:
    """The four arrays of an MNIST-like dataset (uint8 images N x 28 x 28, uint8 labels N)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def digest(self) -> str:
        h = hashlib.sha256()
        for arr in (self.train_images, self.train_labels, self.test_images, self.test_labels):
            h.update(str(arr.shape).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


def _names(stem: str, dims: int) -> list[str]:
    base = [f"{stem}-idx{dims}-ubyte", f"{stem}.idx{dims}-ubyte"]
    return [n + ext for n in base for ext in ("", ".gz")]


def find_mnist_files(folder: Path) -> dict[str, Path]:
    """The four IDX files under `folder` (keys as in STEMS). DataError names what is missing."""
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist")
    for sub in SUBFOLDERS:
        base = folder / sub
        found: dict[str, Path] = {}
        for key, (stem, dims) in STEMS.items():
            for name in _names(stem, dims):
                for cand in (base / name, base / name / name):  # Kaggle: a folder per file
                    if cand.is_file():
                        found.setdefault(key, cand)
        if len(found) == len(STEMS):
            return found
    wanted = ", ".join(_names(stem, dims)[0] for stem, dims in STEMS.values())
    raise DataError(f"{folder} does not hold an MNIST-like dataset: expected {wanted} (plain or .gz), "
                    f"or a torchvision root with MNIST/raw/ inside")


def load_mnist(folder: Path) -> MnistArrays:
    files = find_mnist_files(folder)
    arrays = {key: read_idx(path) for key, path in files.items()}
    data = MnistArrays(**arrays)
    validate(data, str(folder))
    return data


def validate(data: MnistArrays, where: str) -> None:
    for part in ("train", "test"):
        images: np.ndarray = getattr(data, f"{part}_images")
        labels: np.ndarray = getattr(data, f"{part}_labels")
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataError(f"{where}: {part} images have shape {images.shape}; expected N x 28 x 28")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"{where}: {len(images)} {part} images but labels of shape {labels.shape}")
        if len(labels) and int(labels.max()) >= N_CLASSES:
            raise DataError(f"{where}: {part} labels go up to {int(labels.max())}; expected 0..9")
