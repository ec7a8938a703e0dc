"""Helpers for data tests: small MNIST-like folders written in the layouts instructors use."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader.data import write_idx

STEMS = {"train-images": 3, "train-labels": 1, "t10k-images": 3, "t10k-labels": 1}


def _arrays(n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"train-images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "train-labels": rng.integers(0, 10, n_train, dtype=np.uint8),
            "t10k-images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "t10k-labels": rng.integers(0, 10, n_test, dtype=np.uint8)}


def write_mnist(folder: Path, style: str = "plain", arrays: dict[str, np.ndarray] | None = None) -> dict:
    arrays = arrays or _arrays()
    for stem, dims in STEMS.items():
        name = {"plain": f"{stem}-idx{dims}-ubyte", "gz": f"{stem}-idx{dims}-ubyte.gz",
                "kaggle": f"{stem}.idx{dims}-ubyte"}[style if style != "kaggle_dirs" else "plain"]
        path = folder / name / name if style == "kaggle_dirs" else folder / name
        write_idx(path, arrays[stem], compress=style == "gz")
    return arrays


@pytest.fixture()
def mnist_folder() -> Callable[..., dict]:
    """write_mnist(folder, style="plain", arrays=None): the four files; returns the arrays."""
    return write_mnist


@pytest.fixture()
def mnist_arrays() -> Callable[..., dict[str, np.ndarray]]:
    return _arrays

