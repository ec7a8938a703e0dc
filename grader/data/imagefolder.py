"""Image-folder datasets (HW 3, AFHQ): `<root>/train/<class>/*.jpg`, `<root>/val/<class>/*.jpg`.

The three splits of a run:
    student training data  = `<root>/train` (optionally at most `train_limit` images per class)
    student validation     = `<root>/val`, minus the hidden part
    hidden test split      = a folder the rubric names (`hidden: test`), or a seeded stratified
                             share of `<root>/val`; its images are decoded once (grader/data/cache.py)
                             and enter the sandbox only as a uint8 array served in this batch's
                             secret order with its secret noise (grader/data/hidden.py); its labels
                             stay with the grader

`prepare_imagefolder` writes under a cache folder keyed by the file listing and the settings:
    student/train/<class>/..., student/val/<class>/...  hard links (copies across file systems)
    served-<tag>/images.npy the hidden images as this batch serves them (mounted read-only for
                            the models probe; the decoded array itself is never mounted)
    format/images.npy, format/labels.npy   a seeded subset of the student's validation images,
                            decoded the same way: the probe picks each model's input format on it
    parent/labels-<tag>.npy the hidden labels in the served order: never mounted, read only by
                            the grader
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.cache import DecodedImages, Fit, decode_once
from grader.data.hidden import HiddenSecret, batch_secret, serve_hidden
from grader.data.splits import _mask_for
from grader.errors import DataError
from grader.sandbox import Mount

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"})
SPLIT_VERSION = 1
LISTING_FILE = "listing.json"


@dataclass(frozen=True)
class ImageFolderSettings:
    train: str = "train"
    validation: str = "val"
    hidden: str | None = None  # a split folder kept whole as the hidden test split
    hidden_share: float = 0.5  # else: this share of each validation class is hidden
    seed: int = 0
    size: int = 256  # side of the decoded images
    fit: Fit = "crop"
    format_images: int = 200  # decoded validation images for the input-format search
    train_limit: int | None = None  # at most this many training images per class
    retrain_images: int | None = None  # decoded training images per class for retraining (None: none)


@dataclass(frozen=True)
class Split:
    """One split folder: class names (sorted, as ImageFolder numbers them) and files per class."""

    classes: tuple[str, ...]
    files: dict[str, tuple[Path, ...]]

    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def find_root(folder: Path, train: str = "train") -> Path:
    """The dataset root: `folder` itself or a single nested folder holding `train/` (afhq/)."""
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist")
    if (folder / train).is_dir():
        return folder
    inner = [p for p in sorted(folder.iterdir()) if p.is_dir() and (p / train).is_dir()]
    if len(inner) == 1:
        return inner[0]
    raise DataError(f"{folder} is not an image-folder dataset: expected {train}/<class>/<images> "
                    f"(as in afhq/train/cat/*.jpg), directly or in one sub-folder")


def read_split(folder: Path) -> Split:
    """Classes are the sub-folders that hold at least one image file."""
    if not folder.is_dir():
        raise DataError(f"split folder {folder} does not exist")
    files: dict[str, tuple[Path, ...]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = tuple(sorted(p for p in sub.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()))
        if images:
            files[sub.name] = images
    if not files:
        raise DataError(f"{folder} holds no class folders with images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    return Split(tuple(files), files)


@dataclass(frozen=True)
class PreparedImages:
    """Where each split lives, and what the grader may say about the data."""

    name: str  # the dataset's name in the rubric and in --data (afhq)
    root: Path  # the cache entry
    student_dir: Path
    hidden: DecodedImages  # the hidden split as decoded (never mounted: see `served`)
    served: Path  # the hidden images in this batch's secret order, with its noise
    format_images: Path
    format_labels: Path
    labels_path: Path
    classes: tuple[str, ...]
    source: Path
    digest: str
    n_train: int
    n_validation: int
    n_hidden: int
    train_images: Path | None = None  # decoded training subset for retraining
    train_labels: Path | None = None

    def hidden_labels(self) -> np.ndarray:
        return np.asarray(np.load(self.labels_path, allow_pickle=False), dtype=np.int64)

    @property
    def hidden_images(self) -> Path:
        return self.served

    def sandbox_env(self) -> dict[str, str]:
        return {f"GRADER_DATA_{self.name.upper()}": str(self.student_dir),
                "GRADER_HIDDEN_IMAGES": str(self.served)}

    def mounts(self, targets: tuple[str, ...] = ()) -> tuple[Mount, ...]:
        """Read-only mounts: the student tree at its host path and at each of `targets`
        (absolute, or relative to the run's working folder: ./afhq), the decoded arrays, and an
        empty folder over the instructor's own folder (whose layout gives the hidden labels away)."""
        mounts: list[Mount] = []
        mask = _mask_for(self.source, self.root)
        if mask is not None:
            mounts.append(mask)
        mounts.append(Mount(self.student_dir, str(self.student_dir)))
        mounts += [Mount(self.student_dir, t) for t in targets]
        arrays = [self.served, self.format_images, self.format_labels, self.train_images, self.train_labels]
        for folder in sorted({p.parent for p in arrays if p is not None}):
            mounts.append(Mount(folder, str(folder)))
        return tuple(mounts)

    def describe(self) -> str:
        return (f"{self.source}: {self.n_train} training images, {self.n_validation} validation images, "
                f"{self.n_hidden} hidden test images ({', '.join(self.classes)})")


def _listing(root: Path, settings: ImageFolderSettings) -> tuple[str, dict[str, Split]]:
    names = [settings.train, settings.validation] + ([settings.hidden] if settings.hidden else [])
    splits = {name: read_split(root / name) for name in names}
    h = hashlib.sha256(json.dumps([SPLIT_VERSION, settings.__dict__], sort_keys=True, default=str).encode())
    for name, split in splits.items():
        for cls, files in split.files.items():
            for f in files:
                st = f.stat()
                h.update(f"{name}/{cls}/{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16], splits


def _check_classes(splits: dict[str, Split], settings: ImageFolderSettings, root: Path) -> tuple[str, ...]:
    classes = splits[settings.train].classes
    for name, split in splits.items():
        if split.classes != classes:
            raise DataError(f"{root}: {name}/ has classes {', '.join(split.classes)} but {settings.train}/ has "
                            f"{', '.join(classes)}; every split needs the same class folders")
    return classes


def _hold_out(val: Split, share: float, seed: int) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    """(kept, hidden) lists of (file, class index): a seeded share of each class is hidden."""
    if not 0 < share < 1:
        raise DataError(f"hidden_share must be between 0 and 1; got {share}")
    rng = np.random.default_rng(seed)
    kept, hidden = [], []
    for k, cls in enumerate(val.classes):
        files = val.files[cls]
        order = rng.permutation(len(files))
        n_hidden = min(len(files) - 1, max(1, int(round(len(files) * share))))
        for pos, i in enumerate(order):
            (hidden if pos < n_hidden else kept).append((files[i], k))
    return sorted(kept), hidden


def _flat(split: Split) -> list[tuple[Path, int]]:
    return [(f, k) for k, cls in enumerate(split.classes) for f in split.files[cls]]


def _limit(items: list[tuple[Path, int]], per_class: int | None, seed: int) -> list[tuple[Path, int]]:
    if per_class is None:
        return items
    rng = np.random.default_rng(seed)
    out: list[tuple[Path, int]] = []
    for k in sorted({c for _, c in items}):
        mine = [it for it in items if it[1] == k]
        out += [mine[i] for i in sorted(rng.permutation(len(mine))[:per_class])]
    return out


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        return
    try:
        os.link(src, dest)
    except OSError:  # another file system, or links not allowed: a copy
        shutil.copyfile(src, dest)


def prepare_imagefolder(name: str, source: Path, cache_dir: Path,
                        settings: ImageFolderSettings = ImageFolderSettings(),
                        secret: HiddenSecret | None = None) -> PreparedImages:
    """Read the tree under `source`, write the student tree, decode the hidden split (once) and
    serve it in the batch's secret order with its noise (`secret`: default, the one kept in
    `cache_dir`)."""
    cache_dir = cache_dir.resolve()
    secret = secret or batch_secret(cache_dir)
    root = find_root(source.resolve(), settings.train)
    key, splits = _listing(root, settings)
    classes = _check_classes(splits, settings, root)
    train = _limit(_flat(splits[settings.train]), settings.train_limit, settings.seed)
    if settings.hidden:
        kept, hidden = _flat(splits[settings.validation]), _flat(splits[settings.hidden])
    else:
        kept, hidden = _hold_out(splits[settings.validation], settings.hidden_share, settings.seed)
    order = np.random.default_rng(settings.seed + 1).permutation(len(hidden))  # class order would leak labels
    hidden = [hidden[i] for i in order]
    entry = cache_dir / f"{name}-{key}"
    student = entry / "student"
    if not (entry / "COMPLETE").is_file():
        for part, items in ((settings.train, train), (settings.validation, kept)):
            for path, k in items:
                _link(path, student / part / classes[k] / path.name)
        (entry / "COMPLETE").write_text(f"{len(train)} train, {len(kept)} validation\n", encoding="utf-8")
    size = _decode_side([p for p, _ in hidden], settings.size)
    if size != settings.size:
        settings = dataclasses.replace(settings, size=size)
    decoded = decode_once([p for p, _ in hidden], settings.size, cache_dir / "decoded", settings.fit)
    served = entry / f"served-{secret.tag}" / "images.npy"
    labels_path = entry / "parent" / f"labels-{secret.tag}.npy"
    if not (served.is_file() and labels_path.is_file()):
        labels = serve_hidden(decoded.load(mmap=True), np.asarray([k for _, k in hidden], dtype=np.int64), secret,
                              f"images|{name}", served)
        labels_path.parent.mkdir(parents=True, exist_ok=True)
        np.save(labels_path, labels, allow_pickle=False)
    fmt_items = _limit(kept, max(1, settings.format_images // max(1, len(classes))), settings.seed + 2)
    fmt_x, fmt_y = _decoded_with_labels(fmt_items, settings, cache_dir, entry / "format")
    train_x = train_y = None
    if settings.retrain_images:
        train_x, train_y = _decoded_with_labels(_limit(train, settings.retrain_images, settings.seed + 3),
                                                settings, cache_dir, entry / "retrain")
    digest = hashlib.sha256(f"{key}|{decoded.key}|{secret.tag}".encode()).hexdigest()
    return PreparedImages(name=name, root=entry, student_dir=student, hidden=decoded, served=served,
                          format_images=fmt_x,
                          format_labels=fmt_y, labels_path=labels_path, classes=classes, source=root,
                          digest=digest, n_train=len(train), n_validation=len(kept), n_hidden=len(hidden),
                          train_images=train_x, train_labels=train_y)


def _decode_side(files: list[Path], size: int) -> int:
    """`size`, or the images' own side when they are all squares smaller than that (no upsampling:
    a student's Resize then works from the original pixels, as it would on the files)."""
    from PIL import Image

    sides = set()
    for path in files:
        try:
            with Image.open(path) as img:  # reads the header only
                sides.add(img.size)
        except OSError:
            return size
        if len(sides) > 1:
            return size
    (w, h), = sides or {(size, size)}
    return w if w == h and w < size else size


def _decoded_with_labels(items: list[tuple[Path, int]], settings: ImageFolderSettings, cache_dir: Path,
                         folder: Path) -> tuple[Path, Path]:
    """Decoded images (a cache entry) and their labels beside them (labels the student may see)."""
    decoded = decode_once([p for p, _ in items], settings.size, cache_dir / "decoded", settings.fit)
    folder.mkdir(parents=True, exist_ok=True)
    labels = folder / f"labels-{decoded.key}.npy"
    np.save(labels, np.asarray([k for _, k in items], dtype=np.int64), allow_pickle=False)
    return decoded.path, labels
