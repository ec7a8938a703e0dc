"""Grade the shipped HW 3 samples end to end (real kernels in the sandbox) on the stand-in image
folder and the stand-in resnet18 checkpoint made here, and assert the grades in
submissions/hw3/EXPECTED.yaml check by check. Images are 64x64 and training is a few epochs on
60 images, so the batch takes a few minutes on two cores."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import Rubric, load_rubric
from expected_grades import assert_expected_grades, load_expected, result_named
from requires import installed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from hw3_data import make_shapes_dataset, write_fake_weights  # noqa: E402

SAMPLES = ROOT / "submissions" / "hw3"
EXPECTED = load_expected(SAMPLES)

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.torch, pytest.mark.sandbox,
              pytest.mark.timeout(1800), installed("torch", "torchvision")]


def small_rubric() -> Rubric:
    """rubrics/hw3.yaml with the sizes of the stand-in data: 64x64 images, short limits."""
    rubric = load_rubric("hw3")
    afhq = rubric.section("data")["afhq"].model_copy(update={"image_size": 64})
    ev = rubric.section("evaluation")
    assert ev is not None
    return rubric.model_copy(update={
        "data": {"afhq": afhq},
        "limits": rubric.limits.model_copy(update={"timeout_s": 400, "cell_timeout_s": 300, "memory_gb": 6}),
        "evaluation": ev.model_copy(update={"format_images": 18, "timeout_s": 240, "batch_size": 32})})


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchResult, Path, Path]:
    base = tmp_path_factory.mktemp("hw3")
    data = make_shapes_dataset(base / "data")
    weights = write_fake_weights(base / "weights").parent
    out = base / "out"
    batch = grade_batch(SAMPLES, small_rubric(), GradeOptions(out_dir=out, workers=2, lang="en", sandbox="bwrap",
                                                               family_options={"data": {"afhq": data}, "weights": weights}))
    return batch, out, weights


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_grade(graded, name: str) -> None:
    assert_expected_grades(result_named(graded[0], name), EXPECTED[name], name)


def test_accuracy_metrics_and_figures(graded) -> None:
    batch, out, _ = graded
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for student in data["students"]:
        for check in student["checks"]:
            if "accuracy" in check["metrics"]:
                assert 0.0 <= check["metrics"]["accuracy"] <= 1.0
    good = result_named(batch, "ivanov_ivan")
    checks = {c.id: c for c in good.checks}
    assert checks["accuracy"].figures and (out / "ivanov_ivan" / checks["accuracy"].figures[0]).is_file()
    assert checks["transfer_learning"].metrics["first_conv_cosine"] > 0.99
    assert "resnet18-f37072fd.pth" in checks["transfer_learning"].message
    assert checks["overfitting"].figures and (out / "ivanov_ivan" / checks["overfitting"].figures[0]).is_file()
    overfit = {c.id: c for c in result_named(batch, "kozlov_dmitry").checks}["overfitting"]
    assert overfit.metrics["overfit_epochs"] >= 2 and overfit.figures


def test_missing_weights_named_once_for_the_instructor(graded) -> None:
    batch, out, weights = graded
    result = result_named(batch, "volkova_maria")
    assert result.error is not None and "resnet50-11ad3fa6.pth" in result.error and str(weights) in result.error
    assert "Traceback" not in result.error
    from grader.families.models.weights import batch_missing_weights
    from grader.report.batch import student_folders

    assert batch_missing_weights(out, student_folders(out)) == {"resnet50-11ad3fa6.pth": ["volkova_maria"]}


def test_unserved_path_and_offline_download_notes(graded) -> None:
    batch, _, _ = graded
    crash = " ".join(result_named(batch, "novikov_pavel").notes)
    assert "/content/drive/MyDrive/Colab Notebooks/data/animals/train" in crash and "/content/afhq" in crash
    od = " ".join(result_named(batch, "petrova_anna").notes)
    assert "opendatasets.download" in od and "no download" in od


def test_hidden_labels_never_in_the_sandbox(graded) -> None:
    """What the sandbox saw of the hidden split: an array of images, in a shuffled order."""
    batch, out, _ = graded
    cache = out / ".data"
    labels = next(cache.glob("afhq-*/parent/labels-*.npy"))
    from grader.families.models.setup import prepare_setup

    setup = prepare_setup(small_rubric(), {"afhq": next(cache.parent.parent.glob("data/afhq"))}, "cpu", cache)
    assert setup is not None
    mounted = {m.source.resolve() for m in setup.mounts()}
    assert not any(labels.resolve().is_relative_to(src) for src in mounted)
    assert sorted(setup.hidden_labels().tolist()) != setup.hidden_labels().tolist()  # not in class order
    decoded = setup.images.prepared.hidden.path  # the clean decoded array is never mounted: only the served one
    assert not any(decoded.resolve().is_relative_to(src) for src in mounted)
    assert any(setup.images.prepared.served.resolve().is_relative_to(src) for src in mounted)
