"""IDX files on the grader's side: written here, read with the reader the sandbox uses too.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order; only unsigned bytes (0x08).
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from grader.errors import DataError
from grader_inside.idx import MAX_DIMS, UBYTE, IdxError
from grader_inside.idx import read_idx as _read_idx


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (gzipped or not); DataError when it is not one."""
    try:
        return _read_idx(path)
    except IdxError as exc:
        raise DataError(str(exc)) from exc


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write a uint8 array as IDX; gzipped when `compress` (default: when the name ends in .gz)."""
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        raise DataError(f"IDX files hold unsigned bytes; got {arr.dtype}")
    if not 1 <= arr.ndim <= MAX_DIMS:
        raise DataError(f"IDX files hold 1 to {MAX_DIMS} dimensions; got {arr.ndim}")
    data = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
