"""Kaggle datasets served from the grader's data, for `od.download(...)` and the Kaggle API.

The grader passes the datasets it holds in GRADER_KAGGLE_DATASETS (JSON: "owner/name" ->
{"path": folder inside the sandbox, "folder": top folder name in Kaggle's archive}). A download
call makes `<destination>/<folder>` a link to that read-only folder, which is where the student's
code looks after unzipping (`./animal-faces/afhq/train`, `./afhq/train`). Nothing is fetched.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

from grader_offline.log import used

ENV = "GRADER_KAGGLE_DATASETS"


class DatasetNotServed(FileNotFoundError):
    """A dataset the grader holds no copy of (there is no network to download it)."""


def served() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(os.environ.get(ENV, "") or "{}")
    except ValueError:
        return {}
    return {str(k).lower(): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def slug_of(ref: str) -> str:
    """'owner/name' from a Kaggle URL (…/datasets/owner/name, …/owner/name) or an 'owner/name' id."""
    text = str(ref).strip()
    parts = [p for p in (urlparse(text).path if "://" in text or text.startswith("www.") else text).split("/") if p]
    if parts and parts[0] in ("datasets", "d"):
        parts = parts[1:]
    if parts and "kaggle.com" in parts[0]:
        parts = parts[1:] if parts[1:2] != ["datasets"] else parts[2:]
    return "/".join(parts[:2]).lower()


def provide(ref: str, destination: str | os.PathLike[str] | None, how: str) -> Path:
    """Make the dataset appear under `destination` (default: the working folder); returns the link."""
    slug = slug_of(ref)
    entry = served().get(slug)
    if entry is None:
        held = ", ".join(sorted(served())) or "none"
        raise DatasetNotServed(f"The grader has no network and no copy of the dataset {ref!r} "
                               f"(it serves: {held}). Read the data from the folder the assignment names.")
    dest = Path(destination or ".")
    dest.mkdir(parents=True, exist_ok=True)
    link = dest / entry.get("folder", slug.split("/")[-1])
    if not os.path.lexists(link):
        link.symlink_to(entry["path"], target_is_directory=True)
    used(f"{how}({ref!r}): served from the grader's copy at {link} (no download)")
    return link
