"""Helpers for HW 3 tests: the stand-in image folder (tools/hw3_data.py), made per test session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from hw3_data import make_shapes_dataset  # noqa: E402


@pytest.fixture(scope="session")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """afhq/{train,val}/{cat,dog,wild}: 20 training and 12 validation 64x64 PNGs per class."""
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"))
