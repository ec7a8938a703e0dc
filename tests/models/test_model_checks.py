"""Task 2 checks on canned probe artifacts: no kernel, no torch."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.i18n import text_of
from grader.artifacts import CheckContext
from grader.families.models.checks import (
    check_accuracy,
    check_beats_example,
    check_convolutional,
    check_inventory,
    check_retrained,
)
from grader.data import write_idx
from grader.data.splits import SplitSettings, prepare_mnist
from grader.families.models.baseline import Baseline, BaselineModel, BaselineSettings
from grader.families.models.setup import ModelsSetup

N = 200
HIDDEN_LABELS = np.arange(N) % 10  # replaced by the served order once the data is prepared


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> ModelsSetup:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    src = root / "src"
    for name, arr in {"train-images-idx3-ubyte": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
                      "train-labels-idx1-ubyte": (np.arange(50) % 10).astype(np.uint8),
                      "t10k-images-idx3-ubyte": rng.integers(0, 256, (N, 28, 28), dtype=np.uint8),
                      "t10k-labels-idx1-ubyte": (np.arange(N) % 10).astype(np.uint8)}.items():
        write_idx(src / name, arr)
    prepared = prepare_mnist(src, root / "cache", SplitSettings())
    HIDDEN_LABELS[:] = prepared.hidden_labels()  # in the batch's secret order
    baseline = Baseline({"mlp": BaselineModel("mlp", (0.80, 0.82)), "cnn": BaselineModel("cnn", (0.90, 0.90))},
                        BaselineSettings())
    return ModelsSetup(prepared, baseline, "cpu", evaluate=True)


def predictions(accuracy: float, constant: int | None = None) -> np.ndarray:
    labels = HIDDEN_LABELS
    if constant is not None:
        return np.full(N, constant)
    wrong = int(round(N * (1 - accuracy)))
    out = labels.copy()
    out[:wrong] = (labels[:wrong] + 1) % 10
    return out


def context(tmp_path: Path, setup: ModelsSetup, models: list[tuple[dict, np.ndarray | None]],
            retrained: dict[int, list[float]] | None = None) -> CheckContext:
    folder = tmp_path / "run" / "models"
    folder.mkdir(parents=True)
    records = []
    for k, (rec, preds) in enumerate(models):
        runs = []
        for seed, acc in enumerate((retrained or {}).get(k, [])):
            np.save(folder / f"retrain_{k}_{seed}.npy", predictions(acc).astype(np.int16))
            history = {"epochs": [{"train_loss": 1.0, "val_loss": 0.5}, {"train_loss": 0.5, "val_loss": 0.6}],
                       "overfit_epochs": [2]}
            runs.append({"seed": seed, "predictions": f"retrain_{k}_{seed}.npy", "history": history})
        if runs:
            rec = {**rec, "retrain": {"outputs": "logits", "runs": runs}}
        rec = {"framework": "torch", "class": "Net", "params": 1000, "conv_weights": 0, "layers": ["Linear"],
               "shape": "N,784", "scale": "0..1", "val_accuracy": 0.9, "inference_s": 0.01, **rec}
        if preds is not None:
            np.save(folder / f"pred_{k}.npy", preds.astype(np.int16))
            rec["predictions"] = f"pred_{k}.npy"
        records.append(rec)
    (folder / "models.json").write_text(json.dumps({"models": records, "hidden_images": N}))
    return CheckContext(lang="en", cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path, data=setup)


def test_good_cnn_everywhere(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [
        ({"name": "cnn", "conv_weights": 2, "layers": ["Conv2d", "Conv2d", "Linear"], "shape": "N,1,28,28"},
         predictions(0.95)),
        ({"name": "keras_cnn", "framework": "keras", "class": "Sequential", "conv_weights": 1}, predictions(0.93)),
    ])
    assert check_inventory(ctx, {}).key == "both"
    acc = check_accuracy(ctx, {"framework": "torch", "example": "cnn"})
    assert acc.key == "good" and acc.metrics["accuracy"] == pytest.approx(0.95)
    assert "cnn (PyTorch, Net)" in text_of(acc.message, "en") and acc.metrics["example_accuracy"] == pytest.approx(0.90)
    assert acc.figures and (tmp_path / acc.figures[0]).is_file()
    assert acc.metrics["accuracy_class_0"] <= 1.0
    assert check_convolutional(ctx, {"framework": "torch"}).key == "ok"
    beats = check_beats_example(ctx, {"framework": "keras"})
    assert beats.key == "beats" and beats.metrics["accuracy"] == pytest.approx(0.93)


def test_mlp_sold_as_cnn_gets_no_cnn_credit(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [({"name": "model", "class": "CNN"}, predictions(0.97))])
    out = check_convolutional(ctx, {"framework": "torch"})
    assert out.key == "not_convolutional" and "called a CNN" in text_of(out.message, "en")
    assert check_inventory(ctx, {}).key == "torch_only"
    assert check_convolutional(ctx, {"framework": "keras"}).key == "missing"


def test_constant_predictor_gets_no_accuracy_points(tmp_path: Path, setup: ModelsSetup) -> None:
    # a constant class scores 10% here; the check must say "constant", whatever the thresholds
    ctx = context(tmp_path, setup, [({"name": "lazy", "conv_weights": 1}, predictions(0, constant=3))])
    out = check_accuracy(ctx, {"framework": "torch", "min_accuracy": 0.0, "good_gap": 1.0})
    assert out.key == "constant" and "one class (3 for" in text_of(out.message, "en") and out.metrics["accuracy"] == pytest.approx(0.1)
    assert check_beats_example(ctx, {"framework": "torch"}).key == "constant"
    assert check_convolutional(ctx, {"framework": "torch"}).key == "untrained"


@pytest.mark.parametrize(("acc", "key"), [(0.93, "beats"), (0.91, "tie"), (0.85, "below")])
def test_beats_only_outside_the_margin(tmp_path: Path, setup: ModelsSetup, acc: float, key: str) -> None:
    ctx = context(tmp_path, setup, [({"name": "m"}, predictions(acc))])
    out = check_beats_example(ctx, {"framework": "torch", "example": "cnn", "margin": 0.02})
    assert out.key == key, text_of(out.message, "en")


def test_spread_of_the_example_widens_the_margin(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [({"name": "m"}, predictions(0.83))])
    # example MLP: 0.80 and 0.82, mean 0.81, spread ~0.014; 0.83 beats it by more than the spread
    assert check_beats_example(ctx, {"framework": "torch", "example": "mlp"}).key == "beats"


def test_accuracy_levels_and_failed_models(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [({"name": "weak"}, predictions(0.6)),
                                    ({"name": "broken", "framework": "keras", "error": "no input format worked"},
                                     None)])
    assert check_accuracy(ctx, {"framework": "torch"}).key == "fair"
    keras = check_accuracy(ctx, {"framework": "keras"})
    assert keras.key == "missing" and "no input format worked" in text_of(keras.message, "en")
    assert check_accuracy(ctx, {"framework": "torch", "min_accuracy": 0.7}).key == "low"


def test_probe_that_never_ran(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = CheckContext(lang="ru", cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path, data=setup)
    out = check_inventory(ctx, {})
    assert out.key == "missing" and "ноутбук" in text_of(out.message, "ru").lower()


@pytest.mark.parametrize(("accs", "key"), [([0.95, 0.96], "beats"), ([0.90, 0.92], "tie"), ([0.80, 0.81], "below")])
def test_retrained_architecture_against_the_example(tmp_path: Path, setup: ModelsSetup, accs: list[float],
                                                    key: str) -> None:
    import dataclasses

    with_retrain = dataclasses.replace(setup, retrain=BaselineSettings(seeds=2))
    ctx = context(tmp_path, with_retrain, [({"name": "net", "conv_weights": 2}, predictions(0.97))], {0: accs})
    out = check_retrained(ctx, {"example": "cnn"})
    assert out.key == key, text_of(out.message, "en")
    assert out.metrics["accuracy"] == pytest.approx(sum(accs) / 2, abs=0.01)
    assert out.metrics["overfit_epochs"] == 2 and "overfitting" in text_of(out.message, "en").lower()
    assert out.figures and (tmp_path / out.figures[0]).is_file()


def test_retraining_not_requested(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [({"name": "net"}, predictions(0.9))])
    assert check_retrained(ctx, {}).key == "not_run"


def test_work_stopped_by_the_wall_clock_backstop_goes_to_the_instructor(tmp_path: Path, setup: ModelsSetup) -> None:
    """A model left out because the probe waited past its wall-clock backstop (not because its CPU
    budget was spent) depends on the machine's load: no automatic grade, the instructor decides."""
    ctx = context(tmp_path, setup, [
        ({"name": "cnn", "conv_weights": 2}, predictions(0.95)),
        ({"name": "late", "error": "not evaluated: the backstop wall-clock limit of the evaluation was reached",
          "limit": "wall"}, None),
    ])
    out = check_accuracy(ctx, {"framework": "any"})
    assert out.key == "manual" and "late" in text_of(out.message, "en")
    assert "wall-clock backstop" in text_of(out.message, "en")


def test_work_stopped_by_the_cpu_budget_is_graded(tmp_path: Path, setup: ModelsSetup) -> None:
    ctx = context(tmp_path, setup, [
        ({"name": "cnn", "conv_weights": 2}, predictions(0.95)),
        ({"name": "late", "error": "not evaluated: the evaluation's CPU-time budget was used up", "limit": "cpu"}, None),
    ])
    assert check_accuracy(ctx, {"framework": "any"}).key == "good"


def test_inventory_in_russian_writes_numbers_the_russian_way(tmp_path: Path, setup: ModelsSetup) -> None:
    """Parameters and speed grouped by (non-breaking) spaces, "1,234" no longer (it reads as a
    decimal in Russian), the accuracy with a decimal comma; an unmeasured speed is "?"."""
    import dataclasses

    ctx = dataclasses.replace(context(tmp_path, setup, [
        ({"name": "big", "params": 1234567, "inference_s": 0.01}, predictions(0.955)),
        ({"name": "one", "params": 21, "inference_s": None}, predictions(0.9)),
    ]), lang="ru")
    message = text_of(check_inventory(ctx, {}).message, "ru")
    assert "big (PyTorch, Net): 1\xa0234\xa0567 параметров, без свёрток; вход N,784, значения 0..1; " \
           "точность на скрытом тесте 95,5\xa0%, 20\xa0000 изобр./с" in message
    assert "one (PyTorch, Net): 21 параметр, без свёрток;" in message and "90,0\xa0%, ? изобр./с" in message
