"""What the harness records about its own run: the timeline of a notebook's run."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.sandbox import PlainSandbox

from run_support import run_one_cell


@pytest.mark.kernel
def test_run_json_has_an_ordered_timeline_and_the_kernel_is_gone(tmp_path: Path) -> None:
    outcome = run_one_cell(tmp_path, "import os\nprint(os.getpid())", PlainSandbox())
    assert [c.status for c in outcome.cells] == ["ok"]
    report = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    timeline = report["timeline_s"]
    events = ["harness_ready", "kernel_ready", "cells_done", "written"]
    assert list(timeline) == events
    values = [timeline[e] for e in events]
    assert values == sorted(values) and 0 < values[0] < 60
    executed = nbformat.read(str(tmp_path / "out" / "executed.ipynb"), as_version=4)
    pid = int(executed.cells[0].outputs[0]["text"].strip())
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or "zombie" in status.read_text()
