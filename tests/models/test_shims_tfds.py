"""`import tensorflow_datasets as tfds` (Colab's usual MNIST loader) without TensorFlow: the stand-in
serves the grader's data in the forms tutorials use, as tf.data-like datasets that Keras reads."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from requires import installed

from grader.data import write_idx
from grader_inside.prepare import SHIMS

N_TRAIN, N_TEST = 240, 60


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable stand-in digits: class k is a bright 6x6 square at the k-th of ten places."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 5)
        images[i, 4 + 12 * r:10 + 12 * r, 1 + 5 * c:7 + 5 * c] = 250
    return images, labels


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student data folder as the grader writes it (MNIST/raw IDX files)."""
    folder = tmp_path_factory.mktemp("mnist")
    for part, n, seed in (("train", N_TRAIN, 1), ("t10k", N_TEST, 2)):
        x, y = digits(n, seed)
        write_idx(folder / "MNIST" / "raw" / f"{part}-images-idx3-ubyte", x)
        write_idx(folder / "MNIST" / "raw" / f"{part}-labels-idx1-ubyte", y)
    return folder


@pytest.fixture()
def tfds(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The stand-in module, in this process (no Keras patching: that runs in a subprocess below)."""
    monkeypatch.syspath_prepend(str(SHIMS))
    monkeypatch.setenv("GRADER_DATA_MNIST", str(data_dir))
    from grader_offline import datasets, log, tfds as stand_in

    datasets.arrays.cache_clear()
    log.set_outbox(str(tmp_path))
    yield stand_in.stand_in()
    log.set_outbox(None)
    datasets.arrays.cache_clear()


def test_load_forms(tfds) -> None:
    both = tfds.load("mnist")
    assert set(both) == {"train", "test"}
    element = next(iter(both["train"]))
    assert set(element) == {"image", "label"} and tuple(element["image"].shape) == (28, 28, 1)
    assert str(element["image"].dtype).endswith("uint8") and int(element["label"].numpy()) == 0
    (train, test), info = tfds.load("mnist", split=["train", "test"], shuffle_files=True, as_supervised=True,
                                    with_info=True)
    assert info.splits["train"].num_examples == N_TRAIN and info.splits["test"].num_examples == N_TEST
    assert info.features["label"].num_classes == 10 and info.features["label"].names[3] == "3"
    assert len(train) == N_TRAIN and len(test) == N_TEST
    image, label = next(iter(train))
    assert image.numpy().shape == (28, 28, 1) and label.numpy() == 0
    batched = tfds.load("mnist", split=tfds.Split.TRAIN, batch_size=32, as_supervised=True)
    x, y = next(iter(batched))
    assert tuple(x.shape) == (32, 28, 28, 1) and tuple(y.shape) == (32,) and len(batched) == 8
    whole_x, whole_y = tfds.as_numpy(tfds.load("mnist", split="test", batch_size=-1, as_supervised=True))
    assert isinstance(whole_x, np.ndarray) and whole_x.shape == (N_TEST, 28, 28, 1) and whole_y.dtype == np.int64
    whole = tfds.load("mnist", split="train", batch_size=-1)
    assert tuple(whole["image"].shape) == (N_TRAIN, 28, 28, 1)
    assert [len(tfds.load("mnist", split=s)) for s in ("train[:80%]", "train[80%:]", "test[:10]", "train+test",
                                                         "train[-40:]")] == [192, 48, 10, N_TRAIN + N_TEST, 40]
    rows = list(tfds.as_numpy(tfds.load("mnist", split="test[:3]", as_supervised=True)))
    assert [int(y) for _, y in rows] == [0, 1, 2] and rows[0][0].dtype == np.uint8


def test_pipelines_tutorials_build(tfds) -> None:
    from grader_offline.tf_data import AUTOTUNE, Dataset

    (train, test), info = tfds.load("mnist", split=["train", "test"], as_supervised=True, with_info=True)

    def normalize(image, label):
        return image.float() / 255.0, label

    pipe = (train.map(normalize, num_parallel_calls=AUTOTUNE).cache()
            .shuffle(info.splits["train"].num_examples, seed=1).batch(100).prefetch(AUTOTUNE))
    epoch1 = [y.numpy().tolist() for _, y in pipe]
    epoch2 = [y.numpy().tolist() for _, y in pipe]
    assert [len(b) for b in epoch1] == [100, 100, 40] and len(pipe) == 3
    assert sorted(sum(epoch1, [])) == sorted(sum(epoch2, [])) and epoch1 != epoch2  # reshuffled each pass
    x, _ = next(iter(pipe))
    assert float(x.max()) <= 1.0 and str(x.dtype).endswith("float32")
    assert len(list(train.take(5))) == 5 and len(list(train.skip(230))) == 10
    assert len(list(train.repeat(2))) == 2 * N_TRAIN and len(list(train.filter(lambda i, lab: lab == 3))) == 24
    assert next(iter(train.batch(4).unbatch()))[0].shape == (28, 28, 1)
    slices = Dataset.from_tensor_slices((np.zeros((10, 2)), np.arange(10))).batch(4, drop_remainder=True)
    assert len(slices) == 2 and int(slices.cardinality().numpy()) == 2
    assert [int(i) for i, _ in Dataset.range(3).enumerate()] == [0, 1, 2]
    with pytest.raises(NotImplementedError, match="interleave"):
        train.interleave(lambda x: x)


def test_what_is_not_served_says_so(tfds, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="serves only 'mnist'"):
        tfds.load("cifar10")
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        tfds.load("mnist", split="validation")
    assert tfds.load("mnist:3.*.*", split="test[:2]") is not None  # a version in the name is fine
    log = (tmp_path / "shims.log").read_text(encoding="utf-8")
    assert "tensorflow_datasets.load('mnist'" in log and "no download" in log


KERAS_TUTORIAL = """
import json
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

(ds_train, ds_test), ds_info = tfds.load('mnist', split=['train', 'test'], shuffle_files=True,
                                         as_supervised=True, with_info=True)

def normalize_img(image, label):
    return tf.cast(image, tf.float32) / 255., label

ds_train = ds_train.map(normalize_img, num_parallel_calls=tf.data.AUTOTUNE).cache()
ds_train = ds_train.shuffle(ds_info.splits['train'].num_examples).batch(32).prefetch(tf.data.AUTOTUNE)
ds_test = ds_test.map(normalize_img, num_parallel_calls=tf.data.AUTOTUNE).batch(32).cache()
model = tf.keras.models.Sequential([
    tf.keras.layers.Input((28, 28, 1)),
    tf.keras.layers.Conv2D(8, 3, activation='relu'),
    tf.keras.layers.MaxPooling2D(),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(10),
])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
history = model.fit(ds_train, epochs=4, validation_data=ds_test, verbose=0)
loss, acc = model.evaluate(ds_test, verbose=0)
pred = model.predict(ds_test, verbose=0)
xs = tf.data.Dataset.from_tensor_slices((np.zeros((64, 28, 28, 1), 'float32'), np.zeros(64, 'int64'))).batch(16)
model.fit(xs, epochs=1, verbose=0)
print(json.dumps({"acc": float(acc), "pred": list(pred.shape), "keys": sorted(history.history),
                  "epochs": len(history.history["loss"])}))
"""


@installed("keras")
@pytest.mark.slow
@pytest.mark.torch
def test_keras_trains_on_a_tfds_pipeline(data_dir: Path, tmp_path: Path) -> None:
    """The TensorFlow Datasets Keras example, in our words: load, map, cache, shuffle, batch, prefetch,
    fit with validation_data, evaluate, predict; and tf.data.Dataset.from_tensor_slices into fit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "KERAS_"))}
    env.update(PYTHONPATH=f"{SHIMS}{os.pathsep}{env.get('PYTHONPATH', '')}", KERAS_BACKEND="torch",
               GRADER_DATA_MNIST=str(data_dir))
    prelude = f"import grader_offline\ngrader_offline.install({str(tmp_path)!r})\n"
    done = subprocess.run([sys.executable, "-c", prelude + KERAS_TUTORIAL], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["epochs"] == 4 and "val_loss" in got["keys"] and got["pred"] == [N_TEST, 10]
    assert got["acc"] > 0.8  # it learnt from the served images and labels
    log = (tmp_path / "shims.log").read_text(encoding="utf-8")
    assert "import tensorflow_datasets" in log and "PyDataset" in log
