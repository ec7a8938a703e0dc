"""The decode-once cache: image files decoded and resized once, kept as one uint8 array.

Every student's model is evaluated on the same hidden images. Decoding a folder of JPEGs per
student (ImageFolder + DataLoader) costs far more than the models' forward passes, so the grader
decodes them once per batch, resizes them to a square side (`size`), and stores the result as
`images.npy` (N x size x size x 3, uint8) under the cache folder. The folder's name is a hash of
the files' *contents*, the size and the fitting rule: a second batch over the same files reuses
it; a changed file gets a new entry. Each student's own evaluation transform (Resize, CenterCrop,
Normalize ...) is then applied to this array inside the sandbox (grader_inside/probes/images.py).

    fit="crop"    shorter side scaled to `size`, then the centre square (aspect ratio kept)
    fit="squash"  scaled to size x size (aspect ratio not kept)
Square images (AFHQ is 512x512) come out the same either way.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from grader.errors import DataError

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
IMAGES_FILE = "images.npy"
DONE_FILE = "COMPLETE"
Fit = Literal["crop", "squash"]


@dataclass(frozen=True)
class DecodedImages:
    """One cache entry: where the array is, and whether this call had to decode it."""

    path: Path  # images.npy: N x size x size x 3, uint8
    key: str
    count: int
    size: int
    decoded: bool  # False: an earlier run's array was reused

    def load(self, mmap: bool = False) -> np.ndarray:
        return np.load(self.path, allow_pickle=False, mmap_mode="r" if mmap else None)


def content_key(files: Sequence[Path], size: int, fit: Fit) -> str:
    """A hash of the files' bytes (in order), the target size and the fitting rule."""
    h = hashlib.sha256(f"decode-v{CACHE_VERSION}|{size}|{fit}|{len(files)}".encode())
    for path in files:
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as exc:
            raise DataError(f"cannot read image {path}: {exc}") from exc
    return h.hexdigest()[:24]


def decode_image(path: Path, size: int, fit: Fit = "crop") -> np.ndarray:
    """One image file as size x size x 3 uint8 (RGB). DataError for a file PIL cannot read."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            # JPEG: decode straight at a reduced scale (1/2, 1/4, 1/8) no smaller than needed
            img.draft("RGB", (size, size) if fit == "squash" else _draft_box(img.size, size))
            rgb = img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from exc
    w, h = rgb.size
    if fit == "crop" and w != h:
        scale = size / min(w, h)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        rgb = rgb.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=None)
        left, top = (nw - size) // 2, (nh - size) // 2
        rgb = rgb.crop((left, top, left + size, top + size))
    elif rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def _draft_box(wh: tuple[int, int], size: int) -> tuple[int, int]:
    w, h = wh
    scale = size / max(1, min(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def decode_once(files: Sequence[Path], size: int, cache_dir: Path, fit: Fit = "crop",
                workers: int | None = None) -> DecodedImages:
    """The files decoded to one array, from the cache when an earlier run already did it."""
    if size < 8:
        raise DataError(f"decoded image size must be at least 8 pixels; got {size}")
    key = content_key(files, size, fit)
    folder = cache_dir / f"decoded-{key}"
    path = folder / IMAGES_FILE
    if (folder / DONE_FILE).is_file() and path.is_file():
        logger.info("reusing %d decoded images in %s", len(files), folder)
        return DecodedImages(path, key, len(files), size, decoded=False)
    folder.mkdir(parents=True, exist_ok=True)
    out = np.lib.format.open_memmap(folder / f"{IMAGES_FILE}.part", mode="w+", dtype=np.uint8,
                                    shape=(len(files), size, size, 3))
    n_workers = workers or min(8, os.cpu_count() or 1)

    def one(i: int) -> None:
        out[i] = decode_image(files[i], size, fit)

    logger.info("decoding %d images to %dx%d (%d threads)", len(files), size, size, n_workers)
    with ThreadPoolExecutor(max_workers=n_workers) as pool:  # PIL releases the GIL while decoding
        list(pool.map(one, range(len(files))))
    out.flush()
    del out
    os.replace(folder / f"{IMAGES_FILE}.part", path)
    (folder / "meta.json").write_text(json.dumps({"count": len(files), "size": size, "fit": fit,
                                                  "version": CACHE_VERSION}), encoding="utf-8")
    (folder / DONE_FILE).write_text("decoded\n", encoding="utf-8")
    return DecodedImages(path, key, len(files), size, decoded=True)
