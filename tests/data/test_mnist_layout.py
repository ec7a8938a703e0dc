"""Finding the four MNIST files in the layouts instructors have them in."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.data import find_mnist_files, load_mnist
from grader.errors import DataError


@pytest.mark.parametrize("style", ["plain", "gz", "kaggle", "kaggle_dirs"])
def test_layouts(tmp_path: Path, style: str, mnist_folder) -> None:
    arrays = mnist_folder(tmp_path, style)
    data = load_mnist(tmp_path)
    assert np.array_equal(data.train_images, arrays["train-images"])
    assert np.array_equal(data.test_labels, arrays["t10k-labels"])


def test_torchvision_root(tmp_path: Path, mnist_folder) -> None:
    mnist_folder(tmp_path / "MNIST" / "raw")
    files = find_mnist_files(tmp_path)
    assert files["test_images"].parent == tmp_path / "MNIST" / "raw"


def test_missing_file_is_named(tmp_path: Path, mnist_folder) -> None:
    mnist_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        find_mnist_files(tmp_path)


def test_mismatched_counts_and_sizes(tmp_path: Path, mnist_folder, mnist_arrays) -> None:
    arrays = mnist_arrays()
    arrays["train-labels"] = arrays["train-labels"][:-1]
    mnist_folder(tmp_path, arrays=arrays)
    with pytest.raises(DataError, match="6 train images"):
        load_mnist(tmp_path)
    other = tmp_path / "other"
    arrays = mnist_arrays()
    arrays["t10k-images"] = np.zeros((4, 32, 32), dtype=np.uint8)
    mnist_folder(other, arrays=arrays)
    with pytest.raises(DataError, match="N x 28 x 28"):
        load_mnist(other)
