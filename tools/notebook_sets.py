"""Write a set of generated notebook submissions with its EXPECTED.yaml grade table.

Shared by the fixture generators (tools/make_*.py): one folder per student holding one notebook
(older notebooks in the folder are removed first), and EXPECTED.yaml with a header comment and,
per student, a note, the status and the expected share of each check's points.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

# student -> (notebook file name, builder, note, {check id: share of its points})
Entries = Mapping[str, tuple[str, Callable[[], object], str, dict[str, float]]]


def write_set(out: Path, entries: Entries, header: str, status: str = "graded",
              statuses: Mapping[str, str] | None = None) -> None:
    """`statuses`: the expected status of students whose run is not simply graded."""
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, object] = {}
    for student, (filename, build, note, checks) in entries.items():
        folder = out / student
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.ipynb"):
            old.unlink()
        nbformat.write(stable_ids(build()), str(folder / filename))
        expected[student] = {"note": note, "status": (statuses or {}).get(student, status), "checks": checks}
    text = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=110)
    (out / "EXPECTED.yaml").write_text(header + text, encoding="utf-8")


def stable_ids(nb: Any) -> Any:
    """Cell ids from each cell's place and source (nbformat makes random ones), so that
    regenerating a set changes only the cells that were edited."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = hashlib.sha1(f"{i}:{cell['source']}".encode()).hexdigest()[:8]
    return nb
