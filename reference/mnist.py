"""Reference models and training loop for Task 2 (handwritten digits, 28x28, 10 classes).

The course's example notebook trains two baselines, written here in PyTorch:

    MLP  784 -> 128 (ReLU) -> 10
    CNN  conv 3x3 (32) -> ReLU -> max-pool 2 -> conv 3x3 (64) -> ReLU -> max-pool 2
         -> flatten (64*5*5) -> dropout 0.5 -> linear 10   (the classic Keras MNIST convnet)

`train` is the loop used for equal-budget retraining: the baselines and every student
architecture (re-initialised with `reinitialise`) get the same optimiser, epochs, batch size and
training subset; only the seed (initialisation, shuffling, dropout) varies between runs. With a
fixed seed a CPU run is repeatable: every random draw comes from a generator seeded here, and the
caller's global RNG state is left as it was.

Tensors are `(images, labels)`: images float `(N, 1, 28, 28)` (or anything `input_fn` turns into
what the model takes), labels int64 `(N,)`.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

Tensors = tuple[Tensor, Tensor]
OutputKind = Literal["logits", "log_probs", "probs"]
"""What a model returns: raw scores, log-softmax (`nn.LogSoftmax`), or softmax probabilities."""
OptimiserName = Literal["adam", "adamw", "sgd", "rmsprop"]
NUM_CLASSES = 10


# -- the example's models -------------------------------------------------------------------


class MLP(nn.Module):
    """The example's fully connected network: 784 -> 128 -> 10."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(),
                                 nn.Linear(hidden, NUM_CLASSES))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class CNN(nn.Module):
    """The example's convolutional network: two conv + max-pool blocks and one linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),   # 28 -> 26 -> 13
            nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),  # 13 -> 11 -> 5
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64 * 5 * 5, NUM_CLASSES))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # flat (N, 784) input, as an MLP pipeline would pass it
            x = x.view(-1, 1, 28, 28)
        return self.classifier(self.features(x))


BASELINES: dict[str, Callable[[], nn.Module]] = {"mlp": MLP, "cnn": CNN}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def seeded(factory: Callable[[], nn.Module], seed: int) -> nn.Module:
    """`factory()` with its initial weights drawn from `seed` (the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def reinitialise(model: nn.Module, seed: int) -> tuple[nn.Module, tuple[str, ...]]:
    """A copy of `model` with fresh weights drawn from `seed`, and the parameters left as they were.

    Every sub-module with a `reset_parameters()` (Linear, Conv, BatchNorm, Embedding, ...) is
    reset. Parameters that no such module owns (a bare `nn.Parameter` in a custom module) keep
    their values; their names are returned so the caller can say so.
    """
    fresh = copy.deepcopy(model)
    covered: set[int] = set()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
                covered.update(id(p) for p in module.parameters(recurse=False))
    untouched = tuple(name for name, p in fresh.named_parameters() if id(p) not in covered)
    return fresh, untouched


# -- optimiser ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimiserSpec:
    """The optimiser every model in one comparison is trained with."""

    name: OptimiserName = "adam"
    lr: float = 1e-3
    momentum: float = 0.0  # sgd and rmsprop only
    weight_decay: float = 0.0

    def build(self, params: Iterator[nn.Parameter]) -> torch.optim.Optimizer:
        if self.name == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.name == "adamw":
            return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.name == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
        if self.name == "rmsprop":
            return torch.optim.RMSprop(params, lr=self.lr, momentum=self.momentum,
                                       weight_decay=self.weight_decay)
        raise ValueError(f"unknown optimiser {self.name!r} (use adam, adamw, sgd or rmsprop)")


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpochStats:
    epoch: int  # 1-based
    train_loss: float
    train_acc: float  # running accuracy over the epoch's batches, 0..1
    val_loss: float
    val_acc: float
    seconds: float


@dataclass(frozen=True)
class History:
    epochs: tuple[EpochStats, ...]

    @property
    def train_loss(self) -> tuple[float, ...]:
        return tuple(e.train_loss for e in self.epochs)

    @property
    def val_loss(self) -> tuple[float, ...]:
        return tuple(e.val_loss for e in self.epochs)

    @property
    def train_acc(self) -> tuple[float, ...]:
        return tuple(e.train_acc for e in self.epochs)

    @property
    def val_acc(self) -> tuple[float, ...]:
        return tuple(e.val_acc for e in self.epochs)

    @property
    def best_epoch(self) -> int | None:
        """The 1-based epoch with the lowest validation loss (None without finite values)."""
        finite = [e for e in self.epochs if math.isfinite(e.val_loss)]
        return min(finite, key=lambda e: e.val_loss).epoch if finite else None

    def overfit_epochs(self) -> tuple[int, ...]:
        """Epochs (1-based) where validation loss rose while training loss fell: overfitting."""
        marked = []
        for prev, cur in zip(self.epochs, self.epochs[1:]):
            if cur.val_loss > prev.val_loss and cur.train_loss < prev.train_loss:
                marked.append(cur.epoch)
        return tuple(marked)

    def to_json(self) -> dict[str, Any]:
        return {"epochs": [asdict(e) for e in self.epochs], "overfit_epochs": list(self.overfit_epochs()),
                "best_epoch": self.best_epoch}


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float  # 0..1
    n: int


@dataclass(frozen=True)
class Trained:
    model: nn.Module  # in eval mode, on the training device
    history: History


# -- the loop -------------------------------------------------------------------------------


def resolve_device(device: str | torch.device) -> torch.device:
    """`auto` picks CUDA when it is there; `cuda` without a GPU falls back to the CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto" or (device.startswith("cuda") and not torch.cuda.is_available()):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def loss_of(scores: Tensor, labels: Tensor, outputs: OutputKind) -> Tensor:
    """Mean cross-entropy whatever the model's output layer (logits, log-softmax, softmax)."""
    if scores.dim() != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f"the model returned shape {tuple(scores.shape)}; expected "
                         f"({labels.shape[0]}, {NUM_CLASSES}) class scores")
    if outputs == "logits":
        return F.cross_entropy(scores, labels)
    if outputs == "log_probs":
        return F.nll_loss(scores, labels)
    return F.nll_loss(torch.log(scores.clamp_min(1e-12)), labels)


def training_subset(tensors: Tensors, subset: int | None, data_seed: int = 0) -> Tensors:
    """The first `subset` examples of a permutation drawn from `data_seed` (all when None)."""
    images, labels = tensors
    if subset is None or subset >= len(labels):
        return images, labels
    if subset < 1:
        raise ValueError(f"subset must be at least 1, not {subset}")
    gen = torch.Generator().manual_seed(data_seed)
    index = torch.randperm(len(labels), generator=gen)[:subset]
    return images[index], labels[index]


def _batches(n: int, batch_size: int, order: Tensor | None = None) -> Iterator[Tensor]:
    index = order if order is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield index[start:start + batch_size]


def evaluate(model: nn.Module, tensors: Tensors, *, batch_size: int = 256, device: str | torch.device = "cpu",
             input_fn: Callable[[Tensor], Tensor] | None = None, outputs: OutputKind = "logits") -> Evaluation:
    """Mean loss and accuracy of `model` on `tensors`, in eval mode, without gradients."""
    dev = resolve_device(device)
    images, labels = tensors
    model = model.to(dev)
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        with torch.no_grad():
            for idx in _batches(len(labels), batch_size):
                x = images[idx].to(dev)
                y = labels[idx].to(dev)
                scores = model(input_fn(x) if input_fn else x)
                total_loss += float(loss_of(scores, y, outputs)) * len(idx)
                correct += int((scores.argmax(dim=1) == y).sum())
    finally:
        model.train(was_training)
    n = len(labels)
    return Evaluation(total_loss / n if n else math.nan, correct / n if n else math.nan, n)


def predict(model: nn.Module, images: Tensor, *, batch_size: int = 256, device: str | torch.device = "cpu",
            input_fn: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """Predicted class per image (int64, on the CPU); no labels needed."""
    dev = resolve_device(device)
    model = model.to(dev)
    model.eval()
    out = []
    with torch.no_grad():
        for idx in _batches(len(images), batch_size):
            x = images[idx].to(dev)
            out.append(model(input_fn(x) if input_fn else x).argmax(dim=1).cpu())
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


def train(model_factory: Callable[[], nn.Module], train_tensors: Tensors, val_tensors: Tensors, *,
          optimiser: OptimiserSpec = OptimiserSpec(), epochs: int = 1, batch_size: int = 64,
          subset: int | None = None, seed: int = 0, device: str | torch.device = "cpu",
          input_fn: Callable[[Tensor], Tensor] | None = None, outputs: OutputKind = "logits",
          data_seed: int = 0) -> Trained:
    """Train `model_factory()` from scratch and record per-epoch training and validation figures.

    `seed` fixes the initial weights (the factory runs under it), the shuffling order and dropout;
    `data_seed` fixes which `subset` of the training tensors is used, so runs with different
    seeds still see the same data.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive (got {epochs}, {batch_size})")
    dev = resolve_device(device)
    images, labels = training_subset(train_tensors, subset, data_seed)
    shuffle = torch.Generator().manual_seed(seed)
    stats: list[EpochStats] = []
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        model = model_factory().to(dev)
        opt = optimiser.build(model.parameters())
        for epoch in range(1, epochs + 1):
            start = time.monotonic()
            model.train()
            total_loss, correct = 0.0, 0
            for idx in _batches(len(labels), batch_size, torch.randperm(len(labels), generator=shuffle)):
                x, y = images[idx].to(dev), labels[idx].to(dev)
                opt.zero_grad(set_to_none=True)
                scores = model(input_fn(x) if input_fn else x)
                loss = loss_of(scores, y, outputs)
                loss.backward()
                opt.step()
                total_loss += float(loss.detach()) * len(idx)
                correct += int((scores.detach().argmax(dim=1) == y).sum())
            val = evaluate(model, val_tensors, batch_size=max(batch_size, 256), device=dev,
                           input_fn=input_fn, outputs=outputs)
            n = len(labels)
            stats.append(EpochStats(epoch, total_loss / n, correct / n, val.loss, val.accuracy,
                                    time.monotonic() - start))
    model.eval()
    return Trained(model, History(tuple(stats)))
