"""The tripwires name what the student's own code did, never what a library did on its behalf."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.run.runner import RunRequest, run_submission
from grader.sandbox import BwrapSandbox
from grader.sandbox.detect import bwrap_unavailable_reason

pytestmark = [pytest.mark.kernel, pytest.mark.sandbox, pytest.mark.torch]


def test_libraries_own_ctypes_and_imports_are_not_the_students(tmp_path: Path) -> None:
    if bwrap_unavailable_reason() is not None:
        pytest.skip("needs bubblewrap")
    pytest.importorskip("torch")
    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import torch, numpy, matplotlib.pyplot as plt\nfrom google.colab import drive\ndrive.mount('/content/drive')\n"
        "x = torch.ones(2)",  # torch loads its libraries through ctypes; the Colab stand-in is ours
        "import ctypes\nctypes.CDLL(None)",
        "import gc\nn = len(gc.get_objects())")]
    entry = work / "t.ipynb"
    nbformat.write(nb, str(entry))
    run = run_submission(RunRequest(entry=entry, files=(entry,), files_root=work, timeout_s=90), BwrapSandbox(),
                         tmp_path / "out")
    assert [c.status for c in run.cells] == ["ok", "ok", "ok"]
    assert [(f.what, f.cell, f.suspicious) for f in run.integrity.events] == [
        ("ctypes.dlopen", 2, True), ("gc.get_objects", 3, True)]
    assert run.integrity.probe == "sealed"
