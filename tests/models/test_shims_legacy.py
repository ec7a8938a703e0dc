"""Kernel shims for idioms of notebooks written for older libraries (found by the Task 2 hidden
set): Keras 2's ImageDataGenerator and predict_classes, Keras' TensorBoard callback without
TensorFlow, and a whole model pickled with torch.save and loaded back as PyTorch < 2.6 did.

Each case runs in a fresh interpreter with the shims installed the way the harness installs them.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from requires import installed

from grader_inside.prepare import SHIMS  # noqa: E402
pytestmark = pytest.mark.torch


def _run(code: str, tmp_path: Path) -> tuple[str, str]:
    prelude = f"import grader_offline\ngrader_offline.install({str(tmp_path)!r})\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "KERAS_"))}
    env.update(PYTHONPATH=f"{SHIMS}{os.pathsep}{env.get('PYTHONPATH', '')}", KERAS_BACKEND="torch")
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = tmp_path / "shims.log"
    return proc.stdout, log.read_text(encoding="utf-8") if log.exists() else ""


@installed("keras")
def test_image_data_generator_through_fit_generator(tmp_path: Path) -> None:
    """`from keras.preprocessing.image import ImageDataGenerator` (removed from Keras 3's public
    API) and tf.keras's spelling both work, and `fit_generator(datagen.flow(...))` trains
    `steps_per_epoch` batches in every epoch, as in Keras 2, also where `steps_per_epoch` is not the
    iterator's length (`len(x) // batch_size`; Keras 3 alone runs out and trains some epochs on one batch)."""
    out, log = _run("""
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Conv2D, Flatten, Dense, Input
        from keras.preprocessing.image import ImageDataGenerator
        from tensorflow.keras.preprocessing.image import ImageDataGenerator as TfGenerator
        import keras
        x = np.random.default_rng(0).random((60, 28, 28, 1)).astype("float32")
        y = np.eye(10, dtype="float32")[np.arange(60) % 10]
        model = Sequential([Input((28, 28, 1)), Conv2D(2, 3), Flatten(), Dense(10, activation="softmax")])
        model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
        datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, zoom_range=0.1)
        datagen.fit(x)
        batches = []
        count = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
        history = model.fit_generator(datagen.flow(x, y, batch_size=16), steps_per_epoch=len(x) // 16,
                                      epochs=3, validation_data=(x[:16], y[:16]), verbose=0, workers=2,
                                      callbacks=[count])
        print("same", TfGenerator is ImageDataGenerator, "epochs", len(history.history["val_loss"]),
              "batches", len(batches))
    """, tmp_path)
    assert "same True epochs 3 batches 9" in out
    assert "keras.preprocessing.image.ImageDataGenerator" in log and "fit_generator" in log


@installed("keras")
def test_predict_classes_and_predict_proba(tmp_path: Path) -> None:
    """Keras 2's `model.predict_classes(x)` and `predict_proba(x)` (removed in TensorFlow 2.6) give
    what they gave: the argmax of predict, a 0/1 threshold for one sigmoid output, predict itself."""
    out, log = _run("""
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Dense, Input
        x = np.random.default_rng(0).random((20, 4)).astype("float32")
        multi = Sequential([Input((4,)), Dense(3, activation="softmax")])
        binary = Sequential([Input((4,)), Dense(1, activation="sigmoid")])
        p = multi.predict(x, verbose=0)
        print("argmax", bool((multi.predict_classes(x) == p.argmax(axis=-1)).all()),
              "proba", bool(np.allclose(multi.predict_proba(x), p)),
              "binary", bool((binary.predict_classes(x) == (binary.predict(x, verbose=0) > 0.5)).all()),
              binary.predict_classes(x).shape)
    """, tmp_path)
    assert "argmax True proba True binary True (20, 1)" in out
    assert "predict_classes" in log and "predict_proba" in log


@installed("keras")
def test_keras_two_metric_names_in_the_history(tmp_path: Path) -> None:
    """Before Keras 2.3, metrics=["accuracy"] was logged as "acc"/"val_acc": old plotting code that
    reads history.history['acc'] gets the accuracy, not a KeyError; unknown names still fail."""
    out, log = _run("""
        import numpy as np, keras
        x = np.random.default_rng(0).random((20, 4)).astype("float32")
        y = np.eye(3, dtype="float32")[np.arange(20) % 3]
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y))
        h = history.history
        try:
            h["precision"]
        except KeyError:
            missing = "KeyError"
        print("acc", h["acc"] == h["accuracy"], "val", h["val_acc"] == h["val_accuracy"], missing,
              sorted(h))
    """, tmp_path)
    assert "acc True val True KeyError ['accuracy', 'loss', 'val_accuracy', 'val_loss']" in out
    assert "history.history['acc']" in log


@installed("keras")
def test_tensorboard_callback_without_tensorflow(tmp_path: Path) -> None:
    """Keras' TensorBoard callback writes through tf.summary; without TensorFlow the fit must
    still run (and say so), not fail with "No module named 'tensorflow.summary'"."""
    if __import__("importlib.util").util.find_spec("tensorflow") is not None:
        pytest.skip("a real TensorFlow is installed: Keras' own callback is kept")
    out, log = _run("""
        import numpy as np, keras
        from tensorflow.keras.callbacks import TensorBoard
        x = np.zeros((8, 4), dtype="float32"); y = np.arange(8) % 2
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        cb = keras.callbacks.TensorBoard(log_dir="logs/fit", histogram_freq=1)
        h = model.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[cb], verbose=0)
        print("epochs", len(h.history["val_loss"]), "same", TensorBoard is keras.callbacks.TensorBoard)
    """, tmp_path)
    assert "epochs 2 same True" in out
    assert "TensorBoard: TensorFlow is not installed" in log


@installed("torch")
def test_whole_model_pickled_with_torch_save_loads_back(tmp_path: Path) -> None:
    """torch.save(model, path); torch.load(path) as written for PyTorch < 2.6 (also from an open
    file); a student's explicit weights_only=True still refuses the file."""
    out, log = _run("""
        import pickle, torch
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
            def forward(self, x):
                return self.fc(x)
        net = Net()
        torch.save(net, "model.pt")
        loaded = torch.load("model.pt")
        with open("model.pt", "rb") as fh:
            again = torch.load(fh)
        x = torch.ones(1, 4)
        print("same", bool(torch.equal(loaded(x), net(x))), type(again).__name__)
        try:
            torch.load("model.pt", weights_only=True)
        except pickle.UnpicklingError:
            print("explicit refused")
    """, tmp_path)
    assert "same True Net" in out and "explicit refused" in out
    assert "weights_only=False" in log
