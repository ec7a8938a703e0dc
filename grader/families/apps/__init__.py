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
(checks.py) score them.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from grader.family import CheckKind, Family, Option
from grader.families.apps.params import AppRunParams, ComposeParams, DockerParams

if TYPE_CHECKING:
    from grader.families.apps.source import AppKind
    from grader.rubric.schema import CheckSpec

RUN_KINDS: dict[str, AppKind] = {"app.web": "web", "app.api": "api"}  # started and asked for digits
DOCKER_KINDS = ("app.docker", "app.compose")


def app_checks(checks: Iterable[CheckSpec]) -> list[CheckSpec]:
    """The rubric's app checks: the apps stage runs only for a rubric that has one. (Here, not in
    stage.py, so that grading can ask without loading the apps stage and what it imports.)"""
    return [c for c in checks if c.kind in RUN_KINDS or c.kind in DOCKER_KINDS]


_APP_RUN = ("ok", "low", "missing", "not_run", "start_failed", "old_gradio", "model_missing", "no_answer",
            "no_endpoint")
_DOCKER = ("ok", "not_verified", "failed", "problems", "missing")

FAMILY = Family(
    name="apps",
    package=__name__,
    instructor_data=True,
    kinds={
        "app.web": CheckKind("checks:check_web", AppRunParams, frozenset(_APP_RUN)),
        "app.api": CheckKind("checks:check_api", AppRunParams, frozenset(("no_health", *_APP_RUN))),
        "app.docker": CheckKind("checks:check_docker", DockerParams, frozenset(_DOCKER)),
        "app.compose": CheckKind("checks:check_compose", ComposeParams, frozenset(_DOCKER)),
    },
    requires=("models",),  # the apps are asked the hidden digits of the models' set-up
    options=(Option("docker", "--docker", "flag",
                    help="Task 2 bonus: build and run the students' Dockerfiles and compose files with the Docker "
                         "engine (without it, or without an engine, they are checked as files and reported as not "
                         "verified)."),),
    stage="hooks:stage",
    cache_parts="hooks:cache_parts",
)
