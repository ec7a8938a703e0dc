"""Entry point of the in-sandbox run: start the kernel first, then load the harness.

    python -I -c "<the package root first on sys.path; runpy grader_inside.boot>" SPEC.json
    (built by grader.run.runner.inside_command)

Isolated mode (-I): neither the working folder (the student's files) nor a user site-packages
under HOME (the student's folder too) nor PYTHON* variables reach the harness's import path;
only the folder that holds grader_inside is put first.

The kernel takes most of a second to boot; the harness's own imports (nbclient, nbformat,
jsonschema) take a good part of a second too. Starting the kernel before those imports lets the
two overlap, which is most of the harness's cost over a plain nbclient run.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader_inside.prepare import prepare_process

STARTED = time.monotonic()


def make_wire() -> str:
    """The FIFO the kernel's tripwires and probes report on (see grader_inside.probes.tripwire):
    made before the kernel starts, so the student's code never sees it being made."""
    folder = tempfile.mkdtemp(prefix=".grader-")
    path = os.path.join(folder, "wire")
    try:
        os.mkfifo(path, 0o600)
    except OSError:
        return ""
    return path


def start_kernel(entry: str) -> Any:
    """A python3 kernel started in the entry's folder (whatever kernelspec the notebook names)."""
    # nbclient drives the kernel with asyncio: it needs the async manager (a blocking one
    # would block its event loop, and cell timeouts would never fire)
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_path
    from jupyter_core.utils import run_sync

    # The Jupyter kernel folders, without the legacy ~/.ipython/kernels: finding that one imports
    # IPython here (0.05-0.1 s before the kernel could start), and the sandbox's home is empty.
    specs = KernelSpecManager(kernel_dirs=jupyter_path("kernels"))
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs, ip="127.0.0.1")  # no interface scan
    run_sync(km.start_kernel)(cwd=str(Path(entry).parent))
    return km


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    prepare_process()
    wire = make_wire()
    km = None
    try:
        entry = json.loads(Path(args[0]).read_text(encoding="utf-8"))["entry"]
        km = start_kernel(entry)
    except Exception:  # the harness starts its own kernel and reports what goes wrong
        km = None
    from grader_inside import harness  # only now: its imports (nbclient ...) overlap the kernel's start

    return harness.main(args, km=km, started=STARTED, wire=wire)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
