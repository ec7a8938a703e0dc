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
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
SHIMS = Path(__file__).resolve().parent / "shims"
MPL_CACHE_ENV = "GRADER_MPL_CACHE"  # where the grader mounted its prebuilt matplotlib font list


def prepare_process() -> None:
    """Process set-up shared by every way into the harness (idempotent)."""
    _not_dumpable()
    _hold_lifeline()
    if os.getpid() == 1:
        # The sandbox's init (bwrap --as-pid-1): the kernel drops signals sent from inside unless
        # we handle them, and Python handles only SIGINT. Ignored, student code cannot stop us.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_config_dir()
    # offline stand-ins (google.colab ...) come first on the kernel's import path
    current = os.environ.get("PYTHONPATH", "")
    if not current.startswith(str(SHIMS)):
        os.environ["PYTHONPATH"] = f"{SHIMS}:{current}" if current else str(SHIMS)


def _hold_lifeline() -> None:
    """When the sandbox hands us a lifeline (bwrap, with us as its init), end the run the moment
    the grader holding its other end is gone: our exit takes every process of the namespace."""
    fd_text = os.environ.pop("GRADER_LIFELINE_FD", "")
    if not fd_text.isdigit():
        return
    import threading

    fd = int(fd_text)
    os.set_inheritable(fd, False)

    def watch() -> None:
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        os._exit(70)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def _not_dumpable() -> None:
    """The kernel runs as our user: without this it could open /proc/1/fd/* (our pipes and files)
    and /proc/1/mem. A process that is not dumpable has those owned by root."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass  # not Linux: the sandbox backends are Linux-only anyway


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


def warm_config_dir() -> None:
    """Inside the sandbox: copy the prebuilt font list into this run's MPLCONFIGDIR."""
    source, target = os.environ.get(MPL_CACHE_ENV), os.environ.get("MPLCONFIGDIR")
    if not source or not target:
        return
    try:
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(source):
            if name.startswith("fontlist-") and name.endswith(".json"):
                with open(os.path.join(source, name), "rb") as src, \
                        open(os.path.join(target, name), "wb") as dst:
                    dst.write(src.read())
    except OSError:
        pass  # matplotlib builds its own, as it would without us


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
    from grader_inside import harness

    return harness.main(args, km=km, started=STARTED, wire=wire)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
