from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("bwrap") is None:
        skip = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed")
        for item in items:
            if "sandbox" in item.keywords:
                item.add_marker(skip)
