"""Offline pretrained weights: the shim serves files from the weights folder, names a missing one
(and records it for the batch), and the probe tells a pretrained backbone from weights=None."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.models.transfer import batch_missing_weights, missing_weights, prepare_weights, used_weights

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from hw3_data import resnet18_file_name, write_fake_weights  # noqa: E402

from grader_inside.probes.transfer import inspect  # noqa: E402

pytestmark = [pytest.mark.torch]
from grader_inside.boot import SHIMS  # noqa: E402


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


def _resnet(weights: Path | None) -> torch.nn.Module:
    model = torchvision.models.resnet18()
    if weights is not None:
        model.load_state_dict(torch.load(weights / resnet18_file_name(), weights_only=True))
    return model


def test_pretrained_frozen_backbone_is_recognised(weights: Path) -> None:
    model = _resnet(weights)
    for p in model.parameters():
        p.requires_grad = False
    model.fc = torch.nn.Linear(512, 3)
    info = inspect(model, str(weights), [resnet18_file_name()])
    assert info["backbone"] == "ResNet" and info["pretrained"] is True
    assert info["weights_file"] == resnet18_file_name() and info["first_conv"]["equal"] is True
    assert info["first_conv"]["cosine"] == pytest.approx(1.0)
    groups = {g["name"]: g for g in info["groups"]}
    assert groups["conv1"]["trainable"] == 0 and groups["layer4"]["unchanged"] == groups["layer4"]["matched"]
    assert groups["fc"]["matched"] == 0 and groups["fc"]["trainable"] == 512 * 3 + 3  # the new head


def test_fine_tuned_backbone_still_matches(weights: Path) -> None:
    model = _resnet(weights)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * p.std() * torch.randn_like(p))  # what a few steps of fine-tuning do
    info = inspect(model, str(weights), [])
    assert info["pretrained"] is True and info["first_conv"]["equal"] is False
    assert info["first_conv"]["cosine"] > 0.99 and info["unchanged"] == 0 or info["unchanged"] < info["matched"]


def test_weights_none_is_not_pretrained(weights: Path) -> None:
    torch.manual_seed(0)  # the kernel's seed: must not be the stand-in file's
    info = inspect(_resnet(None), str(weights), [])
    assert info["backbone"] == "ResNet" and info["pretrained"] is False
    assert abs(info["first_conv"]["cosine"]) < 0.2


def test_backbone_inside_a_wrapper(weights: Path) -> None:
    base = _resnet(weights)
    wrapped = torch.nn.Sequential(torch.nn.Sequential(*list(base.children())[:-1]), torch.nn.Flatten(),
                                  torch.nn.Linear(512, 3))
    info = inspect(wrapped, str(weights), [])
    assert info["backbone"] is None and info["pretrained"] is True  # matched by position and shape



def test_keras_applications_use_the_weights_folder(weights: Path, tmp_path: Path) -> None:
    pytest.importorskip("keras")
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
