"""Fixtures for the app tests: the demo data prepared once, the sandbox, copies of the samples."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from app_support import SAMPLES, app_rubric
from grader.families.models.setup import ModelsSetup, prepare_setup
from grader.sandbox import Sandbox
from grader.sandbox.detect import bwrap_unavailable_reason


@pytest.fixture(scope="session")
def demo_setup(demo_cache: Path) -> ModelsSetup:
    setup = prepare_setup(app_rubric(), {}, "cpu", demo_cache, with_baseline=False)
    assert setup is not None
    return setup


@pytest.fixture(scope="session")
def bwrap_box() -> Sandbox:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    from grader.sandbox import BwrapSandbox

    return BwrapSandbox()


@pytest.fixture
def sample(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of submissions/task2_apps/<name> (hidden files too: .gitignore matters)."""

    def copy(name: str) -> Path:
        target = tmp_path / "submission" / name
        shutil.copytree(SAMPLES / name, target)
        return target

    return copy
