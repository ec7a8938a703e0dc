"""A graded student's notebook as the review page shows it: the cells they handed in, with the
outputs their run produced.

Read from the batch folder: ``.entries.json`` (written by grading) names each student's entry
file, and ``<folder>/run/executed.ipynb`` holds the student's code cells with their outputs (the
sandbox wrote it: it is untrusted data, parsed defensively and capped). Markdown cells come only
from the entry file; when that has moved, the executed notebook's code cells are shown alone.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.grading import ENTRIES_FILE
from grader.report.batch import student_folders
from grader.report.html import strip_ansi
from grader_inside.notebook import Cell, notebook_cells, read_cells

logger = logging.getLogger(__name__)

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_TEXT = 20_000  # characters of one output shown
MAX_OUTPUTS = 50  # outputs of one cell shown
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_STUDENT_CELL = re.compile(r"student-(\d+)")
_FIGURE = re.compile(r"fig\d{1,4}\.png")
MAX_FIGURES = 60
MAX_FIGURE_BYTES = 5 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

OutputKind = Literal["text", "stderr", "error", "image", "omitted"]
Where = Literal["submission", "executed", "none"]


@dataclass(frozen=True)
class Output:
    kind: OutputKind
    text: str = ""  # text, or the mime types left out ("omitted")
    mime: str = ""  # images
    data: str = ""  # images: base64

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{self.data}"


@dataclass(frozen=True)
class NotebookCell:
    kind: Literal["code", "markdown"]
    number: int  # among the cells of its kind, as reports count them
    source: str
    outputs: tuple[Output, ...] = ()
    attachments: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (mime, base64)


@dataclass(frozen=True)
class StudentNotebook:
    cells: tuple[NotebookCell, ...]
    where: Where  # where the cells come from
    entry: str = ""  # the entry file's path, when known


def student_entries(out_dir: Path) -> dict[str, Path]:
    """Student -> the entry file grading ran, as the grading run recorded it."""
    try:
        data = json.loads((out_dir / ENTRIES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): Path(str(v)) for k, v in data.items()} if isinstance(data, dict) else {}


def _read_json(path: Path) -> Any:
    if not path.is_file() or path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        logger.warning("%s is not readable JSON; its cells are not shown", path)
        return None


def _text(value: Any) -> str:
    text = "".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    text = strip_ansi(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n…"


def _image(mime: str, value: Any) -> Output | None:
    data = re.sub(r"\s+", "", _text(value) if not isinstance(value, str) else value)
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return Output("image", mime=mime, data=data) if data else None


def _output(raw: Any) -> Output | None:
    if not isinstance(raw, dict):
        return None
    kind = raw.get("output_type")
    if kind == "stream":
        return Output("stderr" if raw.get("name") == "stderr" else "text", _text(raw.get("text")))
    if kind == "error":
        trace = _text(raw.get("traceback"))
        return Output("error", trace or f"{_text(raw.get('ename'))}: {_text(raw.get('evalue'))}")
    if kind in ("execute_result", "display_data"):
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        for mime in IMAGE_TYPES:
            if mime in data and (image := _image(mime, data[mime])) is not None:
                return image
        if "text/plain" in data:
            return Output("text", _text(data["text/plain"]))
        if data:  # HTML, JavaScript, widgets: never rendered from a student's run
            return Output("omitted", ", ".join(sorted(str(k) for k in data))[:200])
    return None


def executed_outputs(path: Path) -> dict[int, tuple[Output, ...]]:
    """Code cell number -> its outputs, from the run's executed notebook."""
    nb = _read_json(path)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return {}
    found: dict[int, tuple[Output, ...]] = {}
    for raw in nb["cells"]:
        match = _STUDENT_CELL.fullmatch(str(raw.get("id", ""))) if isinstance(raw, dict) else None
        if match and isinstance(raw.get("outputs"), list):
            outs = (_output(o) for o in raw["outputs"][:MAX_OUTPUTS])
            found[int(match.group(1))] = tuple(o for o in outs if o is not None)
    return found


def run_figures(run_dir: Path) -> dict[int, tuple[Output, ...]]:
    """Code cell number -> the plots captured while it ran (``figures.json`` + ``figN.png``):
    the sandbox draws them with a non-interactive backend, so they are not in the notebook's
    outputs. Only PNG files named as the capture names them, inside the run folder, are read."""
    listed = _read_json(run_dir / "figures.json")
    found: dict[int, list[Output]] = {}
    for entry in listed[:MAX_FIGURES] if isinstance(listed, list) else ():
        name, cell = (entry.get("png"), entry.get("cell")) if isinstance(entry, dict) else (None, None)
        path = run_dir / str(name)
        if not isinstance(cell, int) or not isinstance(name, str) or not _FIGURE.fullmatch(name) \
                or path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
            continue
        data = path.read_bytes()
        if data.startswith(PNG_SIGNATURE):
            found.setdefault(cell, []).append(Output("image", mime="image/png",
                                                     data=base64.b64encode(data).decode("ascii")))
    return {cell: tuple(outs) for cell, outs in found.items()}


def _attachments(raw: Any) -> dict[str, tuple[str, str]]:
    found = {}
    items = raw.get("attachments") if isinstance(raw, dict) else None
    for name, bundle in (items or {}).items() if isinstance(items, dict) else ():
        for mime in IMAGE_TYPES:
            if isinstance(bundle, dict) and mime in bundle and (image := _image(mime, bundle[mime])) is not None:
                found[str(name)] = (mime, image.data)
                break
    return found


def _entry_cells(entry: Path) -> list[tuple[Cell, dict[str, tuple[str, str]]]] | None:
    """The entry's cells with their markdown attachments, or None when it cannot be read."""
    if not entry.is_file() or entry.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None
    try:
        if entry.suffix.lower() != ".ipynb":
            return [(c, {}) for c in read_cells(entry)]
        nb = _read_json(entry)
        cells = notebook_cells(nb)
    except (OSError, ValueError):
        return None
    raws = [r for r in nb["cells"] if isinstance(r, dict) and r.get("cell_type") in ("code", "markdown")]
    return [(c, _attachments(r) if c.kind == "markdown" else {}) for c, r in zip(cells, raws)]


def _joined(value: Any) -> str:
    return "".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def executed_code(path: Path) -> list[Cell]:
    """The student's code cells as the run's executed notebook holds them."""
    nb = _read_json(path)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return []
    cells = []
    for raw in nb["cells"]:
        match = _STUDENT_CELL.fullmatch(str(raw.get("id", ""))) if isinstance(raw, dict) else None
        if match:
            cells.append(Cell("code", _joined(raw.get("source")), int(match.group(1))))
    return cells


def student_notebook(out_dir: Path, student: str, folder: str | None = None,
                     entries: Mapping[str, Path] | None = None) -> StudentNotebook:
    """The student's cells (source, outputs) for the review page."""
    folder = folder or student_folders(out_dir).get(student, student)
    executed = out_dir / folder / "run" / "executed.ipynb"
    outputs = executed_outputs(executed)
    for cell, figures in run_figures(out_dir / folder / "run").items():
        outputs[cell] = outputs.get(cell, ()) + figures
    entry = (student_entries(out_dir) if entries is None else entries).get(student)
    found = _entry_cells(entry) if entry is not None else None
    if found is not None:
        cells = tuple(NotebookCell(c.kind, c.number, c.source, outputs.get(c.number, ()) if c.kind == "code" else (),
                                   attachments) for c, attachments in found)
        return StudentNotebook(cells, "submission", str(entry))
    code = executed_code(executed)
    where: Where = "executed" if code else "none"
    return StudentNotebook(tuple(NotebookCell("code", c.number, c.source, outputs.get(c.number, ())) for c in code),
                           where, str(entry or ""))


def student_cells(out_dir: Path, student: str, folder: str | None = None,
                  entries: Mapping[str, Path] | None = None) -> list[Cell]:
    """The student's cells for similarity: the entry file's, else the executed notebook's code."""
    folder = folder or student_folders(out_dir).get(student, student)
    entry = (student_entries(out_dir) if entries is None else entries).get(student)
    found = _entry_cells(entry) if entry is not None else None
    if found is not None:
        return [cell for cell, _ in found]
    return executed_code(out_dir / folder / "run" / "executed.ipynb")
