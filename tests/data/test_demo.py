"""The demo dataset: MNIST's shape (60,000 + 10,000) from scikit-learn's digits, deterministic
training images, test images from held-out digits and from the seed the batch gives."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from grader.data.demo import (
    N_TEST,
    N_TRAIN,
    _folder_name,
    build_demo_arrays,
    demo_dataset,
    demo_sources,
    source_split,
)
from grader.data.hidden import batch_secret
from grader.data.mnist import load_mnist


@pytest.fixture(scope="module")
def public():
    return build_demo_arrays()


def test_mnists_sizes_and_format(public) -> None:
    assert public.train_images.shape == (N_TRAIN, 28, 28) == (60000, 28, 28)
    assert public.test_images.shape == (N_TEST, 28, 28) == (10000, 28, 28)
    assert public.train_images.dtype == np.uint8 and public.train_labels.dtype == np.uint8
    for labels, n in ((public.train_labels, N_TRAIN), (public.test_labels, N_TEST)):
        counts = np.bincount(labels, minlength=10)
        assert counts.min() > 0.08 * n and counts.max() < 0.12 * n  # balanced, as MNIST roughly is
    # MNIST-like pictures: dark background, saturated strokes, ink mostly in the middle
    assert public.train_images[:, :2, :].mean() < 5 and (public.train_images == 255).any(axis=(1, 2)).mean() > 0.5
    assert 20 < public.train_images.mean() < 60


def test_training_images_are_the_same_bytes_every_time() -> None:
    one, two = build_demo_arrays(n_train=3000, n_test=10), build_demo_arrays(n_train=3000, n_test=10)
    assert one.digest() == two.digest()


def test_the_images_vary_and_test_digits_are_held_out(public) -> None:
    frames, labels = demo_sources()
    train_src, test_src = source_split(labels)
    assert not set(train_src) & set(test_src) and len(test_src) == pytest.approx(1797 / 6, abs=10)
    # about 40 transformed copies of each training digit, no two alike
    assert len({img.tobytes() for img in public.train_images[:5000]}) == 5000


def test_the_test_images_follow_the_seed() -> None:
    a, b = (build_demo_arrays(test_seed=seed, n_train=10, n_test=500) for seed in (1, 2))
    assert not np.array_equal(a.test_images, b.test_images)
    assert np.array_equal(a.test_images, build_demo_arrays(test_seed=1, n_train=10, n_test=500).test_images)
    assert not np.array_equal(a.test_images, build_demo_arrays(n_train=10, n_test=500).test_images)


def test_code_that_assumes_mnists_sizes_runs(demo_cache: Path) -> None:
    """`train_test_split(..., test_size=10000)` and fixed slices on what the student's code gets
    from the demo data (keras.datasets.mnist.load_data() and torchvision read these files): the
    old demo set (1,797 digits) failed both, and the model stayed untrained."""
    from sklearn.model_selection import train_test_split

    from grader.data import prepare_mnist

    student = load_mnist(prepare_mnist(None, demo_cache).student_dir)
    x = np.concatenate([student.train_images, student.test_images])
    y = np.concatenate([student.train_labels, student.test_labels])
    x_tr, x_val, _, _ = train_test_split(x, y, test_size=10000, random_state=0)
    assert len(x_val) == 10000 and len(x_tr) == 50000
    assert len(student.train_images[:50000]) == 50000 and len(student.train_images[50000:]) == 4000


def test_the_folder_is_cached_per_batch_secret(demo_cache: Path) -> None:
    seed = batch_secret(demo_cache).derived_seed("demo-test")  # the test images of this batch
    start = time.perf_counter()
    folder = demo_dataset(demo_cache, seed)
    assert time.perf_counter() - start < 1 and folder.parent == demo_cache  # built by the batch already
    assert _folder_name(seed) != _folder_name(seed + 1) and _folder_name(seed) != _folder_name(None)
