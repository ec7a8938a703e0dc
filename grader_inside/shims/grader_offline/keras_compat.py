"""Keras 2 idioms on Keras 3, so notebooks written for the old API still run.

Real notebooks call `SGD(lr=0.01, decay=1e-6)`, `model.fit_generator(...)`,
`model.predict_classes(x)`, `history.history['acc']`, `from keras.utils import np_utils` and
`from keras.preprocessing.image import ImageDataGenerator`. Keras 3 removed these; each is
mapped to its Keras 3 equivalent (the generator to Keras 3's own legacy implementation, whose
iterators, given `steps_per_epoch`, repeat across epochs as Keras 2's did) and noted once in the
student's report. Nothing changes what the model computes.

Without TensorFlow (the grader runs Keras on torch), `keras.callbacks.TensorBoard` fails as soon
as training starts (it writes through `tf.summary`): it is replaced by a callback that lets the
training run and writes nothing, with a note.
"""
from __future__ import annotations

import functools
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

from grader_offline.log import used

_GENERATOR_ONLY = ("max_queue_size", "workers", "use_multiprocessing")
# keras.preprocessing.image names that Keras 3 keeps only in keras.src.legacy.preprocessing.image
LEGACY_IMAGE = ("ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
                "DataFrameIterator", "apply_affine_transform", "apply_brightness_shift",
                "apply_channel_shift", "random_brightness", "random_channel_shift", "random_rotation",
                "random_shear", "random_shift", "random_zoom")


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


def _repeating(iterator: Any) -> Any:
    """An ImageDataGenerator iterator as an endless stream (reshuffled after each pass)."""
    from keras.utils import PyDataset

    class Repeating(PyDataset):  # type: ignore[misc]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        @property
        def num_batches(self) -> None:
            return None

        def __getitem__(self, index: int) -> Any:
            n = len(self.inner)
            if index and index % n == 0:
                self.inner.on_epoch_end()
            return self.inner[index % n]

    return Repeating(iterator)


def _fit_method(original: Any) -> Any:
    """Keras 2 drew `steps_per_epoch` batches in every epoch from an ImageDataGenerator iterator,
    which never runs out; Keras 3 reads it as a finite dataset, runs out when `steps_per_epoch`
    is not its length (`len(x) // batch_size`), and trains every other epoch on one batch. Given
    `steps_per_epoch`, such an iterator repeats as it did in Keras 2."""
    @functools.wraps(original)
    def fit(self: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        legacy = sys.modules.get("keras.src.legacy.preprocessing.image")
        iterator = getattr(legacy, "Iterator", None)
        if kwargs.get("steps_per_epoch") and isinstance(iterator, type) and isinstance(x, iterator):
            used("Keras 2 ImageDataGenerator data with steps_per_epoch: drawn as an endless stream, as in Keras 2")
            x = _repeating(x)
        history = original(self, x, *args, **kwargs)
        if isinstance(getattr(history, "history", None), dict):
            history.history = _KerasTwoNames(history.history)
        return history

    fit._grader = True  # type: ignore[attr-defined]
    return fit


class _KerasTwoNames(dict):  # type: ignore[type-arg]
    """History.history that also answers to Keras 2's metric names: before Keras 2.3,
    metrics=["accuracy"] was logged as "acc" / "val_acc", and old plotting code asks for those."""

    ALIASES = {"acc": "accuracy", "val_acc": "val_accuracy", "accuracy": "acc", "val_accuracy": "val_acc"}

    def __missing__(self, key: Any) -> Any:
        other = self.ALIASES.get(key) if isinstance(key, str) else None
        if other is None or not dict.__contains__(self, other):
            raise KeyError(key)
        used(f"Keras 2 metric name history.history[{key!r}] read as {other!r} (Keras 3)")
        return self[other]


def _generator_method(model_cls: type, old: str, new: str) -> None:
    target = getattr(model_cls, new)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        used(f"Keras 2 model.{old}(...) run as model.{new}(...) (Keras 3)")
        for key in _GENERATOR_ONLY:
            kwargs.pop(key, None)
        return target(self, *args, **kwargs)

    setattr(model_cls, old, method)


def _predict_classes(self: Any, x: Any, batch_size: int = 32, verbose: Any = 0) -> Any:
    """Keras 2's Sequential.predict_classes (removed in TensorFlow 2.6): the argmax of predict,
    or the 0/1 threshold at 0.5 for a single sigmoid output."""
    import numpy as np

    used("Keras 2 model.predict_classes(x) run as the argmax of model.predict(x) (Keras 3)")
    proba = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
    if proba.ndim >= 2 and proba.shape[-1] > 1:
        return proba.argmax(axis=-1)
    return (proba > 0.5).astype("int32")


def _predict_proba(self: Any, x: Any, batch_size: int = 32, verbose: Any = 0) -> Any:
    """Keras 2's Sequential.predict_proba (removed in TensorFlow 2.6): model.predict."""
    used("Keras 2 model.predict_proba(x) run as model.predict(x) (Keras 3)")
    return self.predict(x, batch_size=batch_size, verbose=verbose)


def patch_image(module: ModuleType) -> None:
    """`from keras.preprocessing.image import ImageDataGenerator` (and tf.keras's) on Keras 3:
    looked up on first use (PEP 562), so only notebooks that use them get the note."""
    if getattr(getattr(module, "__getattr__", None), "_grader", False):
        return
    previous = getattr(module, "__getattr__", None)

    def __getattr__(name: str) -> Any:
        if name in LEGACY_IMAGE:
            from keras.src.legacy.preprocessing import image as legacy

            value = getattr(legacy, name, None)
            if value is not None:
                used(f"Keras 2 keras.preprocessing.image.{name}: Keras 3's legacy implementation was used")
                setattr(module, name, value)
                return value
        if previous is not None:
            return previous(name)
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

    __getattr__._grader = True  # type: ignore[attr-defined]
    module.__getattr__ = __getattr__  # type: ignore[attr-defined]


_TENSORBOARD: list[type] = []  # the one stand-in class, shared by keras.callbacks and tf.keras's copy


def _tensorboard_stand_in(callback_base: type) -> type:
    if _TENSORBOARD:
        return _TENSORBOARD[0]

    class TensorBoard(callback_base):  # type: ignore[misc, valid-type]
        """keras.callbacks.TensorBoard where TensorFlow is absent: training runs, nothing is written."""

        _grader = True

        def __init__(self, log_dir: Any = "logs", *args: Any, **kwargs: Any) -> None:
            super().__init__()
            self.log_dir = str(log_dir)
            used("keras.callbacks.TensorBoard: TensorFlow is not installed on the grader; the training "
                 "ran without writing TensorBoard logs")

    _TENSORBOARD.append(TensorBoard)
    return TensorBoard


def patch_callbacks(callbacks: ModuleType) -> None:
    """Keras' TensorBoard callback writes through tf.summary: without TensorFlow, a stand-in."""
    if importlib.machinery.PathFinder.find_spec("tensorflow") is not None:
        return  # a real TensorFlow: Keras' own TensorBoard callback works
    original = getattr(callbacks, "TensorBoard", None)
    if original is not None and not getattr(original, "_grader", False):
        callbacks.TensorBoard = _tensorboard_stand_in(callbacks.Callback)  # type: ignore[attr-defined]


def patch_keras(keras: ModuleType) -> None:
    from keras.src.optimizers import base_optimizer

    base = base_optimizer.BaseOptimizer
    if not getattr(base.__init__, "_grader", False):
        base.__init__ = _optimizer_init(base.__init__)
    model = keras.Model
    if not getattr(model.fit, "_grader", False):
        model.fit = _fit_method(model.fit)  # before fit_generator, which calls it
    for old, new in (("fit_generator", "fit"), ("evaluate_generator", "evaluate"),
                     ("predict_generator", "predict")):
        if not hasattr(model, old):
            _generator_method(model, old, new)
    for name, method in (("predict_classes", _predict_classes), ("predict_proba", _predict_proba)):
        if not hasattr(model, name):
            setattr(model, name, method)
    utils = keras.utils
    if not hasattr(utils, "np_utils"):
        np_utils = ModuleType("keras.utils.np_utils", "Keras 2's np_utils (to_categorical) on Keras 3")
        np_utils.to_categorical = utils.to_categorical  # type: ignore[attr-defined]
        utils.np_utils = np_utils  # type: ignore[attr-defined]
        sys.modules["keras.utils.np_utils"] = np_utils


# tf.keras's submodules are separate copies of Keras' public modules (tf_alias): patch both names
HOOKS = {"keras": patch_keras,
         "keras.preprocessing.image": patch_image, "tensorflow.keras.preprocessing.image": patch_image,
         "keras.callbacks": patch_callbacks, "tensorflow.keras.callbacks": patch_callbacks}
