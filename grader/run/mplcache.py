"""A warm matplotlib font cache for every sandboxed run.

Each run gets a fresh private MPLCONFIGDIR, so matplotlib would rebuild its font list (scanning
the system's fonts) in every notebook: 0.1-0.2 s each. The grader builds the cache once, in a
process of its own that imports only matplotlib, and mounts it read-only; `grader_inside.prepare`
copies it into the run's MPLCONFIGDIR before the kernel starts.
"""
from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import subprocess
import sys
from pathlib import Path

from grader.paths import cache_root

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def matplotlib_cache() -> Path | None:
    """The folder with matplotlib's font list for this environment, built on first use."""
    try:  # the version from the package's metadata: importing matplotlib here costs 0.1 s
        version = importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = cache_root() / f"matplotlib-{version}-py{sys.version_info[0]}{sys.version_info[1]}"
    if any(folder.glob("fontlist-*.json")):
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg"}
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                       capture_output=True, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.info("no matplotlib font cache for the sandbox: %s", exc)
        return None
    return folder if any(folder.glob("fontlist-*.json")) else None
