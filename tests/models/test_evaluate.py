"""Scoring hidden-split predictions, and reading what the probe wrote (plain data only)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.artifacts import Records, read_records
from grader.families.models import MODELS_JSON
from grader.families.models.artifacts import MAX_JSON_BYTES, probe_report
from grader.families.models.evaluate import score_predictions
from grader.families.models.weights import transform_notes


def test_accuracy_per_class_and_confusion() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    preds = np.array([0, 0, 1, 2, 2, 2, 3, 0])
    s = score_predictions(preds, labels, seconds=0.5)
    assert s.accuracy == pytest.approx(6 / 8)
    assert s.per_class[:4] == (1.0, 0.5, 1.0, 0.5)
    assert np.isnan(s.per_class[9])
    assert s.confusion[1][2] == 1 and s.confusion[3][0] == 1
    assert sum(map(sum, s.confusion)) == 8
    assert s.images_per_s == pytest.approx(16.0)
    assert not s.constant


def test_constant_predictor_is_flagged() -> None:
    labels = np.arange(100) % 10
    preds = np.full(100, 7)
    preds[:5] = labels[:5]
    s = score_predictions(preds, labels)
    assert s.constant and s.dominant_class == 7 and s.dominant_share >= 0.9


def test_out_of_range_predictions_count_as_wrong() -> None:
    s = score_predictions(np.array([0, 11, -3]), np.array([0, 1, 2]))
    assert s.accuracy == pytest.approx(1 / 3)
    assert sum(map(sum, s.confusion)) == 1


def _write(outbox: Path, models: list[dict], n: int = 4) -> Path:
    folder = outbox / "models"
    folder.mkdir(parents=True)
    (folder / "models.json").write_text(json.dumps({"models": models, "hidden_images": n, "device": "cpu"}))
    return folder


def test_report_rejects_bad_prediction_files(tmp_path: Path) -> None:
    folder = _write(tmp_path, [
        {"name": "ok", "framework": "torch", "class": "Net", "params": 10, "conv_weights": 2,
         "predictions": "pred_0.npy", "shape": "N,1,28,28", "scale": "0..1", "inference_s": 0.1},
        {"name": "short", "framework": "keras", "class": "Sequential", "predictions": "pred_1.npy"},
        {"name": "pickled", "framework": "torch", "class": "X", "predictions": "pred_2.npy"},
        {"name": "escape", "framework": "torch", "class": "X", "predictions": "../../etc/passwd.npy"},
    ])
    np.save(folder / "pred_0.npy", np.array([1, 2, 3, 4], dtype=np.int16))
    np.save(folder / "pred_1.npy", np.array([1, 2], dtype=np.int16))
    np.save(folder / "pred_2.npy", np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    report = probe_report(read_records(tmp_path, ("models/models.json", "models/*.npy")), "models")
    by_name = {m.name: m for m in report.models}
    assert by_name["ok"].predictions is not None and by_name["ok"].convolutional
    assert by_name["short"].predictions is None and "expected 4" in (by_name["short"].error or "")
    assert by_name["pickled"].predictions is None and "unreadable" in (by_name["pickled"].error or "")
    assert by_name["escape"].predictions is None


def test_no_report_means_the_probe_did_not_run(tmp_path: Path) -> None:
    report = probe_report(read_records(tmp_path, ("models/models.json", "models/*.npy")), "models")
    assert not report.ran and report.models == ()


def test_every_reader_of_models_json_holds_the_same_bound() -> None:
    """The checks and the report's remarks on the student's transforms read one models.json the
    same way: a file over the bound is left out by both, a broken one is named by the checks."""
    record = {"name": "net", "framework": "torch", "class": "Net",
              "transform": {"label": "val_tf", "notes": ["RandomHorizontalFlip left out"]}}
    body = json.dumps({"models": [record], "hidden_images": 0}).encode()
    small = Records({MODELS_JSON: body})
    assert transform_notes(small) == [("net", "val_tf", "RandomHorizontalFlip left out")]
    assert probe_report(small).ran
    padded = body[:-1] + b', "pad": "' + b"x" * MAX_JSON_BYTES + b'"}'
    big = Records({MODELS_JSON: padded})
    assert transform_notes(big) == [] and not probe_report(big).ran and probe_report(big).error is None
    broken = Records({MODELS_JSON: b"[1, 2"})
    assert transform_notes(broken) == [] and probe_report(broken).error == "unreadable models.json"
