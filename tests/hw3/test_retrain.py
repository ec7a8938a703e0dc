"""HW 3 retraining in the probe: from the pretrained start (the file's tensors, the student's
frozen layers kept), within the time budget; read back as Task 2's retraining records."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.data.imagefolder import ImageFolderSettings, prepare_imagefolder
from grader.artifacts import read_records
from grader.families.models.artifacts import probe_report

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from hw3_data import resnet18_file_name, write_fake_weights  # noqa: E402

from grader_inside.probes import images, transfer  # noqa: E402

pytestmark = [pytest.mark.torch]


@pytest.fixture(scope="module")
def setup(shapes: Path, tmp_path_factory: pytest.TempPathFactory):
    weights = write_fake_weights(tmp_path_factory.mktemp("weights"), pretrain=False).parent
    prepared = prepare_imagefolder("afhq", shapes, tmp_path_factory.mktemp("cache"),
                                   ImageFolderSettings(size=32, format_images=9, retrain_images=4))
    return prepared, weights


def _config(prepared, weights: Path, out: Path, budget: float) -> dict:
    return {"outbox": str(out), "folder": str(out / "models"), "hidden_images": str(prepared.hidden_images),
            "device": "cpu", "batch_size": 16,
            "images": {"classes": list(prepared.classes), "format_images": str(prepared.format_images),
                       "format_labels": str(prepared.format_labels), "size": 32, "weights_dir": str(weights)},
            "retrain": {"budget_s": budget, "epochs": 2, "batch_size": 4, "lr": 1e-3,
                        "train_images": str(prepared.train_images), "train_labels": str(prepared.train_labels)}}


def _student_model(weights: Path) -> torch.nn.Module:
    model = torchvision.models.resnet18()
    model.load_state_dict(torch.load(weights / resnet18_file_name(), weights_only=True))
    for p in model.parameters():
        p.requires_grad = False
    model.fc = torch.nn.Linear(512, 3)
    with torch.no_grad():
        model.conv1.weight.mul_(-1.0)  # the student's copy differs: retraining starts from the file
    return model


def test_retrained_from_the_pretrained_file(setup, tmp_path: Path) -> None:
    prepared, weights = setup
    tf = torchvision.transforms.Compose([torchvision.transforms.ToTensor()])
    report = images.run({"model": _student_model(weights), "val_tf": tf}, _config(prepared, weights, tmp_path, 60))
    rec = report["models"][0]
    assert "retrain_error" not in rec, rec.get("retrain_error")
    meta = rec["retrain"]
    assert meta["stopped"] == "epochs" and meta["pretrained_tensors"] == 60 and meta["device"] == "cpu"
    assert len(meta["runs"][0]["history"]["epochs"]) == 2
    back = probe_report(read_records(tmp_path, ("models/models.json", "models/*.npy")), "models").models[0]
    assert back.retrain and len(back.retrain[0].predictions) == prepared.n_hidden
    assert len(back.retrain[0].train_loss) == 2


def test_budget_stops_training(setup, tmp_path: Path) -> None:
    prepared, weights = setup
    tf = torchvision.transforms.Compose([torchvision.transforms.ToTensor()])
    rec = images.run({"model": _student_model(weights), "val_tf": tf},
                     _config(prepared, weights, tmp_path, 0.001))["models"][0]
    assert rec["retrain"]["stopped"] == "cpu" and len(rec["retrain"]["runs"][0]["history"]["epochs"]) == 1


def test_start_keeps_frozen_layers_and_resets_the_head(setup) -> None:
    _, weights = setup
    student = _student_model(weights)
    fresh, loaded = transfer.pretrained_start(student, str(weights), [], seed=0)
    sd = torch.load(weights / resnet18_file_name(), weights_only=True)
    assert loaded == 60 and torch.equal(fresh.conv1.weight, sd["conv1.weight"])
    assert not fresh.conv1.weight.requires_grad and fresh.fc.weight.requires_grad
    assert not torch.equal(fresh.fc.weight, student.fc.weight)
    assert np.isfinite(fresh(torch.zeros(2, 3, 32, 32)).detach().numpy()).all()
