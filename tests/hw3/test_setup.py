"""What an HW 3 batch prepares once: data splits, mounts, environment, probe settings, notes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.artifacts import Records
from grader.errors import DataError
from grader.families.models.setup import prepare_setup
from grader.rubric import load_rubric


def test_hw3_setup(shapes: Path, tmp_path: Path) -> None:
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "resnet18-f37072fd.pth").write_bytes(b"stand-in")
    setup = prepare_setup(load_rubric("hw3"), {"afhq": shapes.parent}, "cpu", tmp_path / "cache", weights=weights)
    assert setup is not None and setup.images is not None and setup.mnist is None and setup.n_classes == 3
    data = setup.images.prepared
    targets = {m.target: m.source for m in setup.mounts()}
    assert targets["/content/afhq"] == data.student_dir and targets["./afhq"] == data.student_dir
    assert targets[str(setup.images.weights.checkpoints)] == weights.resolve()
    env = setup.env()
    assert env["TORCH_HOME"] == str(setup.images.weights.torch_home) and env["GRADER_DATA_AFHQ"] == str(data.student_dir)
    assert json.loads(env["GRADER_KAGGLE_DATASETS"]) == {
        "andrewmvd/animal-faces": {"path": str(data.student_dir), "folder": "afhq"}}
    assert (setup.images.weights.checkpoints / "resnet18-f37072fd.pth").is_file()  # the plain backend's link
    config = setup.probe_config()
    assert config["images"]["classes"] == ["cat", "dog", "wild"] and "retrain" not in config
    assert setup.parameters({"DATA_DIR": "{data.afhq}", "DEVICE": "{device}"}) == \
        {"DATA_DIR": str(data.student_dir), "DEVICE": "cpu"}
    assert "18 hidden test images" in setup.notes("en")[0]
    notes = setup.run_notes(Records(), ["FileNotFoundError: [Errno 2] No such file or directory: '/afhq/train'",
                                       "No such file or directory: 'model_weights.pth'"], "en")
    assert len(notes) == 1 and "/afhq/train" in notes[0] and "/content/afhq" in notes[0]


def test_retraining_on_a_cpu_follows_the_rubric(shapes: Path, tmp_path: Path) -> None:
    rubric = load_rubric("hw3")
    ev = rubric.section("evaluation")
    assert ev is not None and ev.retrain_budget is not None
    setup = prepare_setup(rubric, {"afhq": shapes}, "cpu", tmp_path, retrain=True)
    assert setup is not None and "retrain" not in setup.probe_config()  # cpu_budget_s: null -> evaluate only
    budget = ev.retrain_budget.model_copy(update={"cpu_budget_s": 30.0, "images_per_class": 4})
    rubric = rubric.model_copy(update={"evaluation": ev.model_copy(update={"retrain_budget": budget})})
    config = prepare_setup(rubric, {"afhq": shapes}, "cpu", tmp_path, retrain=True).probe_config()
    assert config["retrain"]["budget_s"] == 30.0 and Path(config["retrain"]["train_images"]).is_file()


def test_images_are_required(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--data afhq=<folder>"):
        prepare_setup(load_rubric("hw3"), {}, "cpu", tmp_path)
    with pytest.raises(DataError, match="unknown dataset name.*known: afhq, mnist"):
        prepare_setup(load_rubric("hw3"), {"cifar": tmp_path}, "cpu", tmp_path)
