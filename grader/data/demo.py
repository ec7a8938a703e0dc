"""The built-in demo dataset: MNIST's shape made from scikit-learn's handwritten digits.

scikit-learn ships 1797 digits of 8x8 pixels (values 0..16) with the package, so this needs no
network. Each is scaled to 0..255, resized to 20x20 (bilinear) and centred in a 28x28 frame, as
MNIST centres its digits in a 20x20 box. A seeded, stratified sixth of them are the test
split's *sources*, the rest the training split's. From those sources come 60,000 training and
10,000 test images, as many as MNIST has, each drawn through a random affine transform
(rotation, scale, aspect, shear, shift) and a random stroke (thicker or thinner, harder or
softer): student code that assumes MNIST's sizes (`test_size=10000`, `x_train[:60000]`,
`x_train[50000:]`) runs unchanged, and no test image comes from a digit seen in training.

The training images depend only on DEMO_SEED: the same bytes on every machine. The test images
(the grader's hidden split) come from a seed the caller gives: each batch passes one derived
from its secret (grader/data/hidden.py), so the hidden images cannot be rebuilt from this code,
which the sandbox can read. The result is written as the four IDX files (not compressed: the
folder is a cache in the batch's data folder), so it goes through exactly the same code as real
MNIST. Reports mark grades made on it as "demo data".
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.idx import write_idx
from grader.data.mnist import IMAGE_SIDE, MnistArrays, load_mnist
from grader.errors import DataError

logger = logging.getLogger(__name__)

DEMO_VERSION = 2
DEMO_SEED = 1234  # public: which digits are test sources, and every training image
PUBLIC_TEST_SEED = 4321  # the test images when no secret is given (tests, tools)
DIGIT_BOX = 20
TEST_SHARE = 1 / 6
N_TRAIN, N_TEST = 60_000, 10_000
CHUNK = 4096
DEMO_PREFIX = f"demo-digits-v{DEMO_VERSION}"
IDX_NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


@dataclass(frozen=True)
class Jitter:
    """Ranges of the random transform drawn for each image (uniform within each range)."""

    rotation_deg: float = 14.0  # -14..14 degrees
    scale: tuple[float, float] = (0.82, 1.12)
    aspect: float = 0.12  # x scale / y scale within 1 -+ this
    shear: float = 0.18
    shift_px: float = 2.0
    stroke: float = 0.8  # -0.8 (thinner) .. +0.8 (thicker), blended with a 3x3 erosion / dilation
    gain: tuple[float, float] = (1.0, 1.7)  # contrast: MNIST's strokes are saturated in the middle


JITTER = Jitter()


def _resize(images: np.ndarray, side: int) -> np.ndarray:
    from scipy.ndimage import zoom

    factor = side / images.shape[1]
    return np.stack([zoom(img, factor, order=1, mode="nearest", grid_mode=True) for img in images])


def demo_sources() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as float 28x28 frames in 0..1 (digit in the middle 20x20), and labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataError("the demo dataset needs scikit-learn (pip install scikit-learn), "
                        "or pass real data with --data mnist=<folder>") from exc
    digits = load_digits()
    raw = digits.images.astype(np.float64) / 16.0
    big = np.clip(_resize(raw, DIGIT_BOX), 0.0, 1.0)
    pad = (IMAGE_SIDE - DIGIT_BOX) // 2
    frames = np.zeros((len(big), IMAGE_SIDE, IMAGE_SIDE), dtype=np.float64)
    frames[:, pad:pad + DIGIT_BOX, pad:pad + DIGIT_BOX] = big
    return frames, digits.target.astype(np.uint8)


def source_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train sources, test sources): a seeded, stratified sixth of each class is for testing."""
    rng = np.random.default_rng(DEMO_SEED)
    test_idx = []
    for cls in range(10):
        idx = np.flatnonzero(labels == cls)
        test_idx.append(rng.permutation(idx)[: int(round(len(idx) * TEST_SHARE))])
    test = np.sort(np.concatenate(test_idx))
    return np.setdiff1d(np.arange(len(labels)), test), test


def _matrices(n: int, rng: np.random.Generator, jitter: Jitter) -> np.ndarray:
    """n inverse affine maps (2x3: output pixel -> source pixel, about the frame's centre).
    Angles go through Python's math (libm), not numpy's vectorised sin/cos, whose last bit may
    differ between CPUs: the images must be the same bytes everywhere."""
    angle = rng.uniform(-jitter.rotation_deg, jitter.rotation_deg, n)
    scale = rng.uniform(*jitter.scale, n)
    aspect = rng.uniform(1 - jitter.aspect, 1 + jitter.aspect, n)
    shear = rng.uniform(-jitter.shear, jitter.shear, n)
    shift = rng.uniform(-jitter.shift_px, jitter.shift_px, (n, 2))
    out = np.empty((n, 2, 3), dtype=np.float64)
    centre = (IMAGE_SIDE - 1) / 2
    for i in range(n):
        c, s = math.cos(math.radians(angle[i])), math.sin(math.radians(angle[i]))
        sy, sx = scale[i] / math.sqrt(aspect[i]), scale[i] * math.sqrt(aspect[i])
        # forward map (y, x) -> rotation @ shear @ diag(sy, sx); its inverse samples the source
        a, b = c * sy, (c * shear[i] - s) * sx
        cc, d = s * sy, (s * shear[i] + c) * sx
        det = a * d - b * cc
        inv = ((d / det, -b / det), (-cc / det, a / det))
        ty, tx = shift[i]
        out[i, 0, :2], out[i, 1, :2] = inv
        out[i, 0, 2] = centre - inv[0][0] * (centre + ty) - inv[0][1] * (centre + tx)
        out[i, 1, 2] = centre - inv[1][0] * (centre + ty) - inv[1][1] * (centre + tx)
    return out


def _warp(frames: np.ndarray, maps: np.ndarray, pad: int = 2) -> np.ndarray:
    """Bilinear sampling of each frame through its map (zero outside the frame), float32.
    Source positions are clipped into a border of `pad` zero pixels, so a position outside the
    frame reads zeros with no mask."""
    n, side = len(frames), IMAGE_SIDE
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    maps = maps.astype(np.float32)
    sy = maps[:, 0, 0, None, None] * yy + maps[:, 0, 1, None, None] * xx + maps[:, 0, 2, None, None]
    sx = maps[:, 1, 0, None, None] * yy + maps[:, 1, 1, None, None] * xx + maps[:, 1, 2, None, None]
    y0, x0 = np.floor(sy), np.floor(sx)
    fy, fx = sy - y0, sx - x0
    width = side + 2 * pad
    yi = np.clip(y0, -pad, side + pad - 2).astype(np.int64) + pad
    xi = np.clip(x0, -pad, side + pad - 2).astype(np.int64) + pad
    padded = np.zeros((n, width, width), dtype=np.float32)
    padded[:, pad:pad + side, pad:pad + side] = frames
    flat = padded.ravel()
    i00 = (np.arange(n, dtype=np.int64) * (width * width))[:, None, None] + yi * width + xi
    v00, v01, v10, v11 = flat[i00], flat[i00 + 1], flat[i00 + width], flat[i00 + width + 1]
    top = v00 + fx * (v01 - v00)
    bottom = v10 + fx * (v11 - v10)
    return top + fy * (bottom - top)


def _stroke(images: np.ndarray, amount: np.ndarray, gain: np.ndarray) -> np.ndarray:
    from scipy.ndimage import grey_dilation, grey_erosion

    grown = grey_dilation(images, size=(1, 3, 3))
    shrunk = grey_erosion(images, size=(1, 3, 3))
    a = amount[:, None, None].astype(np.float32)
    target = np.where(a >= 0, grown, shrunk)
    out = images + np.abs(a) * (target - images)
    out *= gain[:, None, None].astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out)


def augment(frames: np.ndarray, labels: np.ndarray, sources: np.ndarray, n: int, seed: int,
            jitter: Jitter = JITTER) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 images drawn from `sources` (each used about equally often), each through its own
    random transform and stroke; their labels."""
    rng = np.random.default_rng(seed)
    picks = np.resize(rng.permutation(sources), n)
    rng.shuffle(picks)
    maps = _matrices(n, rng, jitter)
    amount = rng.uniform(-jitter.stroke, jitter.stroke, n)
    gain = rng.uniform(*jitter.gain, n)
    images = np.empty((n, IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        warped = _warp(frames[picks[part]], maps[part])
        images[part] = np.rint(_stroke(warped, amount[part], gain[part]) * 255.0).astype(np.uint8)
    return images, labels[picks]


def build_demo_arrays(test_seed: int | None = None, n_train: int = N_TRAIN, n_test: int = N_TEST) -> MnistArrays:
    """The demo dataset in memory. Training images: the same bytes on every machine; test images:
    from `test_seed` (None: a public seed, for tests and tools; batches pass a secret one)."""
    frames, labels = demo_sources()
    train_src, test_src = source_split(labels)
    train_x, train_y = augment(frames, labels, train_src, n_train, DEMO_SEED)
    test_x, test_y = augment(frames, labels, test_src, n_test, PUBLIC_TEST_SEED if test_seed is None else test_seed)
    return MnistArrays(train_x, train_y, test_x, test_y)


def _folder_name(test_seed: int | None) -> str:
    if test_seed is None:
        return f"{DEMO_PREFIX}-public"
    return f"{DEMO_PREFIX}-{hashlib.sha256(f'demo-test|{test_seed}'.encode()).hexdigest()[:12]}"


def demo_dataset(cache_dir: Path, test_seed: int | None = None) -> Path:
    """A folder holding the demo dataset as gzipped IDX files (built once, then reused)."""
    folder = cache_dir / _folder_name(test_seed)
    marker = folder / "COMPLETE"
    if marker.is_file():
        return folder
    start = time.perf_counter()
    data = build_demo_arrays(test_seed)
    built = time.perf_counter() - start
    for key, name in IDX_NAMES.items():
        write_idx(folder / name, getattr(data, key))
    logger.info("built the demo dataset in %s: %.1f s for the images, %.1f s in all", folder, built,
                time.perf_counter() - start)
    marker.write_text(f"scikit-learn digits, {N_TRAIN} training and {N_TEST} test images "
                      f"through random affine transforms (version {DEMO_VERSION})\n", encoding="utf-8")
    return folder


def load_demo(cache_dir: Path, test_seed: int | None = None) -> MnistArrays:
    return load_mnist(demo_dataset(cache_dir, test_seed))
