"""IDX files (the format MNIST and Fashion-MNIST ship in), plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. Only unsigned bytes (type 0x08), the
type every MNIST-like file uses, are read here (the grader writes them: grader/data/idx.py).

Inside the sandbox the shims and the models probe read the data the grader mounted; the
grader reads the same files on its side through grader.data.idx.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


UBYTE = 0x08
MAX_DIMS = 4


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


class IdxError(ValueError):
    """A file that is not a readable IDX array."""


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (gzipped or not, whatever its name says)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if _is_gzip(path) else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise IdxError(f"cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IdxError(f"{path} is not an IDX file (bad magic number)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != UBYTE:
        raise IdxError(f"{path}: IDX value type 0x{dtype_code:02x} is not supported (only unsigned bytes)")
    if not 1 <= ndim <= MAX_DIMS or len(raw) < 4 + 4 * ndim:
        raise IdxError(f"{path}: IDX header names {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    expected = int(np.prod(shape, dtype=np.int64))
    if len(body) != expected:
        raise IdxError(f"{path}: header promises {expected} values of shape {shape}, file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()
