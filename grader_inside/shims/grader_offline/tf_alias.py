"""`import tensorflow as tf` where TensorFlow is not installed: `tf.keras` is Keras 3.

The grader runs Keras 3 on its torch backend, without TensorFlow. Notebooks written as
`tf.keras.layers.Dense(...)`, `from tensorflow.keras.models import Sequential` or
`from tensorflow import keras` then still run: `tensorflow.keras.*` names the same modules as
`keras.*`, and `tensorflow` itself offers the few helpers such notebooks call besides Keras.
Installed only as a last resort (after every real finder), so a real TensorFlow always wins.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

from grader_offline.log import used

PREFIX = "tensorflow"


def _stand_in() -> ModuleType:
    keras = importlib.import_module("keras")
    ops = keras.ops
    tf = ModuleType(PREFIX, "TensorFlow stand-in over Keras 3 (the grader has no TensorFlow)")
    tf.__version__ = "2.16.0+grader"  # type: ignore[attr-defined]
    tf.__path__ = []  # type: ignore[attr-defined]  # a package, so tensorflow.keras.* can be imported
    tf.keras = keras  # type: ignore[attr-defined]
    for name in ("float32", "float64", "int32", "int64", "uint8"):
        setattr(tf, name, name)
    for name in ("reshape", "argmax", "cast", "expand_dims", "convert_to_tensor", "squeeze", "one_hot"):
        if hasattr(ops, name):
            setattr(tf, name, getattr(ops, name))
    tf.constant = ops.convert_to_tensor  # type: ignore[attr-defined]
    tf.random = ModuleType(f"{PREFIX}.random")  # type: ignore[attr-defined]
    tf.random.set_seed = keras.utils.set_random_seed  # type: ignore[attr-defined]
    tf.config = ModuleType(f"{PREFIX}.config")  # type: ignore[attr-defined]
    tf.config.list_physical_devices = lambda *a, **k: []  # type: ignore[attr-defined]
    tf.test = ModuleType(f"{PREFIX}.test")  # type: ignore[attr-defined]
    tf.test.is_gpu_available = lambda *a, **k: False  # type: ignore[attr-defined]
    tf.test.gpu_device_name = lambda: ""  # type: ignore[attr-defined]
    return tf


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        if self.target == PREFIX:
            used("import tensorflow: TensorFlow is not installed on the grader; tf.keras runs as Keras 3")
            return _stand_in()
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        return None


class TensorflowFinder(importlib.abc.MetaPathFinder):
    """Serves `tensorflow` and `tensorflow.keras[.x]` from Keras 3 (append it last)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == PREFIX:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(PREFIX), is_package=True)
        if fullname.startswith(f"{PREFIX}.keras"):
            real = "keras" + fullname[len(f"{PREFIX}.keras"):]
            if importlib.util.find_spec(real.split(".")[0]) is None:
                return None
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real), is_package=True)
        return None


def _keras_sees_no_tensorflow(module: ModuleType) -> None:
    """Keras asks `tensorflow.available` (by importing it) before using TensorFlow's own APIs:
    the stand-in must not pass for the real thing there."""
    lazy = getattr(module, "tensorflow", None)
    if lazy is not None and hasattr(lazy, "_available"):
        lazy._available = False


def needed() -> bool:
    import importlib.util

    return importlib.util.find_spec(PREFIX) is None and importlib.util.find_spec("keras") is not None


HOOKS = {"keras.src.utils.module_utils": _keras_sees_no_tensorflow}


def install() -> None:
    if not any(isinstance(f, TensorflowFinder) for f in sys.meta_path):
        sys.meta_path.append(TensorflowFinder())
