"""Image-folder splits: the student tree, the hidden hold-out, what the sandbox may see."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.data.imagefolder import ImageFolderSettings, find_root, prepare_imagefolder
from grader.errors import DataError


def test_splits_and_hidden_hold_out(shapes: Path, tmp_path: Path) -> None:
    p = prepare_imagefolder("afhq", shapes.parent, tmp_path, ImageFolderSettings(size=32, format_images=9))
    assert p.classes == ("cat", "dog", "wild") and p.source == shapes
    assert (p.n_train, p.n_validation, p.n_hidden) == (60, 18, 18)
    kept = sorted(f.name for f in (p.student_dir / "val").rglob("*.png"))
    assert len(kept) == 18 and (p.student_dir / "train" / "dog").is_dir()
    labels = p.hidden_labels()
    assert np.bincount(labels).tolist() == [6, 6, 6]  # stratified
    assert labels.tolist() != sorted(labels.tolist())  # shuffled: the order gives no class away
    assert p.hidden.load().shape == (18, 32, 32, 3)
    assert np.load(p.format_images).shape == (9, 32, 32, 3) and np.bincount(np.load(p.format_labels)).tolist() == [3, 3, 3]
    hidden_names = {f.name for f in (shapes / "val").rglob("*.png")} - set(kept)
    assert len(hidden_names) == 18 and not any((p.student_dir / "val").rglob(next(iter(hidden_names))))


def test_the_hidden_split_is_served_in_the_batchs_secret_order_with_noise(shapes: Path, tmp_path: Path) -> None:
    """The decoded hidden array (in a seeded, public order) is never mounted; the sandbox gets its
    images in the batch's secret order, each pixel within 2 grey levels of the decoded one."""
    from grader.data.hidden import HiddenSecret, served_order

    secret = HiddenSecret(77)
    p = prepare_imagefolder("afhq", shapes.parent, tmp_path, ImageFolderSettings(size=32), secret)
    decoded, served = p.hidden.load(), np.load(p.hidden_images)
    order = served_order(len(decoded), secret, "images|afhq")
    assert np.abs(served.astype(int) - decoded[order].astype(int)).max() <= 2
    assert not np.array_equal(served, decoded[order])  # the noise is there
    mounted = [m.source.resolve() for m in p.mounts()]
    assert any(p.served.resolve().is_relative_to(m) for m in mounted)
    assert not any(p.hidden.path.resolve().is_relative_to(m) for m in mounted)
    other = prepare_imagefolder("afhq", shapes.parent, tmp_path, ImageFolderSettings(size=32), HiddenSecret(78))
    assert other.served != p.served and not np.array_equal(other.hidden_labels(), p.hidden_labels()) \
        or not np.array_equal(np.load(other.hidden_images), served)


def test_prepared_again_is_reused(shapes: Path, tmp_path: Path) -> None:
    first = prepare_imagefolder("afhq", shapes.parent, tmp_path, ImageFolderSettings(size=32))
    second = prepare_imagefolder("afhq", shapes, tmp_path, ImageFolderSettings(size=32))
    assert first.digest == second.digest and not second.hidden.decoded


def test_mounts_hide_the_labels_and_the_source(shapes: Path, tmp_path: Path) -> None:
    p = prepare_imagefolder("afhq", shapes, tmp_path / "cache", ImageFolderSettings(size=32))
    mounts = p.mounts(("/content/afhq", "./afhq"))
    sources = {m.source.resolve() for m in mounts}
    assert not any(p.labels_path.resolve().is_relative_to(s) for s in sources)
    assert {m.target for m in mounts if m.source == p.student_dir} >= {"/content/afhq", "./afhq"}
    mask = [m for m in mounts if m.target == str(shapes)]
    assert mask and not any(mask[0].source.iterdir())  # an empty folder over the instructor's data


def test_named_hidden_folder(shapes: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(shapes, root)
    shutil.copytree(root / "val", root / "test")
    p = prepare_imagefolder("afhq", root, tmp_path / "cache", ImageFolderSettings(size=16, hidden="test"))
    assert (p.n_validation, p.n_hidden) == (36, 36)


def test_bad_trees_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="train/<class>"):
        find_root(tmp_path)
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "val").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        prepare_imagefolder("afhq", tmp_path, tmp_path / "cache")


def test_small_square_images_are_not_upsampled(shapes: Path, tmp_path: Path) -> None:
    p = prepare_imagefolder("afhq", shapes, tmp_path, ImageFolderSettings(size=256))
    assert p.hidden.size == 64 and np.load(p.format_images).shape[1:] == (64, 64, 3)
