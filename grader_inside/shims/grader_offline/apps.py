"""Web apps started inside a notebook (`demo.launch(debug=True)`, `uvicorn.run(app)`) do not
block the run: the call returns at once and the report says so. Apps are graded from the
submission's app files, each in its own sandbox (grader.families.apps), not from the notebook."""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from grader_offline.log import used


def _not_served(what: str, original: Any) -> Any:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> None:
        used(f"{what} inside the notebook was not started (it would wait for visitors for ever); "
             "apps are graded from the app files of the submission")
        return None

    call._grader = True  # type: ignore[attr-defined]
    return call


def patch_gradio(module: ModuleType) -> None:
    blocks = getattr(module, "Blocks", None)
    launch = getattr(blocks, "launch", None)
    if launch is not None and not getattr(launch, "_grader", False):
        blocks.launch = _not_served("gradio launch()", launch)  # type: ignore[union-attr]


def patch_uvicorn(module: ModuleType) -> None:
    run = getattr(module, "run", None)
    if run is not None and not getattr(run, "_grader", False):
        module.run = _not_served("uvicorn.run()", run)  # type: ignore[attr-defined]


HOOKS = {"gradio": patch_gradio, "uvicorn": patch_uvicorn}
