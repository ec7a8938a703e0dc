"""`import tensorflow_datasets as tfds` where it is not installed: MNIST from the grader's data.

Colab tutorials load MNIST with `tfds.load('mnist', ...)`. With no network and no TensorFlow on
the grader, this stand-in serves the grader's data folder (the files keras.datasets.mnist and
torchvision get too: 'train' is the student's training data, 'test' the validation part the
grader hands out as test data) as the tf.data stand-in's datasets (tf_data.py):

    tfds.load('mnist')                                   {'train': ds, 'test': ds}
    tfds.load('mnist', split='train')                    ds of {'image': 28x28x1 uint8, 'label': int64}
    tfds.load('mnist', split=['train', 'test'], as_supervised=True)   [ds, ds] of (image, label)
    tfds.load(..., with_info=True)                       (datasets, info): info.splits['train'].num_examples,
                                                         info.features['label'].num_classes / .names
    tfds.load(..., batch_size=32)                        batched datasets
    tfds.load(..., split='train', batch_size=-1)         the whole split as tensors (a dict, or a tuple
                                                         with as_supervised)
    splits 'train[:80%]', 'train[80%:]', 'test[:1000]', 'train+test', tfds.Split.TRAIN
    tfds.as_numpy(ds or tensors), tfds.builder('mnist'), tfds.show_examples(ds, info)

Any other dataset, split or argument that changes what is loaded raises an error saying what the
grader serves. Each use is noted in the student's report (shims.log).
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from grader_offline import tf_data
from grader_offline.log import used

MODULE = "tensorflow_datasets"
SERVED = "mnist"
CLASS_NAMES = [str(i) for i in range(10)]
_SLICE = re.compile(r"^\s*(\w+)\s*(?:\[\s*([-\d.]*%?)\s*:\s*([-\d.]*%?)\s*\])?\s*$")


class Split:
    TRAIN = "train"
    TEST = "test"
    VALIDATION = "validation"
    ALL = "all"


# -- what is served ---------------------------------------------------------------------------
def _arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    from grader_offline import datasets

    (x_train, y_train), (x_test, y_test) = datasets.arrays()
    x, y = {"train": (x_train, y_train), "test": (x_test, y_test)}[split]
    return x[..., None], y.astype(np.int64)


def _sizes() -> dict[str, int]:
    return {name: len(_arrays(name)[1]) for name in ("train", "test")}


def _bound(text: str, n: int, default: int) -> int:
    if not text:
        return default
    if text.endswith("%"):
        return int(round(float(text[:-1]) * n / 100))
    value = int(float(text))
    return value if value >= 0 else n + value


def _split_arrays(spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """One split expression ('train', 'train[:80%]', 'train[10:]', 'train+test') as arrays."""
    if not isinstance(spec, str):
        raise NotImplementedError(f"tfds.load: split {spec!r} is not supported on the grader; give it as text "
                                  "such as 'train', 'test', 'train[:80%]' or 'train+test'")
    parts_x, parts_y = [], []
    for part in spec.split("+"):
        m = _SLICE.match(part)
        name = m.group(1).lower() if m else None
        if m is None or name not in ("train", "test"):
            raise ValueError(f"tfds.load('mnist'): unknown split {part.strip()!r}; MNIST has 'train' and 'test' "
                             "(slices such as 'train[:80%]' work too)")
        x, y = _arrays(name)
        start, stop = _bound(m.group(2) or "", len(y), 0), _bound(m.group(3) or "", len(y), len(y))
        parts_x.append(x[start:stop])
        parts_y.append(y[start:stop])
    return np.concatenate(parts_x), np.concatenate(parts_y)


def _dataset(spec: Any, as_supervised: bool, batch_size: int | None) -> Any:
    x, y = _split_arrays(spec)
    if batch_size == -1:  # the whole split at once, as tensors
        images, labels = tf_data.to_tensor(x), tf_data.to_tensor(y)
        return (images, labels) if as_supervised else {"image": images, "label": labels}
    ds = tf_data.Dataset.from_tensor_slices((x, y) if as_supervised else {"image": x, "label": y})
    return ds.batch(batch_size) if batch_size else ds


# -- DatasetInfo --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitInfo:
    name: str
    num_examples: int


@dataclass(frozen=True)
class ClassLabel:
    num_classes: int = 10
    names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))

    def int2str(self, value: int) -> str:
        return self.names[int(value)]

    def str2int(self, value: str) -> int:
        return self.names.index(value)


@dataclass(frozen=True)
class Image:
    shape: tuple[int, int, int] = (28, 28, 1)
    dtype: str = "uint8"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    splits: dict[str, SplitInfo]
    features: dict[str, Any]
    supervised_keys: tuple[str, str] = ("image", "label")
    description: str = "MNIST, served offline by the grader (its data folder; no download)."
    homepage: str = "http://yann.lecun.com/exdb/mnist/"
    version: str = "3.0.1"

    def __repr__(self) -> str:
        splits = ", ".join(f"'{k}': {v.num_examples}" for k, v in self.splits.items())
        return (f"tfds.core.DatasetInfo(name='{self.name}', version={self.version}, description='{self.description}', "
                f"features={{'image': Image(shape=(28, 28, 1), dtype=uint8), 'label': ClassLabel(num_classes=10)}}, "
                f"supervised_keys={self.supervised_keys}, splits={{{splits}}})")


def _info() -> DatasetInfo:
    return DatasetInfo(SERVED, {k: SplitInfo(k, n) for k, n in _sizes().items()},
                       {"image": Image(), "label": ClassLabel()})


# -- the public functions ------------------------------------------------------------------------
def _check_name(name: Any) -> None:
    base = str(name).split(":", 1)[0].split("/", 1)[0].strip().lower()
    if base != SERVED:
        raise ValueError(f"tensorflow_datasets: the grader has no network and serves only '{SERVED}' "
                         f"(from its data folder); '{name}' cannot be loaded here")


def load(name: str, *, split: Any = None, data_dir: Any = None, batch_size: int | None = None,
         shuffle_files: bool = False, download: bool = True, as_supervised: bool = False, decoders: Any = None,
         read_config: Any = None, with_info: bool = False, builder_kwargs: Any = None,
         download_and_prepare_kwargs: Any = None, as_dataset_kwargs: Any = None, try_gcs: bool = False) -> Any:
    """tfds.load for MNIST, from the grader's data folder (see the module docstring)."""
    _check_name(name)
    if decoders is not None or read_config is not None or as_dataset_kwargs:
        raise NotImplementedError("tfds.load: decoders, read_config and as_dataset_kwargs are not supported on "
                                  "the grader (it serves MNIST from its own files)")
    used(f"tensorflow_datasets.load({name!r}, split={split!r}): served from the grader's data folder "
         "(no download; 'test' is the validation part the grader hands out)")
    if split is None:
        data: Any = {k: _dataset(k, as_supervised, batch_size) for k in ("train", "test")}
    elif isinstance(split, (list, tuple)):
        data = [_dataset(s, as_supervised, batch_size) for s in split]
    else:
        data = _dataset(split, as_supervised, batch_size)
    return (data, _info()) if with_info else data


def as_numpy(dataset: Any) -> Any:
    """Numpy arrays for a dataset (an iterator over its elements) or for tensors (the same structure)."""
    if isinstance(dataset, tf_data.Dataset):
        return dataset.as_numpy_iterator()
    return tf_data.to_numpy(dataset)


class Builder:
    """tfds.builder('mnist'): nothing to download; as_dataset serves the grader's data."""

    def __init__(self, name: str) -> None:
        _check_name(name)
        self.name = SERVED
        self.info = _info()

    def download_and_prepare(self, *args: Any, **kwargs: Any) -> None:
        used("tensorflow_datasets builder.download_and_prepare(): nothing to download, the grader serves MNIST")

    def as_dataset(self, split: Any = None, batch_size: int | None = None, as_supervised: bool = False,
                   shuffle_files: bool = False, **kwargs: Any) -> Any:
        return load(SERVED, split=split, batch_size=batch_size, as_supervised=as_supervised)


def builder(name: str, **kwargs: Any) -> Builder:
    return Builder(name)


def show_examples(ds: Any, ds_info: Any = None, rows: int = 3, cols: int = 3, **kwargs: Any) -> Any:
    """A grid of the first images with their labels (matplotlib), as tfds draws it."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3 * cols, 3 * rows))
    for k, element in enumerate(ds.take(rows * cols).as_numpy_iterator()):
        image, label = (element["image"], element["label"]) if isinstance(element, dict) else element
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(np.asarray(image).squeeze(), cmap="gray")
        ax.set_title(str(int(label)))
        ax.axis("off")
    return fig


def _no_progress_bar(*args: Any, **kwargs: Any) -> None:
    return None


def stand_in() -> ModuleType:
    module = ModuleType(MODULE, "tensorflow_datasets stand-in: MNIST from the grader's data folder")
    module.__version__ = "4.9.0+grader"  # type: ignore[attr-defined]
    for name, value in {"load": load, "as_numpy": as_numpy, "builder": builder, "show_examples": show_examples,
                        "Split": Split, "disable_progress_bar": _no_progress_bar,
                        "enable_progress_bar": _no_progress_bar}.items():
        setattr(module, name, value)
    return module


def needed() -> bool:
    """No tensorflow_datasets installed (a real one, with a real TensorFlow, is left alone)."""
    import importlib.util

    return MODULE not in sys.modules and importlib.util.find_spec(MODULE) is None


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        used("import tensorflow_datasets: not installed on the grader; a stand-in serves MNIST from its data folder")
        return stand_in()

    def exec_module(self, module: ModuleType) -> None:
        return None


class TfdsFinder(importlib.abc.MetaPathFinder):
    """Serves `tensorflow_datasets` (append it last: a real installation always wins)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == MODULE:
            return importlib.machinery.ModuleSpec(fullname, _Loader())
        return None


def install() -> None:
    if not any(isinstance(f, TfdsFinder) for f in sys.meta_path):
        sys.meta_path.append(TfdsFinder())
