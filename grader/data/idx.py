"""IDX files (the format MNIST and Fashion-MNIST ship in), plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. Only unsigned bytes (type 0x08), the
type every MNIST-like file uses, are read and written here.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from grader.errors import DataError

UBYTE = 0x08
MAX_DIMS = 4


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (gzipped or not, whatever its name says)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if _is_gzip(path) else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != UBYTE:
        raise DataError(f"{path}: IDX value type 0x{dtype_code:02x} is not supported (only unsigned bytes)")
    if not 1 <= ndim <= MAX_DIMS or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: IDX header names {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    expected = int(np.prod(shape, dtype=np.int64))
    if len(body) != expected:
        raise DataError(f"{path}: header promises {expected} values of shape {shape}, file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None, level: int = 6) -> None:
    """Write a uint8 array as IDX; gzipped (at `level`) when `compress` (default: when the name
    ends in .gz)."""
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        raise DataError(f"IDX files hold unsigned bytes; got {arr.dtype}")
    if not 1 <= arr.ndim <= MAX_DIMS:
        raise DataError(f"IDX files hold 1 to {MAX_DIMS} dimensions; got {arr.ndim}")
    data = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=level, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
