"""Task 2 bonus: the student's web app (Gradio), API server and Docker files, graded by running them.

    grader side                              inside one sandbox (loopback-only network)
    source.py   finds the apps, reads them     client.py   starts launch.py, waits for the port,
                as text (gradio version,                   finds the endpoint, asks for digits,
                model files, port and host)                writes result.json
    stage.py    runs the sandbox per app,      launch.py   runs the student's app on the grader's
                writes apps.json                           port: no public link, no browser, no block
    docker.py   Dockerfile / compose checks;   gradio_api.py, http_api.py: one endpoint each
                builds and runs with --docker  digits.py, answers.py: what is sent and read back

Hidden labels never enter the sandbox: the client returns predictions and the grader's checks
(grader/checks/app.py) score them.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.apps.source import AppKind
    from grader.rubric.schema import CheckSpec

RUN_KINDS: dict[str, AppKind] = {"app.web": "web", "app.api": "api"}  # started and asked for digits
DOCKER_KINDS = ("app.docker", "app.compose")


def app_checks(checks: Iterable[CheckSpec]) -> list[CheckSpec]:
    """The rubric's app checks: the apps stage runs only for a rubric that has one. (Here, not in
    stage.py, so that grading can ask without loading the apps stage and what it imports.)"""
    return [c for c in checks if c.kind in RUN_KINDS or c.kind in DOCKER_KINDS]
