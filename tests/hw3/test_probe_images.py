"""The HW 3 models probe in-process on models made here (trusted): the student's own transform
picked on the validation images, PIL fallback, random augmentation left out, curves found."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.data.imagefolder import ImageFolderSettings, prepare_imagefolder

torch = pytest.importorskip("torch")
T = pytest.importorskip("torchvision.transforms")
from grader_inside.probes import images, kernel  # noqa: E402

pytestmark = [pytest.mark.torch]
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ColourNet(torch.nn.Module):
    """Class = the colour of the most saturated pixels (red disc, green square, blue triangle);
    right only on ImageNet-normalised input."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = x * torch.tensor(STD).view(1, 3, 1, 1) + torch.tensor(MEAN).view(1, 3, 1, 1)
        saturation = (x.max(1).values - x.min(1).values).flatten(1)
        top = saturation.topk(30, dim=1).indices[:, None, :].expand(-1, 3, -1)
        colours = x.flatten(2).gather(2, top).mean(2)
        return self.scale * (colours - colours.mean(1, keepdim=True))


@pytest.fixture(scope="module")
def prepared(shapes: Path, tmp_path_factory: pytest.TempPathFactory):
    return prepare_imagefolder("afhq", shapes, tmp_path_factory.mktemp("cache"),
                               ImageFolderSettings(size=48, format_images=18))


def _run(ns: dict, prepared, out: Path) -> dict:
    config = {"outbox": str(out), "folder": str(out / "models"), "hidden_images": str(prepared.hidden_images),
              "device": "cpu", "batch_size": 8,
              "images": {"classes": list(prepared.classes), "format_images": str(prepared.format_images),
                         "format_labels": str(prepared.format_labels), "size": 48, "weights_dir": None}}
    kernel.run_after(ns, "grader_inside.probes.images", config)  # as the harness calls it
    return json.loads((out / "models" / "models.json").read_text(encoding="utf-8"))


def _accuracy(out: Path, rec: dict, prepared) -> float:
    preds = np.load(out / "models" / rec["predictions"], allow_pickle=False)
    return float(np.mean(preds == prepared.hidden_labels()))


def test_the_students_evaluation_transform_is_used(prepared, tmp_path: Path) -> None:
    val_tf = T.Compose([T.Resize(40), T.CenterCrop(32), T.ToTensor(), T.Normalize(MEAN, STD)])
    train_tf = T.Compose([T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
    ns = {"net": ColourNet(), "train_tf": train_tf, "val_tf": val_tf, "T": T}
    report = _run(ns, prepared, tmp_path)
    assert report["error"] is None and report["transforms_found"] == ["val_tf", "train_tf"]
    rec = report["models"][0]
    assert rec["scale"] == "student: val_tf" and rec["shape"] == "N,3,32,32"
    assert rec["transform"]["steps"] == "Resize(40) -> CenterCrop((32, 32)) -> ToTensor -> Normalize"
    assert rec["val_accuracy"] > 0.9 and _accuracy(tmp_path, rec, prepared) > 0.9
    assert "transfer" in rec and rec["transfer"]["backbone"] is None
    assert json.loads((tmp_path / "models" / "models.json").read_text())["kind"] == "images"


def test_random_augmentation_is_left_out(prepared, tmp_path: Path) -> None:
    tf = T.Compose([T.RandomVerticalFlip(p=1.0), T.ToTensor(), T.Normalize(MEAN, STD)])
    rec = _run({"net": ColourNet(), "eval_tf": tf}, prepared, tmp_path)["models"][0]
    assert rec["scale"] == "student: eval_tf"
    assert "RandomVerticalFlip" in rec["transform"]["notes"][0]


def test_a_transform_for_pil_images_runs_image_by_image(prepared, tmp_path: Path) -> None:
    tf = T.Compose([T.Lambda(lambda im: im.rotate(0)), T.ToTensor(), T.Normalize(MEAN, STD)])
    rec = _run({"net": ColourNet(), "test_transform": tf}, prepared, tmp_path)["models"][0]
    assert rec["scale"] == "student: test_transform" and rec["transform"]["pil"] is True
    assert "PIL" in rec["transform"]["notes"][0] and _accuracy(tmp_path, rec, prepared) > 0.9


def test_standard_inputs_when_no_transform_is_found(prepared, tmp_path: Path) -> None:
    rec = _run({"net": ColourNet()}, prepared, tmp_path)["models"][0]
    assert rec["scale"].startswith("standard: ImageNet normalisation") and rec["val_accuracy"] > 0.9


def test_a_model_with_too_few_outputs_is_explained(prepared, tmp_path: Path) -> None:
    two = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(2))
    two(torch.zeros(1, 3, 48, 48))
    rec = _run({"two": two}, prepared, tmp_path)["models"][0]
    assert "predictions" not in rec and "expected" in rec["error"] and "3) class scores" in rec["error"]


def test_training_histories_are_read(prepared, tmp_path: Path) -> None:
    class History:  # what keras.callbacks.History looks like to the probe
        history = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.9, 1.2], "accuracy": [0.5, 0.8, 0.9]}

    ns = {"hist": History(), "train_losses": [0.9, 0.6], "val_losses": [1.0, 0.8], "epochs": [1, 2]}
    found = images.histories(ns)
    assert {"source": "hist: loss, val_loss", "metric": "loss", "train": [1.0, 0.5, 0.2],
            "val": [1.1, 0.9, 1.2]} in found
    assert any(h["source"] == "variables: train_losses, val_losses" for h in found)


def test_evaluation_remarks_reach_the_report(prepared, tmp_path: Path) -> None:
    from grader.artifacts import Records
    from grader.families.models import MODELS_JSON
    from grader.families.models.weights import transform_notes

    tf = T.Compose([T.Lambda(lambda im: im.rotate(0)), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
    _run({"net": ColourNet(), "test_transform": tf}, prepared, tmp_path)
    records = Records({MODELS_JSON: (tmp_path / "models" / "models.json").read_bytes()})  # as the pipeline reads it
    remarks = [detail for model, label, detail in transform_notes(records) if model == "net"]
    assert any("PIL" in r for r in remarks) and any("RandomHorizontalFlip" in r for r in remarks)
