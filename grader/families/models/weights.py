"""The offline pretrained weights (HW 3) and what a run says about them: the `--weights` folder
laid out for the torch hub and Keras caches, the files a run asked for and did not get, data
paths that were not served, and the models probe's remarks on input pipelines.

Nothing here imports torch: the comparisons with the pretrained files run inside the sandbox
(grader_inside/probes/transfer.py) and come back as plain JSON.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.artifacts import Records
from grader.families.models import MISSING_WEIGHTS
from grader.families.models.artifacts import models_json
from grader.sandbox import Mount

WEIGHT_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt", ".bin", ".h5", ".keras", ".safetensors")
USED_FILE = "weights_used.txt"
MAX_LINES = 50


@dataclass(frozen=True)
class WeightsFolder:
    """The instructor's pretrained weights, laid out as the torch hub and Keras caches expect.

    TORCH_HOME/hub/checkpoints and KERAS_HOME/models are the `--weights` folder: mounted there
    read-only in bubblewrap, and symbolic links on the grader's disk for a plain process.
    """

    source: Path | None
    torch_home: Path
    keras_home: Path
    files: tuple[str, ...]

    @property
    def checkpoints(self) -> Path:
        return self.torch_home / "hub" / "checkpoints"

    @property
    def digest(self) -> str:
        return folder_digest(self.source) if self.source is not None else "none"

    def env(self) -> dict[str, str]:
        return {"TORCH_HOME": str(self.torch_home), "KERAS_HOME": str(self.keras_home),
                "GRADER_WEIGHTS_DIR": str(self.checkpoints)}

    def mounts(self) -> tuple[Mount, ...]:
        if self.source is None:
            return ()
        return (Mount(self.source, str(self.checkpoints)), Mount(self.source, str(self.keras_home / "models")))


def folder_digest(folder: Path) -> str:
    """Changes when a file in `folder` is added, removed or replaced (a re-run then grades again)."""
    h = hashlib.sha256(str(folder.resolve()).encode())
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        entries = []
    for path in entries:
        st = path.stat()
        h.update(f"{path.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def prepare_weights(source: Path | None, cache_dir: Path) -> WeightsFolder:
    """The caches' folders under `cache_dir` (links to `source` for a plain process)."""
    base = cache_dir.resolve() / "weights"
    key = hashlib.sha256(str(source.resolve() if source else "none").encode()).hexdigest()[:12]
    torch_home, keras_home = base / key / "torch", base / key / "keras"
    files: tuple[str, ...] = ()
    if source is not None:
        source = source.resolve()
        files = tuple(sorted(p.name for p in source.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)))
    for home, sub in ((torch_home / "hub", "checkpoints"), (keras_home, "models")):
        home.mkdir(parents=True, exist_ok=True)
        link = home / sub
        if source is None:
            link.mkdir(exist_ok=True)
        elif not link.is_symlink():
            link.symlink_to(source, target_is_directory=True)
    return WeightsFolder(source, torch_home, keras_home, files)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines()[:MAX_LINES] if ln.strip()]


def missing_weights(outbox: Path) -> tuple[str, ...]:
    """Weight files the student's code asked for that the grader does not have (file names only)."""
    return missing_in(_text(outbox / MISSING_WEIGHTS))


def missing_in(text: str) -> tuple[str, ...]:
    """The weight files named in the weights shim's record (`text`: that file's content)."""
    names = []
    for line in _lines(text):
        name = line.split("\t", 1)[0]
        if re.fullmatch(r"[\w.+-]{1,200}", name) and name not in names:
            names.append(name)
    return tuple(names)


def used_weights(outbox: Path) -> tuple[str, ...]:
    return tuple(dict.fromkeys(Path(line).name for line in _lines(_text(outbox / USED_FILE))))


_NOT_FOUND = re.compile(r"(?:No such file or directory|Couldn't find any class folder in|"
                        r"Found no valid file for the classes .*? in|does not exist)[:\s]*['\"]?([^'\"\n]+?)['\"]?\s*(?:\.|$)",
                        re.MULTILINE)


def unserved_paths(errors: Sequence[str], data_words: Sequence[str]) -> list[str]:
    """Paths in the student's errors (FileNotFoundError, ImageFolder's "no class folder") that look
    like a dataset path (name one of `data_words`, e.g. afhq, train, val), first ones first."""
    found: list[str] = []
    for text in errors:
        for m in _NOT_FOUND.finditer(text):
            path = m.group(1).strip().rstrip(".,;:")
            if not path or path in found or path.endswith(WEIGHT_SUFFIXES):
                continue
            if any(word.lower() in path.lower() for word in data_words):
                found.append(path)
    return found[:3]


def batch_missing_weights(out_dir: Path, folders: dict[str, str]) -> dict[str, list[str]]:
    """Missing weight file -> the students whose runs asked for it (once per batch, for the summary)."""
    found: dict[str, list[str]] = {}
    for student, folder in sorted(folders.items()):
        for name in missing_weights(out_dir / folder / "run"):
            found.setdefault(name, []).append(student)
    return found


def transform_notes(records: Records) -> list[tuple[str, str, str]]:
    """(model, input pipeline, remark) for the evaluation remarks the models probe made (random
    augmentation left out, a transform applied to PIL images one by one), from the run's
    models.json as the pipeline read it for the checks."""
    data = models_json(records)[0] or {}
    out = []
    for rec in data.get("models", []):
        transform = rec.get("transform") if isinstance(rec, dict) else None
        if isinstance(transform, dict):
            for note in transform.get("notes") or []:
                out.append((str(rec.get("name", "?"))[:80], str(transform.get("label", "?"))[:120], str(note)[:200]))
    return out[:6]
