"""`installed(...)`: skip a test unless the packages it runs (in a kernel, a sandbox or a fresh
interpreter) are installed.

`pytest.importorskip` imports the package into the test process to find out, and at module level
it does so while collecting: keras, gradio and torchvision cost seconds each, paid by every run
(and every xdist worker) even when the module's tests are deselected (`-m 'not slow'`). A test
that only hands the package to another process needs it found, not imported; a test that uses it
in this process keeps `pytest.importorskip`.
"""
from __future__ import annotations

import importlib.util

import pytest


def missing(*modules: str) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


def installed(*modules: str) -> pytest.MarkDecorator:
    absent = missing(*modules)
    return pytest.mark.skipif(bool(absent), reason=f"not installed: {', '.join(absent)}")
