"""Pretrained weights from the grader's --weights folder, never from the network.

The grader mounts the instructor's weights folder read-only as `$TORCH_HOME/hub/checkpoints` and
`$KERAS_HOME/models`, so `models.resnet18(weights="IMAGENET1K_V1")`, `pretrained=True` and
`keras.applications.ResNet50(weights="imagenet")` find their files there. A file that is not
there would be downloaded: instead the download raises PretrainedWeightsMissing, which names the
file, and the name is written to <outbox>/weights_missing.txt for the instructor. Every file the
student's code loads is written to <outbox>/weights_used.txt (the transfer-learning check compares
the model with it).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from grader_offline import log

MISSING_FILE = "weights_missing.txt"
USED_FILE = "weights_used.txt"


class PretrainedWeightsMissing(FileNotFoundError):
    """The pretrained weights file is not in the grader's weights folder (no network to fetch it)."""


def _append(name: str, line: str) -> None:
    outbox = log.outbox()
    if outbox is None:
        return
    try:
        with (outbox / name).open("a", encoding="utf-8") as fh:
            fh.write(line.replace("\n", " ")[:500] + "\n")
    except OSError:
        pass


def missing(file_name: str, url: str) -> PretrainedWeightsMissing:
    _append(MISSING_FILE, f"{file_name}\t{url}")
    log.used(f"pretrained weights {file_name} requested but not on the grader")
    return PretrainedWeightsMissing(
        f"Pretrained weights {file_name!r} ({url}) are not on the grader, which has no network. "
        f"This is not your mistake: the instructor must put {file_name} into the grader's --weights folder.")


def used(path: str | os.PathLike[str]) -> None:
    _append(USED_FILE, str(path))


# -- PyTorch --------------------------------------------------------------------------------
def _download_url_to_file(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
    raise missing(Path(dst).name, url)


def _recording(load: Any) -> Any:
    @functools.wraps(load)
    def load_state_dict_from_url(url: str, model_dir: str | None = None, *args: Any, **kwargs: Any) -> Any:
        import torch.hub

        name = kwargs.get("file_name") or os.path.basename(urlparse(url).path)
        folder = model_dir or os.path.join(torch.hub.get_dir(), "checkpoints")
        result = load(url, model_dir, *args, **kwargs)  # raises PretrainedWeightsMissing for a missing file
        used(os.path.join(folder, name))
        return result

    load_state_dict_from_url._grader_shim = True  # type: ignore[attr-defined]
    return load_state_dict_from_url


def patch_torch_hub(hub: ModuleType) -> None:
    if getattr(getattr(hub, "load_state_dict_from_url", None), "_grader_shim", False):
        return
    hub.download_url_to_file = _download_url_to_file  # type: ignore[attr-defined]
    hub.load_state_dict_from_url = _recording(hub.load_state_dict_from_url)  # type: ignore[attr-defined]


def patch_torchvision_api(module: ModuleType) -> None:
    """torchvision imported `load_state_dict_from_url` by name: wrap its own reference too."""
    original = getattr(module, "load_state_dict_from_url", None)
    if original is not None and not getattr(original, "_grader_shim", False):
        module.load_state_dict_from_url = _recording(original)  # type: ignore[attr-defined]


# -- Keras ----------------------------------------------------------------------------------
def patch_keras_files(module: ModuleType) -> None:
    original = getattr(module, "get_file", None)
    if original is None or getattr(original, "_grader_shim", False):
        return

    @functools.wraps(original)
    def get_file(fname: str | None = None, origin: str | None = None, *args: Any, **kwargs: Any) -> Any:
        subdir = kwargs.get("cache_subdir", args[5] if len(args) > 5 else "datasets")
        if subdir != "models" or not origin:
            return original(fname, origin, *args, **kwargs)
        name = fname or os.path.basename(urlparse(origin).path)
        path = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models" / name
        if not path.is_file():
            raise missing(name, origin)
        used(path)
        return str(path)

    get_file._grader_shim = True  # type: ignore[attr-defined]
    module.get_file = get_file  # type: ignore[attr-defined]


HOOKS = {"torch.hub": patch_torch_hub, "torchvision.models._api": patch_torchvision_api,
         "keras.src.utils.file_utils": patch_keras_files}
