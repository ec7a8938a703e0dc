"""Where the grader keeps what it builds once and reuses between runs."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """$XDG_CACHE_HOME/grader (default ~/.cache/grader): font lists, compiled report templates."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"
