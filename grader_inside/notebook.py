"""Reading a student's notebook or script as cells, and neutralising Colab-isms.

Plain text handling only: nothing here executes student code, so the grader's own process may
use it (for example to read the source for static checks).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CellKind = Literal["code", "markdown"]

# `# In[3]:` (Jupyter's .py export) and `# %%` (VS Code / Colab / jupytext percent format).
_SCRIPT_CELL = re.compile(r"^#\s*(In\s*\[[^\]]*\]\s*:|%%)(.*)$")
# Shell and package-manager lines that need the network or an installer: skipped offline.
_OFFLINE_SHELL = re.compile(
    r"^(\s*)[!%]\s*(pip3?|conda|mamba|apt(-get)?|wget|curl|gdown|kaggle|git\s+clone|sudo)\b.*$"
)
_MATPLOTLIB_MAGIC = re.compile(r"^(\s*)%\s*(matplotlib|config)\b.*$")
_SKIP_MAGICS = re.compile(r"^(\s*)%\s*(load_ext|reload_ext|autoreload|env|cd|tensorboard)\b.*$")


@dataclass(frozen=True)
class Cell:
    kind: CellKind
    source: str
    number: int  # 1-based position among cells of this kind (code cells: the number reports use)


def read_cells(path: Path) -> list[Cell]:
    """The cells of a notebook (.ipynb) or a script (.py). Raises ValueError if unreadable."""
    if path.suffix.lower() == ".py":
        return split_script(path.read_text(encoding="utf-8", errors="replace"))
    return notebook_cells(json.loads(path.read_text(encoding="utf-8")))


def notebook_cells(nb: dict) -> list[Cell]:
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("not a Jupyter notebook: no list of cells")
    cells: list[Cell] = []
    counts = {"code": 0, "markdown": 0}
    for raw in nb["cells"]:
        if not isinstance(raw, dict):
            continue
        kind = raw.get("cell_type")
        if kind not in counts:
            continue
        src = raw.get("source", "")
        if isinstance(src, list):
            src = "".join(str(s) for s in src)
        counts[kind] += 1
        cells.append(Cell(kind=kind, source=str(src), number=counts[kind]))
    return cells


def split_script(text: str) -> list[Cell]:
    """A script as cells: split at `# In[ ]:` / `# %%` markers (one cell when there are none)."""
    text = text.replace("\r\n", "\n")
    chunks: list[tuple[CellKind, list[str]]] = []
    kind: CellKind = "code"
    lines: list[str] = []
    for line in text.split("\n"):
        m = _SCRIPT_CELL.match(line)
        if m:
            if any(s.strip() for s in lines):
                chunks.append((kind, lines))
            lines = []
            kind = "markdown" if "[markdown]" in m.group(2) else "code"
            continue
        lines.append(line)
    if any(s.strip() for s in lines):
        chunks.append((kind, lines))
    cells: list[Cell] = []
    counts = {"code": 0, "markdown": 0}
    for kind, body in chunks:
        src = "\n".join(body).strip("\n")
        if kind == "markdown":
            src = "\n".join(re.sub(r"^#\s?", "", s) for s in body).strip("\n")
        counts[kind] += 1
        cells.append(Cell(kind=kind, source=src, number=counts[kind]))
    return cells


def neutralise_colab(source: str) -> tuple[str, list[str]]:
    """Replace lines that cannot work offline (installs, downloads, backend magics) with `pass`.

    Returns the new source and the list of lines that were skipped, for the report.
    """
    out: list[str] = []
    skipped: list[str] = []
    for line in source.split("\n"):
        for pattern in (_OFFLINE_SHELL, _MATPLOTLIB_MAGIC, _SKIP_MAGICS):
            m = pattern.match(line)
            if m:
                out.append(f"{m.group(1)}pass  # grader: skipped {line.strip()[:60]!r}")
                skipped.append(line.strip())
                break
        else:
            out.append(line)
    return "\n".join(out), skipped
