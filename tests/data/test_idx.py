"""IDX files: round trips (plain and gzipped) and the errors bad files give."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from grader.data import read_idx, write_idx
from grader.errors import DataError


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    arr = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / name, arr)
    assert np.array_equal(read_idx(tmp_path / name), arr)
    assert ((tmp_path / name).read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    arr = np.array([3, 1, 4], dtype=np.uint8)
    write_idx(tmp_path / "labels", arr, compress=True)
    assert np.array_equal(read_idx(tmp_path / "labels"), arr)


def test_bad_magic_and_truncated_body(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    arr = np.zeros((4, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "short", arr)
    data = (tmp_path / "short").read_bytes()
    (tmp_path / "short").write_bytes(data[:-10])
    with pytest.raises(DataError, match="header promises"):
        read_idx(tmp_path / "short")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01")[:-4])
    with pytest.raises(DataError):
        read_idx(tmp_path / "broken.gz")


def test_only_unsigned_bytes(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        write_idx(tmp_path / "f", np.zeros(3, dtype=np.float32))
    (tmp_path / "float").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x00" * 4)
    with pytest.raises(DataError, match="not supported"):
        read_idx(tmp_path / "float")
