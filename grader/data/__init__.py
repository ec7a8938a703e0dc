"""Datasets: MNIST-like IDX files, the built-in demo digits, and the splits a run uses."""
from __future__ import annotations

from grader.data.demo import build_demo_arrays, demo_dataset
from grader.data.idx import read_idx, write_idx
from grader.data.mnist import MnistArrays, find_mnist_files, load_mnist
from grader.data.splits import ENV_DATA, ENV_HIDDEN, PreparedMnist, SplitSettings, prepare_mnist

__all__ = [
    "ENV_DATA",
    "ENV_HIDDEN",
    "MnistArrays",
    "PreparedMnist",
    "SplitSettings",
    "build_demo_arrays",
    "demo_dataset",
    "find_mnist_files",
    "load_mnist",
    "prepare_mnist",
    "read_idx",
    "write_idx",
]
