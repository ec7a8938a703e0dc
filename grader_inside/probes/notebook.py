"""Task 2 notebook probe: effects of the student's code that the static checks cannot see.

Runs inside the kernel after the student's cells and returns plain data only:
    files     files written while the notebook ran (saved models, TensorBoard events, WandB runs)
    loaders   DataLoaders / Datasets in the namespace and the class names in their transforms
    keras     Keras models and the class names of their layers
    generators  ImageDataGenerator objects and their augmentation settings
Nothing is loaded or called: only attributes are read.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_FILES = 300
MAX_SCANNED = 20000
MAX_DEPTH = 5
MAX_OBJECTS = 50
_GENERATOR_ARGS = ("rotation_range", "width_shift_range", "height_shift_range", "shear_range",
                   "zoom_range", "horizontal_flip", "vertical_flip", "brightness_range",
                   "channel_shift_range")
_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "site-packages", "proc", "sys"}


def new_files(roots: list[Path], since: float, skip: Path | None = None) -> list[dict[str, Any]]:
    """Files under `roots` modified at or after `since` (newest first, capped)."""
    found: list[dict[str, Any]] = []
    scanned = 0
    seen: set[Path] = set()
    listed: set[Path] = set()
    for root in roots:
        try:
            root = root.resolve()
        except OSError:
            continue
        if root in seen or not root.is_dir():
            continue
        seen.add(root)
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            depth = len(here.relative_to(root).parts)
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")
                           and depth < MAX_DEPTH and (skip is None or (here / d).resolve() != skip)]
            for name in filenames:
                scanned += 1
                if scanned > MAX_SCANNED:
                    return _newest(found)
                path = here / name
                if path in listed:  # the working folder may lie inside /tmp: list each file once
                    continue
                listed.add(path)
                try:
                    st = path.stat()
                except OSError:
                    continue
                if st.st_mtime >= since:
                    found.append({"path": str(path), "name": name, "size": int(st.st_size),
                                  "mtime": st.st_mtime})
    return _newest(found)


def _newest(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(found, key=lambda f: -f["mtime"])[:MAX_FILES]


def transform_names(obj: Any, depth: int = 0) -> list[str]:
    """Class names in a transform pipeline (Compose, RandomApply, nn.Sequential, lists)."""
    if obj is None or depth > 6:
        return []
    names = [type(obj).__name__] if not isinstance(obj, (list, tuple)) else []
    inner = obj if isinstance(obj, (list, tuple)) else getattr(obj, "transforms", None)
    if inner is None and hasattr(obj, "children") and callable(obj.children):
        try:
            inner = list(obj.children())
        except Exception:
            inner = None
    if isinstance(inner, (list, tuple)):
        for item in inner[:50]:
            names.extend(transform_names(item, depth + 1))
    return names


def _dataset_info(name: str, obj: Any) -> dict[str, Any] | None:
    kind = type(obj).__name__
    dataset = obj.dataset if kind == "DataLoader" else obj
    for _ in range(4):  # Subset / ConcatDataset wrappers
        if hasattr(dataset, "transform") or not hasattr(dataset, "dataset"):
            break
        dataset = dataset.dataset
    if not hasattr(dataset, "transform") and not hasattr(dataset, "transforms"):
        return None
    names = transform_names(getattr(dataset, "transform", None) or getattr(dataset, "transforms", None))
    train = getattr(dataset, "train", None)
    return {"name": name, "kind": kind, "dataset": type(dataset).__name__, "transforms": names,
            "train": train if isinstance(train, bool) else None}


def _layer_names(model: Any, depth: int = 0) -> list[str]:
    out: list[str] = []
    for layer in list(getattr(model, "layers", []) or [])[:200]:
        out.append(type(layer).__name__)
        if depth < 3 and getattr(layer, "layers", None):
            out.extend(_layer_names(layer, depth + 1))
    return out


def objects(namespace: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    loaders: list[dict[str, Any]] = []
    keras: list[dict[str, Any]] = []
    generators: list[dict[str, Any]] = []
    torch_data = sys.modules.get("torch.utils.data")
    for name, obj in list(namespace.items()):
        if name.startswith("_") or isinstance(obj, type):
            continue
        cls = type(obj)
        module = getattr(cls, "__module__", "") or ""
        try:
            if torch_data is not None and isinstance(obj, (torch_data.DataLoader, torch_data.Dataset)):
                info = _dataset_info(name, obj)
                if info is not None and len(loaders) < MAX_OBJECTS:
                    loaders.append(info)
            elif cls.__name__ == "ImageDataGenerator" and len(generators) < MAX_OBJECTS:
                settings = {a: getattr(obj, a, None) for a in _GENERATOR_ARGS}
                generators.append({"name": name, "settings": {k: _plain(v) for k, v in settings.items()}})
            elif module.startswith(("keras", "tf_keras", "tensorflow")) and hasattr(obj, "layers") \
                    and len(keras) < MAX_OBJECTS:
                keras.append({"name": name, "class": cls.__name__, "layers": _layer_names(obj)})
        except Exception:  # an odd object must not stop the probe
            logger.debug("could not describe %s", name, exc_info=True)
    return {"loaders": loaders, "keras": keras, "generators": generators}


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value][:10]
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)[:60]


def collect(namespace: dict[str, Any], session: Any) -> dict[str, Any]:
    started = float(getattr(session, "started", 0.0))
    outbox = Path(session.outbox).resolve()
    roots = [Path.cwd(), Path("/content"), Path(tempfile.gettempdir())]
    out: dict[str, Any] = {"cwd": str(Path.cwd()), "started": started,
                           "files": new_files(roots, started, skip=outbox) if started else []}
    out.update(objects(namespace))
    return out
