"""Choosing a submission's entry notebook or script, and checking that it can be run.

Among several candidates the order of preference is: a name matching the caller's hints, the
rubric's pattern order (notebooks before scripts), not a draft (``Untitled*``) or helper
(``__init__.py``, ``setup.py``), readable, the most code, the shallowest path, then the name.
"""
from __future__ import annotations

import fnmatch
import io
import json
import logging
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grader import jsonbudget
from grader.i18n import Text, joined, msg

logger = logging.getLogger(__name__)

_HELPER_SCRIPTS = {"__init__.py", "setup.py", "conftest.py", "__main__.py"}
_APP_STEMS = {"app", "server", "api", "serve", "application", "wsgi", "asgi", "gradio_app"}
_MAX_LISTED = 6
_SNIFF_BYTES = 8192
# The grader reads the entry whole (to check it, and for static checks). Notebooks with many
# embedded plots reach tens of MB; beyond this it is data, not work, and not read into memory.
MAX_ENTRY_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class EntryChoice:
    """The chosen entry (None when there is no candidate) and the notes explaining the choice."""

    entry: Path | None
    candidates: tuple[Path, ...]
    notes: tuple[Text, ...]


@dataclass(frozen=True)
class EntryCheck:
    """Whether an entry can be run: `error` is a message for the student, or None.

    `upgraded` holds the notebook converted to nbformat 4 when the file was in format 3.
    """

    error: Text | None
    upgraded: Any | None = None
    old_version: int | None = None


def _matches(rel: PurePosixPath, pattern: str) -> bool:
    target = str(rel) if "/" in pattern else rel.name
    return fnmatch.fnmatch(target.casefold(), pattern.casefold())


def first_match(rel: PurePosixPath, patterns: Sequence[str]) -> int | None:
    for i, pattern in enumerate(patterns):
        if _matches(rel, pattern):
            return i
    return None


def is_checkpoint(rel: PurePosixPath) -> bool:
    """A Jupyter autosave copy (``x-checkpoint.ipynb``), never the work."""
    return rel.stem.casefold().endswith("-checkpoint")


def _is_app(rel: PurePosixPath) -> bool:
    """A web app or API server (app.py, mnist_app.py, server.py ...): graded by running it as an
    app (grader.families.apps), never the notebook to execute when the work is there too."""
    if rel.suffix.casefold() != ".py":
        return False
    stem = rel.stem.casefold()
    return stem in _APP_STEMS or stem.endswith(("_app", "_api", "_server")) or stem.startswith("app_")


def _is_draft(rel: PurePosixPath) -> bool:
    name = rel.name.casefold()
    return name.startswith("untitled") or name in _HELPER_SCRIPTS


def count_code_lines(path: Path) -> int | None:
    """Non-blank code lines in a notebook's code cells or a script; None if unreadable."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\0" in raw[:_SNIFF_BYTES]:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if path.suffix.casefold() != ".ipynb":
        return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))
    try:
        data = jsonbudget.loads(text, jsonbudget.NOTEBOOK)
    except (ValueError, jsonbudget.JsonBudgetError):
        return None
    if not isinstance(data, dict):
        return None
    cells = data.get("cells")
    if cells is None:  # nbformat 3 keeps cells in worksheets, code in "input"
        sheets = data.get("worksheets")
        cells = [c for ws in sheets if isinstance(ws, dict) for c in ws.get("cells", [])] if isinstance(sheets, list) else None
    if not isinstance(cells, list):
        return None
    lines = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        lines += sum(1 for line in str(source).splitlines() if line.strip())
    return lines


def choose_entry(
    files: Sequence[Path],
    files_root: Path,
    patterns: Sequence[str],
    hints: Sequence[str],
    lang: str,
) -> EntryChoice:
    """Pick the entry among `files` (all under `files_root`)."""
    ranked: list[tuple[tuple[Any, ...], Path, PurePosixPath]] = []
    for path in files:
        rel = PurePosixPath(path.relative_to(files_root).as_posix())
        pattern_rank = first_match(rel, patterns)
        if pattern_rank is None or is_checkpoint(rel):
            continue
        hint_rank = first_match(rel, hints)
        code = count_code_lines(path)
        key = (
            _is_app(rel),
            hint_rank if hint_rank is not None else len(hints),
            pattern_rank,
            _is_draft(rel),
            code is None,
            -(code or 0),
            len(rel.parts),
            str(rel).casefold(),
            str(rel),
        )
        ranked.append((key, path, rel))
    if not ranked:
        return EntryChoice(entry=None, candidates=(), notes=())
    ranked.sort(key=lambda item: item[0])
    best_key, best, best_rel = ranked[0]
    candidates = tuple(path for _, path, _ in ranked)
    if len(ranked) == 1:
        return EntryChoice(entry=best, candidates=candidates, notes=())
    reason = _reason(best_key, ranked[1][0], lang)
    names = [str(rel) for _, _, rel in ranked]
    more = [msg("intake.and_more", count=len(names) - _MAX_LISTED)] if len(names) > _MAX_LISTED else []
    listed = joined([", ".join(names[:_MAX_LISTED]), *more], "")
    note = msg("intake.several_candidates", count=len(names), names=listed, chosen=str(best_rel), reason=reason)
    return EntryChoice(entry=best, candidates=candidates, notes=(note,))


def _reason(best: tuple[Any, ...], second: tuple[Any, ...], lang: str) -> Text:
    keys = ("not_app", "hint", "pattern", "draft", "readable", "more_code", "shallower", "name", "name")
    for key, a, b in zip(keys, best, second):
        if a != b:
            return msg(f"intake.reason.{key}")
    return msg("intake.reason.name")


def check_entry(path: Path, display: str, lang: str) -> EntryCheck:
    """Whether the entry is a runnable notebook or script; `display` names it for the student."""
    try:
        size = path.stat().st_size
        if size > MAX_ENTRY_BYTES:
            return EntryCheck(error=msg("intake.entry_too_big", name=display, size_mb=round(size / 2**20),
                                       limit_mb=MAX_ENTRY_BYTES / 2**20))
        raw = path.read_bytes()
    except OSError as exc:
        return EntryCheck(error=msg("intake.unreadable", name=display, detail=str(exc)))
    if not raw.strip():
        return EntryCheck(error=msg("intake.file_empty", name=display))
    is_notebook = path.suffix.casefold() == ".ipynb"
    kind = _sniff_binary(raw)
    if kind is not None:
        key = "intake.nb_not_notebook_binary" if is_notebook else "intake.script_binary"
        return EntryCheck(error=msg(key, name=display, kind=msg(f"intake.kind.{kind}")))
    encoding = "utf-8-sig"
    if not is_notebook:
        try:  # a script may declare its encoding (# -*- coding: cp1251 -*-), as Python allows
            encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        except SyntaxError:
            pass
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return EntryCheck(error=msg("intake.not_utf8", name=display, detail=str(exc)))
    if not is_notebook:
        return EntryCheck(error=None)
    return _check_notebook_text(text, display, lang)


def _sniff_binary(raw: bytes) -> str | None:
    head = raw[:_SNIFF_BYTES]
    stripped = head.lstrip().lower()
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    if stripped.startswith(b"<!doctype html") or stripped.startswith(b"<html"):
        return "html"
    if b"\0" in head:
        return "binary"
    return None


def _check_notebook_text(text: str, display: str, lang: str) -> EntryCheck:
    try:
        data = jsonbudget.loads(text, jsonbudget.NOTEBOOK, display)
    except jsonbudget.JsonBudgetError as exc:
        return EntryCheck(error=msg("intake.nb_too_complex", name=display, detail=str(exc)))
    except json.JSONDecodeError as exc:
        return EntryCheck(
            error=msg("intake.nb_bad_json", name=display, line=exc.lineno, col=exc.colno, detail=exc.msg)
        )
    if not isinstance(data, dict):
        return EntryCheck(error=msg("intake.nb_not_notebook_json", name=display))
    version = data.get("nbformat")
    if "cells" not in data and "worksheets" not in data:
        return EntryCheck(error=msg("intake.nb_not_notebook_json", name=display))
    if isinstance(version, int) and version >= 4 or (version is None and "cells" in data):
        if not isinstance(data.get("cells"), list):
            return EntryCheck(error=msg("intake.nb_not_notebook_json", name=display))
        return EntryCheck(error=None)
    # An old notebook (nbformat 3 keeps cells in worksheets): let nbformat upgrade it.
    shown = version if isinstance(version, int) else "?"
    import nbformat  # only here: with jsonschema it is 50 ms of every batch's start

    try:
        upgraded = nbformat.reads(text, as_version=4)
        if not isinstance(upgraded.get("cells"), list):
            raise ValueError("no cells after conversion")
    except Exception as exc:  # nbformat raises assorted errors for malformed old notebooks
        logger.info("could not upgrade %s from nbformat %s: %s", display, shown, exc)
        return EntryCheck(
            error=msg("intake.nb_old_format", name=display, version=shown, detail=str(exc) or type(exc).__name__),
            old_version=version if isinstance(version, int) else None,
        )
    return EntryCheck(error=None, upgraded=upgraded, old_version=version if isinstance(version, int) else None)
