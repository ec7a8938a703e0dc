"""The decode-once cache: decoded once, reused by a second run, invalidated by a changed file."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.data import cache
from grader.data.cache import decode_image, decode_once
from grader.errors import DataError


def _files(folder: Path, n: int = 6, size: tuple[int, int] = (40, 30)) -> list[Path]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"img{i}.jpg" if i % 2 else folder / f"img{i}.png"
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_second_run_reuses_the_array(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path / "imgs")
    first = decode_once(files, 16, tmp_path / "cache")
    assert first.decoded and first.load().shape == (6, 16, 16, 3) and first.load().dtype == np.uint8
    calls: list[Path] = []
    monkeypatch.setattr(cache, "decode_image", lambda p, *a, **k: calls.append(p))
    second = decode_once(files, 16, tmp_path / "cache")
    assert not second.decoded and calls == [] and second.path == first.path
    assert np.array_equal(second.load(), first.load())


def test_changed_content_or_size_is_a_new_entry(tmp_path: Path) -> None:
    files = _files(tmp_path / "imgs")
    first = decode_once(files, 16, tmp_path / "cache")
    other_size = decode_once(files, 24, tmp_path / "cache")
    assert other_size.decoded and other_size.key != first.key
    Image.new("RGB", (40, 30), (255, 0, 0)).save(files[0])  # same name, new content
    changed = decode_once(files, 16, tmp_path / "cache")
    assert changed.decoded and changed.key != first.key
    assert tuple(changed.load()[0, 8, 8]) == (255, 0, 0)


def test_same_content_elsewhere_shares_the_entry(tmp_path: Path) -> None:
    files = _files(tmp_path / "a")
    copies = [tmp_path / "b" / f.name for f in files]
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert decode_once(files, 16, tmp_path / "cache").key == decode_once(copies, 16, tmp_path / "cache").key


def test_crop_keeps_the_aspect_ratio(tmp_path: Path) -> None:
    img = np.zeros((20, 60, 3), dtype=np.uint8)
    img[:, 20:40] = 255  # the centre third is white
    Image.fromarray(img).save(tmp_path / "wide.png")
    crop = decode_image(tmp_path / "wide.png", 20, "crop")
    squash = decode_image(tmp_path / "wide.png", 20, "squash")
    assert crop.shape == squash.shape == (20, 20, 3)
    assert crop.mean() > 200 and 60 < squash.mean() < 120


def test_unreadable_image_is_a_plain_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="bad.jpg"):
        decode_once([bad], 16, tmp_path / "cache")
