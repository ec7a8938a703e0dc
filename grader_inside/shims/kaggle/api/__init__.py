"""Stand-in for `kaggle.api` (see kaggle/__init__.py)."""
from __future__ import annotations

from kaggle.api.kaggle_api_extended import KaggleApi

__all__ = ["KaggleApi"]
