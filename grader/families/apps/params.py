"""The parameters of the app checks (Task 2 bonus). The apps stage (stage.py) reads the run
budgets (`digits`, `*_timeout_s`, `files`) from them too."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from grader.rubric.params import Share, StrictParams

DEFAULT_NAMES = ("app.py", "main.py", "server.py", "api.py", "web.py", "gradio_app.py", "interface.py")
"""The app's file names looked for, in order, when a rubric names none."""


class AppRunParams(StrictParams):
    files: list[str] = Field(default=list(DEFAULT_NAMES), min_length=1)
    """Preferred file names of the app, in order."""
    digits: int = Field(default=100, gt=0)
    """Hidden digits sent to the app."""
    format_digits: int = Field(default=8, gt=0)
    """Validation digits used to find the app's input form."""
    startup_timeout_s: float = Field(default=60, gt=0)
    timeout_s: float = Field(default=150, gt=0)
    request_timeout_s: float = Field(default=10, gt=0)
    min_accuracy: Share = 0.5


class ComposeParams(StrictParams):
    docker_timeout_s: float = Field(default=900, gt=0)


class DockerParams(ComposeParams):
    target: Literal["web", "api"] = "web"
    """Which app the Dockerfile must serve."""
