"""Process set-up that every way into the in-sandbox code runs first, before anything else.

Its callers: `grader_inside.boot` (the kernel's harness, as the sandbox's init), the harness run on
its own (`python -m grader_inside.harness`), and the app client (`grader_inside.apps.client`). It
makes the process not dumpable, holds the sandbox's lifeline, ignores SIGINT as the sandbox's init,
copies the prebuilt matplotlib font list, and puts the offline stand-ins (`shims`) first on the
kernel's import path. Standard library only: it runs before the kernel starts.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

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
