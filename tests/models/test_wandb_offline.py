"""A notebook that logs to Weights & Biases runs in the sandbox with no network and no login."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.families.models.setup import OFFLINE_ENV
from grader.run.runner import RunRequest, run_submission
from grader.sandbox import Limits
from grader.sandbox.detect import get_sandbox

pytest.importorskip("wandb")
pytestmark = [pytest.mark.sandbox, pytest.mark.kernel]

CELLS = [
    "import wandb\nrun = wandb.init(project='mnist-cnn', config={'lr': 0.01, 'epochs': 2})",
    "for epoch in range(2):\n    wandb.log({'train_loss': 1 / (epoch + 1), 'val_loss': 1.2 / (epoch + 1)})",
    "run.finish()\nprint('logged')",
]


def test_wandb_logs_offline_in_the_sandbox(tmp_path: Path) -> None:
    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    entry = work / "task2.ipynb"
    nbformat.write(nb, str(entry))
    req = RunRequest(entry=entry, files=(entry,), files_root=work, cell_timeout_s=60, timeout_s=120,
                     limits=Limits(memory_bytes=2 * 1024**3), env=dict(OFFLINE_ENV))
    outcome = run_submission(req, get_sandbox("auto", fallback=True), tmp_path / "out")
    assert [c.status for c in outcome.cells] == ["ok", "ok", "ok"], \
        [(c.number, c.ename, c.evalue) for c in outcome.cells]
