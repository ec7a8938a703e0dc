from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from browser_support import browser  # noqa: F401  (the `browser` fixture, for every test folder)

# Keras 3 without TensorFlow: the tests (like the sandbox) run it on its torch backend
os.environ.setdefault("KERAS_BACKEND", "torch")

# The demo batch's hidden-split secret, pinned: every run asks the apps (and the models checks) the
# same hidden digits in the same order, so a sample's measured accuracy is the same on every run. A
# drawn secret made the apps' 40-digit accuracy vary from run to run (0,875 to 1,0 for one model).
TEST_SECRET_VALUE = 1


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts) for the default run only: a run that selects the slow
    end-to-end batches (`-m slow`, or no `-m` filter) keeps them in one process, one batch at a
    time, as CI has always run them (each batch runs its own workers and some load the machine on
    purpose). None: xdist's own count, one worker per core."""
    return None if "not slow" in (config.option.markexpr or "") else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("bwrap") is None:
        skip = pytest.mark.skip(reason="bubblewrap (bwrap) is not installed")
        for item in items:
            if "sandbox" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch data folder with the demo dataset prepared in it, shared by the data, models and
    apps tests; prepare_mnist / prepare_setup on it reuse that batch's secret and demo files.

    Building the demo's 70,000 images takes seconds, so it happens once per run: under xdist the
    first worker builds it into the run's shared temporary folder (the others wait on a lock) and
    each worker works on a copy of its own, so no two workers write into one folder."""
    from grader.data import prepare_mnist
    from grader.data.hidden import HiddenSecret, pin_secret

    folder = tmp_path_factory.mktemp("demo_batch")
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        pin_secret(folder, HiddenSecret(TEST_SECRET_VALUE))
        prepare_mnist(None, folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent / "demo_batch"  # this run's, not another run's
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / "BUILT"
        if not built.exists():
            pin_secret(shared, HiddenSecret(TEST_SECRET_VALUE))
            prepare_mnist(None, shared)
            built.touch()
    shutil.copytree(shared, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("BUILT"))
    return folder
