"""Grades that are not what they seem say so: accuracy above the rubric's plausibility ceiling is
flagged for the instructor's review, and grades on the demo data carry a "demo" flag into
results.json, the report, the gradebook, Gradescope, Moodle and Classroom."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from grader.artifacts import CheckContext
from grader.families.models.checks import check_accuracy
from grader.classroom import check_tests, classroom_outcome
from grader.data import write_idx
from grader.data.splits import prepare_mnist
from grader.errors import RubricError
from grader.families.models.setup import ModelsSetup
from grader.report.exports import gradescope_result, moodle_feedback
from grader.report.gradebook import write_gradebook_csv
from grader.results import BatchResult, CheckResult, Flag, SubmissionResult
from grader.rubric import load_rubric

N = 100


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> ModelsSetup:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for name, arr in {"train-images-idx3-ubyte": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
                      "train-labels-idx1-ubyte": (np.arange(40) % 10).astype(np.uint8),
                      "t10k-images-idx3-ubyte": rng.integers(0, 256, (N, 28, 28), dtype=np.uint8),
                      "t10k-labels-idx1-ubyte": (np.arange(N) % 10).astype(np.uint8)}.items():
        write_idx(root / "src" / name, arr)
    return ModelsSetup(prepare_mnist(root / "src", root / "cache"), None, "cpu", evaluate=True)


def context(tmp_path: Path, setup: ModelsSetup, accuracy: float) -> CheckContext:
    labels = setup.hidden_labels()
    preds = labels.copy()
    wrong = int(round(N * (1 - accuracy)))
    preds[:wrong] = (preds[:wrong] + 1) % 10
    folder = tmp_path / "run" / "models"
    folder.mkdir(parents=True)
    np.save(folder / "pred_0.npy", preds.astype(np.int16))
    rec = {"name": "lookup", "framework": "torch", "class": "Oracle", "params": 1, "conv_weights": 0,
           "layers": ["Linear"], "shape": "N,784", "scale": "0..1", "val_accuracy": 0.1, "predictions": "pred_0.npy"}
    (folder / "models.json").write_text(json.dumps({"models": [rec], "hidden_images": N}))
    return CheckContext(lang="en", cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path, data=setup)


def test_accuracy_above_the_ceiling_is_flagged_and_keeps_its_points(tmp_path: Path, setup: ModelsSetup) -> None:
    out = check_accuracy(context(tmp_path, setup, 1.0), {"framework": "torch", "good_accuracy": 0.9, "ceiling": 0.998})
    assert out.key == "good"  # points stand until the instructor has looked
    assert [f.kind for f in out.flags] == ["implausible"]
    assert "100.00% of the 100 hidden test images" in out.flags[0].message and "--retrain" in out.flags[0].message


def test_plausible_accuracy_and_no_ceiling_raise_nothing(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, 0.97)
    assert check_accuracy(ctx, {"framework": "torch", "ceiling": 0.998}).flags == ()
    assert check_accuracy(ctx, {"framework": "torch"}).flags == ()
    with pytest.raises(RubricError, match="ceiling"):
        check_accuracy(ctx, {"framework": "torch", "ceiling": 99.8})


def test_the_shipped_rubric_sets_a_ceiling_for_both_frameworks() -> None:
    ceilings = {c.id: c.params.get("ceiling") for c in load_rubric("task2").checks if c.kind == "models.accuracy"}
    assert ceilings == {"torch_accuracy": 0.998, "keras_accuracy": 0.998}


def test_demo_data_is_flagged_real_data_is_not(setup: ModelsSetup) -> None:
    assert setup.flags("en") == ()
    demo = dataclasses.replace(setup, mnist=dataclasses.replace(setup.mnist, demo=True))
    flags = demo.flags("ru")
    assert [f.kind for f in flags] == ["demo"] and "демо-данных" in flags[0].message
    assert any(note.startswith("Hidden test:") for note in setup.notes("en"))


DEMO = Flag("demo", "Graded on demo data, not on the course dataset.")
CHECKS = (CheckResult("acc", "Accuracy", "pass", 2.0, 2.0, "fine"),)


def test_every_export_marks_demo_grades(tmp_path: Path) -> None:
    flagged = SubmissionResult("Анна", "dz2.ipynb", "a", "graded", 2.0, 2.0, 1.0, None, CHECKS, flags=(DEMO,))
    plain = SubmissionResult("Oleg", "dz2.ipynb", "b", "graded", 2.0, 2.0, 1.0, None, CHECKS)
    rows = list(csv.reader(io.StringIO(write_gradebook_csv(BatchResult("task2", "t", (flagged, plain)),
                                                           tmp_path / "g.csv").read_text(encoding="utf-8-sig"))))
    by_name = {row[0]: row for row in rows[1:]}
    assert rows[0][-1] == "flags" and by_name["Анна"][-1] == "demo" and by_name["Oleg"][-1] == ""
    alone = list(csv.reader(io.StringIO(write_gradebook_csv(BatchResult("task2", "t", (plain,)),
                                                            tmp_path / "p.csv").read_text(encoding="utf-8-sig"))))
    assert "flags" not in alone[0]  # no column when nobody is flagged
    gs = gradescope_result(flagged, "en")
    assert DEMO.message in gs["output"] and gs["extra_data"]["flags"][0]["kind"] == "demo"
    assert "flags" not in gradescope_result(plain, "en")["extra_data"]
    assert DEMO.message in moodle_feedback(flagged, "en")
    now, task2 = datetime.now(timezone.utc), load_rubric("task2")
    tests, _ = check_tests(flagged, task2, "en", now)
    assert any(DEMO.message in t["message"] for t in tests)
    assert classroom_outcome(flagged, task2, "en", now).points_line == \
        classroom_outcome(plain, task2, "en", now).points_line  # said, never scored
