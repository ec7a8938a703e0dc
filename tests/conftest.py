from __future__ import annotations

import os
import shutil

import pytest

from browser_support import browser  # noqa: F401  (the `browser` fixture, for every test folder)

# Keras 3 without TensorFlow: the tests (like the sandbox) run it on its torch backend
os.environ.setdefault("KERAS_BACKEND", "torch")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("bwrap") is None:
        skip = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed")
        for item in items:
            if "sandbox" in item.keywords:
                item.add_marker(skip)
