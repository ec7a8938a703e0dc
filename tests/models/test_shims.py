"""The offline shims, in a fresh interpreter (they patch torch, torchvision, keras, sklearn)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.data import prepare_mnist

from grader_inside.prepare import SHIMS
from requires import installed

pytestmark = [pytest.mark.torch, pytest.mark.slow, installed("torch", "torchvision", "keras", "sklearn")]  # the `models` extra


def run_with_shims(code: str, data_dir: Path | None, outbox: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "KERAS_"))}
    env["PYTHONPATH"] = f"{SHIMS}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["KERAS_BACKEND"] = "torch"
    if data_dir is not None:
        env["GRADER_DATA_MNIST"] = str(data_dir)
    prelude = f"import grader_offline, json\ngrader_offline.install({str(outbox)!r})\n"
    done = subprocess.run([sys.executable, "-c", prelude + code], env=env, cwd=outbox, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo(demo_cache: Path):
    return prepare_mnist(None, demo_cache)


def test_datasets_come_from_the_grader(demo, tmp_path: Path) -> None:
    code = """
import torchvision, keras
from sklearn.datasets import fetch_openml
tr = torchvision.datasets.MNIST(root='./data_dz1', train=True, download=True)
te = torchvision.datasets.MNIST('/content/data', False, None, None, True)
(xa, ya), (xb, yb) = keras.datasets.mnist.load_data()
X, y = fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False)
bunch = fetch_openml('mnist_784')
print(json.dumps({"tv": [len(tr), len(te)], "keras": [list(xa.shape), str(xa.dtype), len(xb)],
                  "openml": [list(X.shape), str(y[0].__class__.__name__)], "frame": list(bunch.data.shape)}))
"""
    got = run_with_shims(code, demo.student_dir, tmp_path)
    n_train, n_val = demo.n_train, demo.n_validation
    assert got["tv"] == [n_train, n_val]
    assert got["keras"] == [[n_train, 28, 28], "uint8", n_val]
    assert got["openml"] == [[n_train + n_val, 784], "str"]
    assert got["frame"] == [n_train + n_val, 784]
    log = (tmp_path / "shims.log").read_text(encoding="utf-8")
    assert "root='./data_dz1'" in log and "load_data" in log and "fetch_openml" in log
    assert not (tmp_path / "data_dz1").exists()  # nothing was downloaded


def test_cuda_and_mps_fall_back_to_the_cpu(tmp_path: Path) -> None:
    code = """
import torch, torch.nn as nn
dev = torch.device('cuda:0')
m = nn.Linear(3, 2).to(dev).cuda()
x = torch.zeros(4, 3, device='cuda').to('mps')
y = torch.randn(4, 3).cuda()
torch.save(m.state_dict(), 'w.pt')
sd = torch.load('w.pt', map_location='cuda:0')
out = m(x + y)
torch.cuda.synchronize()
print(json.dumps({"device": str(out.device), "keys": sorted(sd), "cuda": torch.cuda.is_available()}))
"""
    got = run_with_shims(code, None, tmp_path)
    assert got == {"device": "cpu", "keys": ["bias", "weight"], "cuda": False}
    assert "cuda:0" in (tmp_path / "shims.log").read_text(encoding="utf-8")


def test_torch_is_seeded(tmp_path: Path) -> None:
    code = "import torch\nprint(json.dumps({'x': torch.rand(3).tolist()}))\n"
    assert run_with_shims(code, None, tmp_path) == run_with_shims(code, None, tmp_path)


def test_tf_keras_runs_as_keras_3_without_tensorflow(demo, tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed: the stand-in stays out of the way")
    code = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Dense
from tensorflow.keras.utils import to_categorical
tf.random.set_seed(0)
(x, y), _ = tf.keras.datasets.mnist.load_data()
m = keras.Sequential([keras.Input((784,)), Dense(10, activation='softmax')])
m.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss='categorical_crossentropy')
m.fit(x.reshape(-1, 784)[:64] / 255.0, to_categorical(y[:64], 10), epochs=1, verbose=0)
print(json.dumps({"gpus": tf.config.list_physical_devices('GPU'), "keras": keras.__name__,
                  "out": list(m(x.reshape(-1, 784)[:2] / 255.0).shape)}))
"""
    got = run_with_shims(code, demo.student_dir, tmp_path)
    assert got == {"gpus": [], "keras": "keras", "out": [2, 10]}
    assert "TensorFlow is not installed" in (tmp_path / "shims.log").read_text(encoding="utf-8")
