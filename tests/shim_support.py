"""Running code in a fresh interpreter with the kernel's stand-ins installed, as the harness does."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from grader_inside.prepare import SHIMS


def run_with_shims(code: str, outbox: Path, *, data_dir: Path | None = None,
                   serve_apps: bool = False) -> tuple[str, str]:
    """(stdout, shims.log) of `code` run after grader_offline.install(outbox); fails the test on error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "KERAS_"))}
    env.update(PYTHONPATH=f"{SHIMS}{os.pathsep}{env.get('PYTHONPATH', '')}", KERAS_BACKEND="torch")
    if data_dir is not None:
        env["GRADER_DATA_MNIST"] = str(data_dir)
    prelude = f"import grader_offline\ngrader_offline.install({str(outbox)!r}, serve_apps={serve_apps!r})\n"
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, cwd=outbox,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    log = outbox / "shims.log"
    return done.stdout, log.read_text(encoding="utf-8") if log.exists() else ""
