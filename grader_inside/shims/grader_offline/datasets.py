"""MNIST from the grader's data folder, whatever download the student's code asks for.

The folder (environment variable GRADER_DATA_MNIST, mounted read-only) is a complete MNIST
layout whose training files are the student's training data and whose t10k files are the
validation part the grader gives out as "test" data.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader_offline.log import used

OPENML_MNIST_ID = 554


def data_dir() -> Path:
    return Path(os.environ["GRADER_DATA_MNIST"])


@functools.lru_cache(maxsize=1)
def arrays() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    from grader_inside.idx import read_idx

    raw = data_dir() / "MNIST" / "raw"
    parts = [read_idx(raw / f"{p}-{k}") for p in ("train", "t10k")
             for k in ("images-idx3-ubyte", "labels-idx1-ubyte")]
    return (parts[0], parts[1]), (parts[2], parts[3])


def _copies() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    (a, b), (c, d) = arrays()
    return (a.copy(), b.copy()), (c.copy(), d.copy())


# -- torchvision ----------------------------------------------------------------------------
def patch_torchvision(module: ModuleType) -> None:
    cls = getattr(module, "MNIST", None)
    if cls is None or getattr(cls.__init__, "_grader_shim", False):
        return
    original = cls.__init__

    def __init__(self: Any, root: Any = None, *args: Any, **kwargs: Any) -> None:
        if type(self).__name__ == "MNIST":
            used(f"torchvision.datasets.MNIST(root={str(root)!r}): served from the grader's data folder "
                 "(no download)")
            root = str(data_dir())
            if len(args) >= 4:  # (train, transform, target_transform, download, ...)
                args = (*args[:3], False, *args[4:])
            else:
                kwargs["download"] = False
        original(self, root, *args, **kwargs)

    __init__._grader_shim = True  # type: ignore[attr-defined]
    cls.__init__ = __init__


# -- keras ----------------------------------------------------------------------------------
def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    used("keras.datasets.mnist.load_data(): served from the grader's data folder (no download)")
    return _copies()


def patch_keras(module: ModuleType) -> None:
    if hasattr(module, "load_data"):
        module.load_data = load_data  # type: ignore[attr-defined]


# -- scikit-learn ---------------------------------------------------------------------------
def patch_sklearn(module: ModuleType) -> None:
    original = getattr(module, "fetch_openml", None)
    if original is None or getattr(original, "_grader_shim", False):
        return

    @functools.wraps(original)
    def fetch_openml(name: Any = None, *args: Any, **kwargs: Any) -> Any:
        data_id = kwargs.get("data_id")
        if str(name).lower() != "mnist_784" and data_id != OPENML_MNIST_ID:
            return original(name, *args, **kwargs)
        used(f"sklearn fetch_openml({name!r}): served from the grader's data folder (no download)")
        return openml_mnist(kwargs.get("return_X_y", False), kwargs.get("as_frame", "auto"))

    fetch_openml._grader_shim = True  # type: ignore[attr-defined]
    module.fetch_openml = fetch_openml  # type: ignore[attr-defined]


def openml_mnist(return_x_y: bool, as_frame: Any) -> Any:
    """The grader's data as OpenML's mnist_784: 784 float columns, string class labels."""
    from sklearn.utils import Bunch

    (xa, ya), (xb, yb) = arrays()
    x = np.concatenate([xa, xb]).reshape(-1, 784).astype(np.float64)
    y = np.concatenate([ya, yb]).astype(str).astype(object)
    columns = [f"pixel{i}" for i in range(1, 785)]
    frame = None
    if as_frame is True or as_frame == "auto":
        import pandas as pd

        x_out: Any = pd.DataFrame(x, columns=columns)
        y_out: Any = pd.Series(pd.Categorical(y, categories=[str(i) for i in range(10)]), name="class")
        frame = pd.concat([x_out, y_out], axis=1)
    else:
        x_out, y_out = x, y
    if return_x_y:
        return x_out, y_out
    return Bunch(data=x_out, target=y_out, frame=frame, feature_names=columns, target_names=["class"],
                 categories=None, details={"name": "mnist_784", "id": str(OPENML_MNIST_ID)},
                 DESCR="MNIST served offline by the grader", url="")


HOOKS = {
    "torchvision.datasets.mnist": patch_torchvision,
    "keras.src.datasets.mnist": patch_keras,
    "keras.datasets.mnist": patch_keras,
    "tensorflow.keras.datasets.mnist": patch_keras,
    "tf_keras.datasets.mnist": patch_keras,
    "sklearn.datasets._openml": patch_sklearn,
    "sklearn.datasets": patch_sklearn,
}
