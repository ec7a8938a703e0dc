"""The student's data, the validation part handed out as "test" data, and the hidden split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.data import PreparedMnist, SplitSettings, load_mnist, prepare_mnist, read_idx
from grader.data.hidden import SECRET_FILE, HiddenSecret, batch_secret, pin_secret, served_order
from grader.data.splits import ENV_DATA, ENV_HIDDEN

SECRET = HiddenSecret(12345)


@pytest.fixture()
def source(tmp_path: Path, mnist_folder, mnist_arrays) -> Path:
    folder = tmp_path / "given"
    mnist_folder(folder, "gz", mnist_arrays(n_train=50, n_test=20))
    return folder


def test_splits_partition_the_training_files(source: Path, tmp_path: Path) -> None:
    p = prepare_mnist(source, tmp_path / "cache", SplitSettings(validation=0.2, seed=3), SECRET)
    given = load_mnist(source)
    student = load_mnist(p.student_dir)
    assert (p.n_train, p.n_validation, p.n_hidden) == (40, 10, 20)
    assert len(student.train_labels) == 40 and len(student.test_labels) == 10
    rows = {img.tobytes() for img in given.train_images}
    seen = [img.tobytes() for img in np.concatenate([student.train_images, student.test_images])]
    assert sorted(seen) == sorted(rows)  # train + validation = the official training files
    assert not {img.tobytes() for img in given.test_images} & set(seen)  # the hidden split is not there
    order = served_order(20, SECRET, "mnist")  # the hidden split, in the batch's secret order
    served = np.load(p.hidden_images).astype(int)
    assert np.abs(served - given.test_images[order].astype(int)).max() <= SECRET.noise
    assert np.array_equal(p.hidden_labels(), given.test_labels[order])


def test_student_folder_is_a_complete_mnist_layout(source: Path, tmp_path: Path) -> None:
    p = prepare_mnist(source, tmp_path / "cache")
    raw = p.student_dir / "MNIST" / "raw"
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert (raw / name).is_file()
        assert (p.student_dir / f"{name}.gz").is_file()
        assert np.array_equal(read_idx(p.student_dir / name), read_idx(raw / name))


def test_hidden_labels_are_outside_every_mount(source: Path, tmp_path: Path) -> None:
    p = prepare_mnist(source, tmp_path / "cache")
    mounted = [m.source.resolve() for m in p.mounts() if m.target != str(source.resolve())]
    assert not any(p.labels_path.resolve().is_relative_to(m) for m in mounted)
    masks = [m for m in p.mounts() if m.target == str(source.resolve())]
    assert len(masks) == 1 and not any(masks[0].source.iterdir())  # the source shows up empty
    assert p.sandbox_env() == {ENV_DATA: str(p.student_dir), ENV_HIDDEN: str(p.hidden_images)}


def test_seed_train_limit_and_reuse(source: Path, tmp_path: Path) -> None:
    a = prepare_mnist(source, tmp_path / "cache", SplitSettings(seed=1, train_limit=7))
    b = prepare_mnist(source, tmp_path / "cache", SplitSettings(seed=2))
    assert a.n_train == 7 and b.n_train == 45
    assert a.student_dir != b.student_dir and a.digest != b.digest
    again = prepare_mnist(source, tmp_path / "cache", SplitSettings(seed=1, train_limit=7))
    assert again == a


def test_demo_data_is_marked_and_has_mnists_sizes(demo_cache: Path) -> None:
    p: PreparedMnist = prepare_mnist(None, demo_cache)
    assert p.demo and p.source is None and "demo data" in p.describe()
    assert (p.n_train, p.n_validation, p.n_hidden) == (54000, 6000, 10000)  # MNIST's 60,000 + 10,000
    assert not any(m.target.startswith("/usr") for m in p.mounts())


def test_each_batch_serves_its_own_order_and_noise(source: Path, tmp_path: Path) -> None:
    """The same data in two batches: the hidden images in different secret orders, never the files'
    bytes; a resumed batch (same data folder) keeps its secret."""
    given = load_mnist(source)
    one = prepare_mnist(source, tmp_path / "one")
    two = prepare_mnist(source, tmp_path / "two")
    again = prepare_mnist(source, tmp_path / "one")
    assert again == one and one.hidden_images != two.hidden_images
    a, b = np.load(one.hidden_images), np.load(two.hidden_images)
    assert not np.array_equal(one.hidden_labels(), two.hidden_labels()) or not np.array_equal(a, b)
    public = {img.tobytes() for img in given.test_images}
    assert not public & {img.tobytes() for img in a}  # no served image equals a published one
    assert (tmp_path / "one" / "hidden-secret.json").stat().st_mode & 0o077 == 0  # the grader's alone
    assert not any((tmp_path / "one").resolve().joinpath("hidden-secret.json").is_relative_to(m.source.resolve())
                   for m in one.mounts())


def test_the_demo_hidden_split_cannot_be_rebuilt_from_public_code(tmp_path: Path) -> None:
    """Inside the sandbox anyone can run the demo builder (it is public, and scikit-learn is
    there): without the batch's secret its test images are other images, not the hidden ones.
    A fixed secret keeps the test deterministic: with a random one, the bound "every image more
    than 10 grey levels away" failed once in a full run, because an augmentation of the same digit
    drawn with nearly the same parameters can come that close (a near neighbour, as any training
    image of that digit can be, not a copy with noise on it)."""
    from grader.data.demo import build_demo_arrays
    from grader.data.hidden import HiddenSecret

    prepared = prepare_mnist(None, tmp_path, secret=HiddenSecret(0x5EC2E7_0F_BA7C4))
    served = np.load(prepared.hidden_images)[:300].reshape(300, -1).astype(np.float32)
    rebuilt = build_demo_arrays(n_train=10).test_images.reshape(10000, -1).astype(np.float32)
    # nearest rebuilt image of each served one: nowhere near the noise of a grey level or two
    d2 = (served ** 2).sum(1)[:, None] - 2 * served @ rebuilt.T + (rebuilt ** 2).sum(1)[None, :]
    nearest = np.sqrt(np.maximum(d2.min(1), 0)) / np.sqrt(784)  # root-mean-square per pixel, in grey levels
    assert nearest.min() > 3  # no served image is a public one with the secret noise on it
    assert (nearest < 10).mean() <= 0.01


def test_a_pinned_secret_is_the_batch_secret_and_is_never_overwritten(tmp_path: Path) -> None:
    assert pin_secret(tmp_path / "batch", HiddenSecret(7))
    assert batch_secret(tmp_path / "batch") == HiddenSecret(7)
    assert (tmp_path / "batch" / SECRET_FILE).stat().st_mode & 0o077 == 0
    assert not pin_secret(tmp_path / "batch", HiddenSecret(8))  # a batch's secret stays what it was
    assert batch_secret(tmp_path / "batch") == HiddenSecret(7)
