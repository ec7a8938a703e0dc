"""The harness is out of the student's reach inside the sandbox.

Its imports never come from the student's folder or from a user site-packages under HOME (which
is the student's folder too), and the kernel cannot look into it through /proc.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from grader.run.runner import RunRequest, run_submission
from grader.sandbox import BwrapSandbox
from grader.sandbox.detect import bwrap_unavailable_reason

pytestmark = [pytest.mark.kernel, pytest.mark.sandbox]

# Planted beside the notebook: each records which process imported it, by its command line.
SPY = "import os, sys\nopen(os.path.join(os.environ['HOME'], 'imported-by-%d' % os.getpid()), 'w').write(repr(sys.argv))\n"
SHADOWED = ("jsonschema", "nbformat", "nbclient", "jupyter_client", "zmq", "traitlets")


@pytest.fixture
def box() -> BwrapSandbox:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    return BwrapSandbox()


def test_the_students_folder_never_reaches_the_harness(tmp_path: Path, box: BwrapSandbox) -> None:
    work = tmp_path / "student"
    site = work / ".local" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    for name in SHADOWED:
        (work / f"{name}.py").write_text(SPY + "raise ImportError('planted')\n")
    (site / "zz_spy.pth").write_text(SPY.replace("\n", "; ").rstrip("; ") + "\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.listdir('/proc/1/fd'))"),
                nbformat.v4.new_code_cell("answer = 42"),
                nbformat.v4.new_code_cell("import glob, os\nprint({p: open(p).read() for p in "
                                          "glob.glob(os.path.expanduser('~/imported-by-*'))})")]
    entry = work / "task.ipynb"
    nbformat.write(nb, str(entry))
    files = tuple(p for p in work.rglob("*") if p.is_file())
    run = run_submission(RunRequest(entry=entry, files=files, files_root=work, timeout_s=60), box, tmp_path / "out")

    assert run.status == "ok", run.message
    cells = {c.number: c for c in run.cells}
    assert cells[2].status == "ok"
    # the harness (the sandbox's init) is not dumpable: its descriptors are closed to the kernel
    assert (cells[1].status, cells[1].ename) == ("error", "PermissionError")
    # the harness would have failed to start with any of the planted modules (before: it did, as
    # `python -m` put the working folder first); it ran, and no spy fired in it (in a venv the
    # kernel skips user site-packages too; elsewhere it may load them: the student's own process)
    executed = nbformat.read(str(run.executed_notebook), as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[2].outputs if o.get("output_type") == "stream")
    for argv in ast.literal_eval(text.strip()).values():
        first = ast.literal_eval(argv)[0]
        assert first != "-c" and "grader_inside" not in first, f"a harness process ran the student's code: {argv}"
    assert run.integrity.checked
