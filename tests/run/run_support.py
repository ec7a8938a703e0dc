"""Running a one-cell notebook through the runner, for the tests of tests/run."""
from __future__ import annotations

from pathlib import Path

import nbformat

from grader.run.runner import RunOutcome, RunRequest, run_submission
from grader.sandbox import Sandbox


def run_one_cell(tmp_path: Path, source: str, sandbox: Sandbox) -> RunOutcome:
    """A notebook with the one code cell `source`, run in `sandbox`; artifacts in tmp_path/out."""
    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    entry = work / "task.ipynb"
    nbformat.write(nb, str(entry))
    return run_submission(RunRequest(entry=entry, files=(entry,), files_root=work, timeout_s=60),
                          sandbox, tmp_path / "out")
