"""The models probe in-process on models made here (trusted): discovery and input-format search."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.data import prepare_mnist, read_idx

torch = pytest.importorskip("torch")
from grader_inside.probes import models as probe  # noqa: E402  (needs torch only when models exist)

pytestmark = [pytest.mark.torch]


class Templates(torch.nn.Module):
    """Nearest class mean in raw pixel units: right only when fed 0..255 values, flattened."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        super().__init__()
        means = np.stack([images[labels == c].reshape(-1, 784).mean(0) for c in range(10)])
        self.means = torch.nn.Parameter(torch.tensor(means, dtype=torch.float32))

    def forward(self, x):
        return -torch.cdist(x.reshape(len(x), -1), self.means)


@pytest.fixture(scope="module")
def demo(demo_cache: Path):
    return prepare_mnist(None, demo_cache)


def test_format_search_and_hidden_predictions(demo, tmp_path: Path) -> None:
    raw = demo.student_dir / "MNIST" / "raw"
    x, y = read_idx(raw / "train-images-idx3-ubyte"), read_idx(raw / "train-labels-idx1-ubyte")
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 26 * 26, 10))
    ns = {"tmpl": Templates(x, y), "cnn": conv, "loss": torch.nn.CrossEntropyLoss(),
          "zoo": {"again": conv, "head": conv[2]}, "np": np, "Templates": Templates}
    report = probe.run(ns, {"outbox": str(tmp_path), "folder": str(tmp_path / "models"),
                            "data_dir": str(demo.student_dir), "hidden_images": str(demo.hidden_images),
                            "device": "cpu", "batch_size": 64})
    assert report["error"] is None
    by_name = {m["name"]: m for m in report["models"]}
    assert set(by_name) == {"tmpl", "cnn"}  # the loss, the alias and the sub-module are not models
    tmpl = by_name["tmpl"]
    assert tmpl["scale"] == "0..255" and tmpl["val_accuracy"] > 0.45  # chance is 0.1
    assert by_name["cnn"]["shape"] == "N,1,28,28" and by_name["cnn"]["conv_weights"] == 1
    assert "N,784" in by_name["cnn"]["format_errors"]
    preds = np.load(tmp_path / "models" / tmpl["predictions"], allow_pickle=False)
    assert preds.shape == (demo.n_hidden,)
    assert np.mean(preds == demo.hidden_labels()) > 0.45
    saved = json.loads((tmp_path / "models" / "models.json").read_text())
    assert saved["hidden_images"] == demo.n_hidden and conv.training  # training mode restored


def test_namespace_without_models(tmp_path: Path, demo) -> None:
    report = probe.run({"x": 1}, {"outbox": str(tmp_path), "folder": str(tmp_path / "models"),
                                  "data_dir": str(demo.student_dir), "hidden_images": str(demo.hidden_images)})
    assert report["models"] == [] and report["error"] is None


def test_an_empty_keras_model_is_not_a_model() -> None:
    """`model = Sequential()` whose layers were never added (the cell that adds them failed) is
    no model, like a torch module without parameters; a defined but unbuilt model still is."""
    keras = pytest.importorskip("keras")
    empty = keras.Sequential()
    unbuilt = keras.Sequential([keras.layers.Dense(10)])
    found, _ = probe.discover({"model": empty, "net": unbuilt})
    assert [f.name for f in found] == ["net"]


def test_models_keep_the_students_own_names() -> None:
    """IPython keeps every displayed value in its output cache (`Out[12]`, `_12`, `_`, `__`): a model
    shown at the end of a cell is there before the student's own variable in the namespace, and
    was reported as `Out[12]`. The student's variable, item or attribute path is the name."""
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    other = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))

    class Trainer:
        def __init__(self, model):
            self.model = model
            self._best = model

    ns = {"In": ["", "net"], "Out": {12: net, 13: other}, "_12": net, "_": other, "__": net, "_oh": {12: net},
          "net": net, "trainer": Trainer(other), "get_ipython": lambda: None}
    found, _ = probe.discover(ns)
    assert [f.name for f in found] == ["net", "trainer.model"]
    only_cached, _ = probe.discover({"Out": {3: net}, "_3": net})
    assert only_cached == []  # no name of the student's: not a model the notebook kept
