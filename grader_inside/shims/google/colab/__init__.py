"""Offline stand-in for Colab's `google.colab`, so Colab notebooks run unchanged in the grader."""
from __future__ import annotations

from . import drive, files, output

__all__ = ["drive", "files", "output"]
