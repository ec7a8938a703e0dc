"""The reference baselines and training loop on synthetic digits (tiny, CPU, fixed seeds)."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from reference.mnist import (  # noqa: E402
    CNN,
    MLP,
    EpochStats,
    History,
    OptimiserSpec,
    evaluate,
    loss_of,
    parameter_count,
    predict,
    reinitialise,
    resolve_device,
    seeded,
    train,
    training_subset,
)

pytestmark = pytest.mark.torch


def synthetic(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class k is a bright 6x6 square at one of ten places, on faint noise: easy to learn."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=gen)
    images = 0.1 * torch.rand(n, 1, 28, 28, generator=gen)
    for i, k in enumerate(labels.tolist()):
        row, col = 2 + 12 * (k // 5), 1 + 5 * (k % 5)
        images[i, 0, row:row + 6, col:col + 6] += 0.9
    return images, labels


TRAIN = synthetic(400, 0)
VAL = synthetic(200, 1)


def test_baselines_take_both_input_layouts() -> None:
    x = torch.rand(4, 1, 28, 28)
    for model in (MLP(), CNN()):
        assert model(x).shape == (4, 10)
        assert model(x.view(4, 784)).shape == (4, 10)


def test_parameter_counts_match_the_course_example() -> None:
    assert parameter_count(MLP()) == 784 * 128 + 128 + 128 * 10 + 10
    assert parameter_count(CNN()) == 34_826  # the Keras MNIST convnet's count


def test_seeded_init_is_repeatable_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a, b, c = seeded(CNN, 1), seeded(CNN, 1), seeded(CNN, 2)
    assert torch.equal(torch.rand(3), expected_next)
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.state_dict()["features.0.weight"], c.state_dict()["features.0.weight"])


def test_training_is_deterministic_for_a_seed() -> None:
    spec = OptimiserSpec("adam", lr=1e-3)
    one = train(CNN, TRAIN, VAL, optimiser=spec, epochs=2, batch_size=32, subset=200, seed=5)
    two = train(CNN, TRAIN, VAL, optimiser=spec, epochs=2, batch_size=32, subset=200, seed=5)
    other = train(CNN, TRAIN, VAL, optimiser=spec, epochs=2, batch_size=32, subset=200, seed=6)
    assert [(e.train_loss, e.val_loss, e.val_acc) for e in one.history.epochs] == \
           [(e.train_loss, e.val_loss, e.val_acc) for e in two.history.epochs]
    for pa, pb in zip(one.model.parameters(), two.model.parameters()):
        assert torch.equal(pa, pb)
    assert one.history.train_loss != other.history.train_loss


@pytest.mark.parametrize("factory", [MLP, CNN])
def test_learning_happens_on_an_easy_task(factory) -> None:
    result = train(factory, TRAIN, VAL, optimiser=OptimiserSpec("adam", lr=3e-3), epochs=4,
                   batch_size=32, seed=0)
    hist = result.history
    assert len(hist.epochs) == 4 and [e.epoch for e in hist.epochs] == [1, 2, 3, 4]
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val_acc[-1] > 0.9, hist.val_acc
    assert not result.model.training
    # evaluate() agrees with the last epoch's validation figures
    ev = evaluate(result.model, VAL)
    assert ev.n == 200
    assert ev.accuracy == pytest.approx(hist.val_acc[-1])
    assert ev.loss == pytest.approx(hist.val_loss[-1], rel=1e-5)
    assert (predict(result.model, VAL[0]) == VAL[1]).float().mean().item() == pytest.approx(ev.accuracy)


def test_an_untrained_model_is_near_chance() -> None:
    ev = evaluate(seeded(MLP, 0), VAL)
    assert ev.accuracy < 0.35
    assert math.log(10) * 0.8 < ev.loss < math.log(10) * 1.5


def test_sgd_with_momentum_and_input_fn_for_flat_models() -> None:
    flat = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))  # wants (N, 784)
    result = train(lambda: flat, TRAIN, VAL, optimiser=OptimiserSpec("sgd", lr=0.1, momentum=0.9),
                   epochs=3, batch_size=32, input_fn=lambda x: x.reshape(len(x), -1))
    assert result.history.val_acc[-1] > 0.8


@pytest.mark.parametrize("outputs,head", [("log_probs", nn.LogSoftmax(dim=1)), ("probs", nn.Softmax(dim=1))])
def test_models_ending_in_softmax_train_with_the_matching_loss(outputs, head) -> None:
    def factory() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10), head)

    result = train(factory, TRAIN, VAL, optimiser=OptimiserSpec("adam", lr=1e-2), epochs=3,
                   batch_size=32, outputs=outputs)
    assert result.history.val_acc[-1] > 0.8
    assert all(math.isfinite(v) for v in result.history.val_loss)


def test_subset_is_the_same_whatever_the_training_seed() -> None:
    a = training_subset(TRAIN, 50, data_seed=0)
    b = training_subset(TRAIN, 50, data_seed=0)
    c = training_subset(TRAIN, 50, data_seed=1)
    assert a[0].shape == (50, 1, 28, 28) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    assert training_subset(TRAIN, None)[1] is TRAIN[1]
    with pytest.raises(ValueError):
        training_subset(TRAIN, 0)


def test_wrong_output_shape_is_a_plain_error() -> None:
    with pytest.raises(ValueError, match="expected \\(4, 10\\)"):
        loss_of(torch.zeros(4, 10, 2), torch.zeros(4, dtype=torch.long), "logits")
    with pytest.raises(ValueError):
        train(MLP, TRAIN, VAL, epochs=0)
    with pytest.raises(ValueError, match="unknown optimiser"):
        OptimiserSpec("lbfgs").build(MLP().parameters())  # type: ignore[arg-type]


class WithBareParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)) * self.scale


def test_reinitialise_resets_a_copy_and_names_what_it_could_not_reset() -> None:
    trained = train(WithBareParameter, TRAIN, VAL, epochs=1, batch_size=32).model
    before = trained.fc.weight.detach().clone()
    fresh, untouched = reinitialise(trained, seed=3)
    again, _ = reinitialise(trained, seed=3)
    assert torch.equal(trained.fc.weight, before)  # the original is not modified
    assert not torch.equal(fresh.fc.weight, before)
    assert torch.equal(fresh.fc.weight, again.fc.weight)
    assert untouched == ("scale",)
    assert evaluate(fresh, VAL).accuracy < 0.35


def test_overfitting_is_marked_where_val_loss_rises_and_train_loss_falls() -> None:
    rows = [(1.0, 0.9), (0.6, 0.7), (0.4, 0.75), (0.3, 0.8), (0.35, 0.85)]
    hist = History(tuple(EpochStats(i + 1, t, 0.0, v, 0.0, 0.0) for i, (t, v) in enumerate(rows)))
    assert hist.overfit_epochs() == (3, 4)  # epoch 5: both rise, not overfitting
    assert hist.best_epoch == 2
    data = hist.to_json()
    assert data["overfit_epochs"] == [3, 4] and len(data["epochs"]) == 5


def test_cuda_request_falls_back_to_cpu_without_a_gpu() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert resolve_device("cuda").type == "cpu"
    assert resolve_device("auto").type == "cpu"
    assert resolve_device("cpu").type == "cpu"
