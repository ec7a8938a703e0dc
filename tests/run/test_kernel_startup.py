"""What a sandboxed kernel loads at start-up."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.sandbox import PlainSandbox

from run_support import run_one_cell


@pytest.mark.kernel
def test_the_kernel_starts_without_the_debugger(tmp_path: Path) -> None:
    # ipykernel imports debugpy at start-up when it can (0.1 s per kernel); the grader's shims
    # refuse it, and the kernel runs without a debugger
    outcome = run_one_cell(tmp_path, "import sys\nprint('debugpy' in sys.modules, "
                                     "sys.modules['ipykernel.debugger']._is_debugpy_available)", PlainSandbox())
    assert [c.status for c in outcome.cells] == ["ok"]
    executed = nbformat.read(str(tmp_path / "out" / "executed.ipynb"), as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "False False"
