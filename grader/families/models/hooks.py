"""The models family's hooks (grader/family.py): the batch's set-up and its part of the cache key."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.families.models.setup import ModelsSetup, prepare_setup
from grader.families.models.weights import folder_digest
from grader.rubric import Rubric


def prepare(rubric: Rubric, options: Mapping[str, Any], cache_dir: Path) -> ModelsSetup | None:
    """The datasets and models evaluation of the rubric, once per batch."""
    return prepare_setup(rubric, options.get("data") or {}, options.get("device", "auto"), cache_dir,
                         retrain=bool(options.get("retrain")), weights=options.get("weights"))


def cache_parts(options: Mapping[str, Any]) -> list[str]:
    """A changed dataset, device choice, retraining or weights folder grades again."""
    parts = []
    data = options.get("data") or {}
    device = options.get("device", "auto")
    if data or device != "auto" or options.get("retrain"):
        parts.append(repr(sorted((k, str(v)) for k, v in data.items())) + device
                     + ("+retrain" if options.get("retrain") else ""))
    if options.get("weights") is not None:  # a file added to the folder re-grades
        parts.append(folder_digest(options["weights"]))
    return parts
