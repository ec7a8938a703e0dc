"""Keras 2 idioms on Keras 3, so notebooks written for the old API still run.

Real notebooks call `SGD(lr=0.01, decay=1e-6)`, `model.fit_generator(...)` and
`from keras.utils import np_utils`. Keras 3 removed these; each is mapped to its Keras 3
equivalent and noted once in the student's report. Nothing changes what the model computes.
"""
from __future__ import annotations

import functools
import sys
from types import ModuleType
from typing import Any

from grader_offline.log import used

_GENERATOR_ONLY = ("max_queue_size", "workers", "use_multiprocessing")


def _optimizer_init(original: Any) -> Any:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if "lr" in kwargs:
            kwargs["learning_rate"] = kwargs.pop("lr")
            used("Keras 2 optimizer argument lr= read as learning_rate= (Keras 3)")
        if "decay" in kwargs:
            kwargs.pop("decay")
            used("Keras 2 optimizer argument decay= ignored: Keras 3 has no such argument")
        original(self, *args, **kwargs)

    __init__._grader = True  # type: ignore[attr-defined]
    return __init__


def _generator_method(model_cls: type, old: str, new: str) -> None:
    target = getattr(model_cls, new)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        used(f"Keras 2 model.{old}(...) run as model.{new}(...) (Keras 3)")
        for key in _GENERATOR_ONLY:
            kwargs.pop(key, None)
        return target(self, *args, **kwargs)

    setattr(model_cls, old, method)


def patch_keras(keras: ModuleType) -> None:
    from keras.src.optimizers import base_optimizer

    base = base_optimizer.BaseOptimizer
    if not getattr(base.__init__, "_grader", False):
        base.__init__ = _optimizer_init(base.__init__)
    model = keras.Model
    for old, new in (("fit_generator", "fit"), ("evaluate_generator", "evaluate"),
                     ("predict_generator", "predict")):
        if not hasattr(model, old):
            _generator_method(model, old, new)
    utils = keras.utils
    if not hasattr(utils, "np_utils"):
        np_utils = ModuleType("keras.utils.np_utils", "Keras 2's np_utils (to_categorical) on Keras 3")
        np_utils.to_categorical = utils.to_categorical  # type: ignore[attr-defined]
        utils.np_utils = np_utils  # type: ignore[attr-defined]
        sys.modules["keras.utils.np_utils"] = np_utils


HOOKS = {"keras": patch_keras}
