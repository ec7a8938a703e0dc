"""Offline pretrained weights: the shim serves files from the weights folder and names a missing
one (and records it for the batch). How the probe tells a pretrained backbone from weights=None:
tests/hw3/test_transfer_evidence.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from requires import installed

from grader.families.models.weights import batch_missing_weights, missing_weights, prepare_weights, used_weights

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from hw3_data import resnet18_file_name, write_fake_weights  # noqa: E402

pytestmark = [pytest.mark.torch]
from grader_inside.prepare import SHIMS  # noqa: E402


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_weights(tmp_path_factory.mktemp("weights"), pretrain=False).parent


def test_file_name_is_torchvisions() -> None:
    assert resnet18_file_name() == "resnet18-f37072fd.pth"


def _kernel_like(code: str, weights: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` with the shims installed, as the sandboxed kernel would (a separate process)."""
    folder = prepare_weights(weights, tmp_path / "cache")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    setup = f"import grader_offline\ngrader_offline.install({str(outbox)!r})\n"
    env = {**os.environ, **folder.env(), "PYTHONPATH": f"{SHIMS}:{Path(__file__).resolve().parents[2]}"}
    return subprocess.run([sys.executable, "-c", setup + code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_weights_load_offline_and_a_missing_file_is_named(weights: Path, tmp_path: Path) -> None:
    code = ("import torchvision.models as m\n"
            "a = m.resnet18(weights='IMAGENET1K_V1')\nb = m.resnet18(pretrained=True)\n"
            "print('same', all((x == y).all().item() for x, y in zip(a.parameters(), b.parameters())))\n"
            "try:\n    m.resnet50(weights=m.ResNet50_Weights.DEFAULT)\n"
            "except FileNotFoundError as e:\n    print('MISSING', e)\n")
    done = _kernel_like(code, weights, tmp_path)
    assert "same True" in done.stdout, done.stderr
    assert "MISSING" in done.stdout and "resnet50-11ad3fa6.pth" in done.stdout and "--weights" in done.stdout
    outbox = tmp_path / "outbox"
    assert missing_weights(outbox) == ("resnet50-11ad3fa6.pth",)
    assert used_weights(outbox) == ("resnet18-f37072fd.pth",)
    student = tmp_path / "out" / "anna" / "run"
    student.mkdir(parents=True)
    (student / "weights_missing.txt").write_text((outbox / "weights_missing.txt").read_text())
    assert batch_missing_weights(tmp_path / "out", {"Anna": "anna", "Oleg": "oleg"}) == \
        {"resnet50-11ad3fa6.pth": ["Anna"]}


def test_kaggle_downloads_resolve_to_the_served_data(tmp_path: Path, weights: Path) -> None:
    data = tmp_path / "data"
    (data / "train" / "cat").mkdir(parents=True)
    served = json.dumps({"andrewmvd/animal-faces": {"path": str(data), "folder": "afhq"}})
    code = (f"import os\nos.environ['GRADER_KAGGLE_DATASETS'] = {served!r}\n"
            "import opendatasets as od\nod.download('https://www.kaggle.com/datasets/andrewmvd/animal-faces')\n"
            "print(os.listdir('animal-faces/afhq'))\n"
            "import kaggle\nkaggle.api.authenticate()\n"
            "kaggle.api.dataset_download_files('andrewmvd/animal-faces', path='kg', unzip=True)\n"
            "print(os.listdir('kg/afhq'))\n"
            "try:\n    od.download('https://www.kaggle.com/datasets/someone/cifar')\n"
            "except FileNotFoundError as e:\n    print('NOT SERVED', e)\n")
    done = _kernel_like(code, weights, tmp_path)
    assert done.stdout.count("['train']") == 2, done.stderr
    assert "NOT SERVED" in done.stdout and "someone/cifar" in done.stdout and "andrewmvd/animal-faces" in done.stdout
    log = (tmp_path / "outbox" / "shims.log").read_text()
    assert "opendatasets.download" in log and "no download" in log


@installed("keras")
def test_keras_applications_use_the_weights_folder(weights: Path, tmp_path: Path) -> None:
    code = ("import os\nos.environ.setdefault('KERAS_BACKEND', 'torch')\n"
            "from keras.src.utils import file_utils\n"
            "print('HIT', file_utils.get_file('resnet18-f37072fd.pth', 'https://example.org/resnet18-f37072fd.pth', "
            "cache_subdir='models'))\n"
            "import keras\n"
            "try:\n    keras.applications.MobileNetV2(weights='imagenet')\n"
            "except FileNotFoundError as e:\n    print('MISSING', e)\n")
    done = _kernel_like(code, weights, tmp_path)
    assert "HIT" in done.stdout and "models/resnet18-f37072fd.pth" in done.stdout, done.stderr[-2000:]
    assert "MISSING" in done.stdout and "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5" in done.stdout
