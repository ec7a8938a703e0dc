"""Compiled bytecode for the grader's own modules, written once, outside the sandbox.

Every sandboxed run imports the harness, the probes and the offline shims in two fresh processes
(the harness and the kernel). Inside the sandbox nothing may write next to the grader's sources
(read-only mounts, PYTHONDONTWRITEBYTECODE), so without `__pycache__` there each run compiles
those modules again from source: 0.1-0.2 s of CPU per notebook. The parent compiles them once
per batch where the package folder is writable (a source checkout or an editable install); an
installed wheel already has its bytecode from pip, and a read-only one is left as it is.
"""
from __future__ import annotations

import compileall
import functools
import logging
import os
from pathlib import Path

import grader_inside

logger = logging.getLogger(__name__)

PACKAGE = Path(grader_inside.__file__).resolve().parent  # the in-sandbox package (shims included)


@functools.lru_cache(maxsize=1)
def ensure_compiled(package: Path = PACKAGE) -> bool:
    """Write missing or stale `__pycache__` files under `package`; False when it cannot."""
    if not os.access(package, os.W_OK):
        logger.debug("%s is read-only: its bytecode is left as it is", package)
        return False
    try:
        ok = compileall.compile_dir(str(package), quiet=2, workers=1)
    except OSError as exc:
        logger.debug("cannot compile %s: %s", package, exc)
        return False
    return bool(ok)
