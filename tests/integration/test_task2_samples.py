"""Grade the shipped Task 2 samples end to end (real kernels in the sandbox, models scored on the
hidden split) and assert the grades in submissions/task2/EXPECTED.yaml, check by check."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import load_rubric
from expected_grades import assert_expected_grades, load_expected, result_named
from requires import installed
from task2_support import demo_rubric

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "submissions" / "task2"
EXPECTED = load_expected(SAMPLES)
FASHION = Path("/usr/share/datasets/fashion-mnist")
MODEL_CHECKS = ("models_found", "torch_cnn", "keras_cnn", "torch_accuracy", "keras_accuracy",
                "torch_beats_example", "keras_beats_example")

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.torch, pytest.mark.timeout(3600),
              installed("torch", "torchvision", "keras")]  # the `models` extra: what the samples import


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchResult, Path]:
    out = tmp_path_factory.mktemp("task2")
    batch = grade_batch(SAMPLES, demo_rubric(), GradeOptions(out_dir=out, workers=2, lang="en"))
    return batch, out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_grade(graded, name: str) -> None:
    assert_expected_grades(result_named(graded[0], name), EXPECTED[name], name)


def test_model_checks_record_accuracy_and_name_the_model(graded) -> None:
    batch, out = graded
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for student in data["students"]:
        for check in student["checks"]:
            if check["id"] not in MODEL_CHECKS or "accuracy" not in check["metrics"]:
                continue
            assert 0.0 <= check["metrics"]["accuracy"] <= 1.0
            assert "(PyTorch," in check["message"] or "(Keras," in check["message"]
    good = result_named(batch, "ivanova_anna")
    acc = next(c for c in good.checks if c.id == "torch_accuracy")
    assert acc.figures and (out / "ivanova_anna" / acc.figures[0]).is_file()  # the confusion matrix
    assert acc.metrics["example_accuracy"] < acc.metrics["accuracy"]


def test_every_report_says_demo_data_and_shims(graded) -> None:
    batch, _ = graded
    for result in batch.students:
        assert any(note.startswith("DEMO DATA") for note in result.notes), result.student
        assert [f.kind for f in result.flags if f.kind == "demo"] == ["demo"], result.student
        assert any(note.startswith("Hidden test:") for note in result.notes)  # what "hidden test" means
    good = result_named(batch, "ivanova_anna")
    joined = " ".join(good.notes)
    assert "root='./data'" in joined and "'cuda:0'" in joined


def test_printed_accuracies_are_not_trusted(graded) -> None:
    for name in ("kuznetsova_maria", "popova_elena"):  # print 98.7% and 191.8%
        result = result_named(graded[0], name)
        assert all(c.metrics.get("accuracy", 0.0) < 0.9 for c in result.checks), name


def test_crash_is_reported_with_cell_and_error(graded) -> None:
    result = result_named(graded[0], "sokolov_pavel")
    assert {e.ename for e in result.cell_errors} >= {"NameError", "ValueError"}


def test_rubric_parameters_override_the_parameters_cell(graded) -> None:
    _, out = graded
    executed = next((out / "ivanova_anna" / "run").glob("executed.ipynb"))
    text = json.dumps(nbformat.read(str(executed), as_version=4).cells, ensure_ascii=False)
    assert "эпоха 5:" in text and "эпоха 6:" not in text  # EPOCHS = 30 in the notebook, 5 in the rubric


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_full_size_dataset(tmp_path: Path) -> None:
    """Fashion-MNIST as a full-size MNIST-like dataset: 10,000 hidden images, IDX .gz files."""
    folder = tmp_path / "class"
    for name in ("ivanova_anna", "smirnov_oleg"):
        shutil.copytree(SAMPLES / name, folder / name)
    rubric = load_rubric("task2")
    data = rubric.section("data")["mnist"].model_copy(update={"train_limit": 3000})
    ev = rubric.section("evaluation")
    assert ev is not None
    rubric = rubric.model_copy(update={
        "data": {"mnist": data}, "parameters": {**rubric.parameters, "EPOCHS": 2},
        "evaluation": ev.model_copy(update={"baseline": ev.baseline.model_copy(update={"seeds": 1})})})
    batch = grade_batch(folder, rubric, GradeOptions(out_dir=tmp_path / "out", workers=2, lang="en",
                                                     family_options={"data": {"mnist": FASHION}}))
    good, mlp = result_named(batch, "ivanova_anna"), result_named(batch, "smirnov_oleg")
    for result in (good, mlp):
        assert result.status == "graded", result.error
        assert any(str(FASHION) in note and "10000 hidden" in note for note in result.notes)
        assert not any(note.startswith("DEMO DATA") for note in result.notes)
        assert not any(f.kind == "demo" for f in result.flags)
    checks = {c.id: c for c in good.checks}
    assert checks["models_found"].status == "pass"
    assert checks["torch_cnn"].status == "pass", checks["torch_cnn"].message
    assert 0.6 < checks["torch_accuracy"].metrics["accuracy"] < 1.0
    assert {c.id: c.status for c in mlp.checks}["torch_cnn"] == "fail"
