"""`tf.data.Dataset` where TensorFlow is not installed: the input pipelines MNIST notebooks build.

The grader runs Keras 3 on torch, without TensorFlow; `tensorflow_datasets` (tfds.py) and the
`tf` stand-in (tf_alias.py) hand out these datasets. A Dataset is a recipe, run again on every
iteration as tf.data runs it: a source (`from_tensor_slices`, `tfds.load`, `range`) and the steps
added to it (`map`, `filter`, `shuffle`, `batch`, `unbatch`, `take`, `skip`, `repeat`, `cache`,
`prefetch`, `enumerate`, `concatenate`, `apply`). Elements are backend tensors (torch's, as Keras
3 uses them), so `.numpy()`, `tf.cast`, arithmetic and Keras take them; `as_numpy_iterator()` and
`tfds.as_numpy` give numpy. Keras 3 on torch cannot read a tf.data.Dataset: keras_compat hands
`fit`, `evaluate` and `predict` a `keras.utils.PyDataset` over its batches instead (`keras_batches`).
Whatever else tf.data offers (interleave, window, padded_batch, TFRecord files, options ...)
raises NotImplementedError naming the method, never a silent wrong answer.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

INFINITE, UNKNOWN = -1, -2  # tf.data.INFINITE_CARDINALITY, tf.data.UNKNOWN_CARDINALITY
AUTOTUNE = -1


# -- element structures (a tensor, or tuples and dicts of them; a list is a tensor, as in tf.data)
def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def to_tensor(value: Any) -> Any:
    """A backend tensor (torch's) for an array, a number or a tensor; numpy without torch."""
    torch = _torch()
    if torch is None:
        return np.asarray(value)
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(np.asarray(value))


def to_numpy(value: Any) -> Any:
    """The same structure with numpy arrays for tensors (tfds.as_numpy, as_numpy_iterator)."""
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(to_numpy(v) for v in value)
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _build(template: Any, leaves: Iterator[Any]) -> Any:
    if isinstance(template, dict):
        return {k: _build(v, leaves) for k, v in template.items()}
    if isinstance(template, tuple):
        return tuple(_build(v, leaves) for v in template)
    return next(leaves)


def _stack(elements: list[Any]) -> Any:
    """Elements of one structure stacked leaf by leaf along a new first axis (a batch)."""
    torch = _torch()
    columns = list(zip(*(_leaves(e) for e in elements)))
    if torch is not None:
        stacked = [torch.stack([to_tensor(x) for x in column]) for column in columns]
    else:
        stacked = [np.stack([np.asarray(x) for x in column]) for column in columns]
    return _build(elements[0], iter(stacked))


def _rows(batch: Any) -> Iterator[Any]:
    """The elements of a batch (unbatch)."""
    leaves = [to_tensor(leaf) for leaf in _leaves(batch)]
    for i in range(len(leaves[0]) if leaves else 0):
        yield _build(batch, iter(leaf[i] for leaf in leaves))


def _call(fn: Callable[..., Any], element: Any) -> Any:
    """tf.data's convention: a tuple element is passed as separate arguments."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


def _count(n: Any) -> int:
    value = int(to_numpy(n)) if not isinstance(n, int) else n
    return value


# -- the dataset ----------------------------------------------------------------------------
class Dataset:
    """A re-runnable pipeline of elements (see the module docstring)."""

    def __init__(self, make: Callable[[], Iterator[Any]], cardinality: int) -> None:
        self._make = make
        self._cardinality = cardinality

    # sources
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        leaves = [to_tensor(leaf) for leaf in _leaves(tensors)]
        sizes = {int(leaf.shape[0]) for leaf in leaves}
        if len(sizes) != 1:
            raise ValueError(f"from_tensor_slices: the components have different first dimensions {sorted(sizes)}")
        n = sizes.pop()

        def make() -> Iterator[Any]:
            for i in range(n):
                yield _build(tensors, iter(leaf[i] for leaf in leaves))

        return Dataset(make, n)

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        element = _build(tensors, iter(to_tensor(leaf) for leaf in _leaves(tensors)))
        return Dataset(lambda: iter([element]), 1)

    @staticmethod
    def range(*args: int, **kwargs: Any) -> Dataset:
        values = range(*args)
        return Dataset(lambda: (to_tensor(np.int64(v)) for v in values), len(values))

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        parts = datasets[0] if len(datasets) == 1 and isinstance(datasets[0], (tuple, list)) else datasets
        cards = [d._cardinality for d in parts]
        finite = [c for c in cards if c >= 0]
        card = min(finite) if finite else (UNKNOWN if UNKNOWN in cards else INFINITE)
        return Dataset(lambda: zip(*(iter(d) for d in parts)), card)

    # steps
    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None, deterministic: Any = None,
            name: str | None = None) -> Dataset:
        return Dataset(lambda: (_call(map_func, e) for e in self), self._cardinality)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        return Dataset(lambda: (e for e in self if bool(to_numpy(_call(predicate, e)))),
                       INFINITE if self._cardinality == INFINITE else UNKNOWN)

    def batch(self, batch_size: Any, drop_remainder: bool = False, num_parallel_calls: Any = None,
              deterministic: Any = None, name: str | None = None) -> Dataset:
        size = _count(batch_size)
        if size < 1:
            raise ValueError(f"batch_size must be at least 1; got {size}")

        def make() -> Iterator[Any]:
            it = iter(self)
            while True:
                chunk = list(itertools.islice(it, size))
                if not chunk or (drop_remainder and len(chunk) < size):
                    return
                yield _stack(chunk)

        n = self._cardinality
        card = n if n < 0 else (n // size if drop_remainder else -(-n // size))
        return Dataset(make, card)

    def unbatch(self, name: str | None = None) -> Dataset:
        return Dataset(lambda: (row for b in self for row in _rows(b)),
                       INFINITE if self._cardinality == INFINITE else UNKNOWN)

    def shuffle(self, buffer_size: Any, seed: int | None = None, reshuffle_each_iteration: bool = True,
                name: str | None = None) -> Dataset:
        size = max(1, _count(buffer_size))
        base = int(os.environ.get("GRADER_SEED", "0") or 0) if seed is None else int(seed)
        epochs = itertools.count()

        def make() -> Iterator[Any]:
            rng = np.random.default_rng([base, next(epochs) if reshuffle_each_iteration else 0])
            buffer: list[Any] = []
            for element in self:  # tf.data's algorithm: a buffer, each output drawn from it at random
                if len(buffer) < size:
                    buffer.append(element)
                    continue
                k = int(rng.integers(size))
                yield buffer[k]
                buffer[k] = element
            for k in rng.permutation(len(buffer)):
                yield buffer[k]

        return Dataset(make, self._cardinality)

    def take(self, count: Any, name: str | None = None) -> Dataset:
        n = _count(count)
        if n < 0:
            return self
        card = n if self._cardinality == INFINITE else (self._cardinality if self._cardinality == UNKNOWN
                                                         else min(n, self._cardinality))
        return Dataset(lambda: itertools.islice(iter(self), n), card)

    def skip(self, count: Any, name: str | None = None) -> Dataset:
        n = max(0, _count(count))
        card = self._cardinality if self._cardinality < 0 else max(0, self._cardinality - n)
        return Dataset(lambda: itertools.islice(iter(self), n, None), card)

    def repeat(self, count: Any = None, name: str | None = None) -> Dataset:
        times = None if count is None else _count(count)
        if times is not None and times < 0:
            times = None

        def make() -> Iterator[Any]:
            for _ in (itertools.count() if times is None else range(times)):
                yield from self

        n = self._cardinality
        card = INFINITE if times is None and n != 0 else (n if n < 0 else n * (times or 0))
        return Dataset(make, card)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Kept in memory after the first complete pass (a file name is accepted and ignored)."""
        kept: list[list[Any]] = []

        def make() -> Iterator[Any]:
            if kept:
                yield from kept[0]
                return
            seen: list[Any] = []
            for element in self:
                seen.append(element)
                yield element
            kept.append(seen)

        return Dataset(make, self._cardinality)

    def prefetch(self, buffer_size: Any = None, name: str | None = None) -> Dataset:
        return self

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        return Dataset(lambda: ((to_tensor(np.int64(i)), e) for i, e in enumerate(self, start)), self._cardinality)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        a, b = self._cardinality, dataset._cardinality
        card = INFINITE if INFINITE in (a, b) else (UNKNOWN if UNKNOWN in (a, b) else a + b)
        return Dataset(lambda: itertools.chain(iter(self), iter(dataset)), card)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        return transformation_func(self)

    # reading
    def __iter__(self) -> Iterator[Any]:
        return iter(self._make())

    def as_numpy_iterator(self) -> Iterator[Any]:
        return (to_numpy(e) for e in self)

    def cardinality(self) -> Any:
        return to_tensor(np.int64(self._cardinality))

    def __len__(self) -> int:
        if self._cardinality == INFINITE:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __repr__(self) -> str:
        return f"<Dataset (grader's offline tf.data stand-in) cardinality={self._cardinality}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(
            f"tf.data.Dataset.{name} is not available on the grader (it runs without TensorFlow; its "
            "stand-in offers from_tensor_slices, map, filter, shuffle, batch, unbatch, take, skip, repeat, "
            "cache, prefetch, enumerate, concatenate, apply and as_numpy_iterator)")


def length(ds: Dataset) -> int | None:
    """Batches per pass: None for an endless dataset; counted once when unknown (after filter)."""
    if ds._cardinality == INFINITE:
        return None
    if ds._cardinality == UNKNOWN:
        ds._cardinality = sum(1 for _ in ds)
    return ds._cardinality


def keras_batches(ds: Dataset) -> Any:
    """The dataset as a keras.utils.PyDataset (what Keras 3 on torch reads): batches in order,
    as numpy; a finite dataset starts again each epoch, an endless one goes on."""
    from keras.utils import PyDataset

    class DatasetBatches(PyDataset):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(workers=1, use_multiprocessing=False)
            self._it: Iterator[Any] | None = None
            self._next = 0

        @property
        def num_batches(self) -> int | None:
            return length(ds)

        def __getitem__(self, index: int) -> Any:
            if self._it is None or index != self._next:
                self._it = itertools.islice(iter(ds), index, None)
            self._next = index + 1
            try:
                batch = next(self._it)
            except StopIteration:
                raise IndexError(index) from None
            return to_numpy(batch)

        def on_epoch_end(self) -> None:
            if ds._cardinality != INFINITE:
                self._it = None

    return DatasetBatches()
