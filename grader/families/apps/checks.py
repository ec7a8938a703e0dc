"""Task 2 bonus checks: the web app, the API server, their Dockerfiles and the compose file.

The app stage (grader/families/apps/stage.py) ran each app in the sandbox and read the Docker files; it left
`<student>/apps/apps.json`. Here its predictions are scored against the hidden labels, which never
left the grader, and every verdict gets one plain message. Figures go to `metrics`: accuracy (0..1),
start_s, first_answer_s, latency_p50_ms, latency_p95_ms, digits.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from grader.families.apps.source import DEFAULT_NAMES
from grader.families.apps.stage import APPS_DIR, APPS_FILE
from grader.artifacts import CheckContext, Outcome
from grader.errors import GraderError
from grader.i18n import Message, Text, error, joined, msg
from grader.families.models.setup import ModelsSetup

logger = logging.getLogger(__name__)

DEFAULT_MIN_ACCURACY = 0.5
STOPPED = ("exited", "start_failed", "no_port")
TAIL_CHARS = 300


def _report(ctx: CheckContext) -> dict[str, Any]:
    if "apps" not in ctx.memo:
        path = Path(ctx.out_dir) / APPS_DIR / APPS_FILE
        try:
            ctx.memo["apps"] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise error(GraderError, ctx.lang, "apps.not_staged") from exc
    return ctx.memo["apps"]


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return " | ".join(lines[-3:])[-TAIL_CHARS:] or "-"


def check_web(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    return _check_app(ctx, params, "web")


def check_api(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    return _check_app(ctx, params, "api")


def _check_app(ctx: CheckContext, params: dict[str, Any], kind: str) -> Outcome:
    report = _report(ctx)
    entry = (report.get("apps") or {}).get(kind)
    if entry is None or entry.get("source") is None:
        names = ", ".join(params.get("files", DEFAULT_NAMES))
        return Outcome("missing", msg(f"apps.{kind}.missing", names=names))
    source: dict[str, Any] = entry["source"]
    run: dict[str, Any] | None = entry.get("run")
    if run is None:
        if not report.get("data"):
            return Outcome("not_run", msg("apps.no_data"))
        return Outcome("not_run", msg("apps.no_gradio"))
    status = str(run.get("status"))
    if status in STOPPED or (status in ("timeout", "memory") and run.get("port") is None):
        return _not_started(source, run, report, params)
    app = source["rel"]
    if status == "timeout":
        return Outcome("start_failed", msg("apps.timeout", app=app, seconds=params.get("timeout_s", 150)))
    if status == "memory":
        return Outcome("start_failed", msg("apps.memory", app=app))
    if status == "client_error":
        return Outcome("no_answer", msg("apps.client_error", app=app, detail=run.get("error", "")))
    if status == "no_endpoint":
        return Outcome("no_endpoint", msg("apps.no_endpoint", app=app, detail=run.get("error", "")))
    endpoint = run.get("endpoint") or {}
    if status == "no_answer":
        forms = run.get("forms") or {}
        errors = [f.get("error") for f in forms.values() if f.get("error")]
        detail = msg("apps.first_problem", detail=errors[0]) if errors else ""
        return Outcome("no_answer", msg("apps.no_answer", app=app, endpoint=endpoint.get("endpoint", "?"),
                                       forms=", ".join(forms) or "-", detail=detail))
    return _scored(ctx, params, kind, source, run, report)


def _not_started(source: dict[str, Any], run: dict[str, Any], report: dict[str, Any],
                 params: dict[str, Any]) -> Outcome:
    app = source["rel"]
    launch = run.get("launch") or {}
    error = launch.get("error") or {}
    if source.get("gradio_target"):
        return Outcome("old_gradio", msg("apps.old_gradio", app=app, target=source["gradio_target"],
                                        markers=", ".join(source.get("old_gradio") or []),
                                        installed=report.get("gradio") or "?"))
    missing_file = error.get("missing_file")
    for model in source.get("models") or []:
        if model["state"] != "present" or (missing_file and str(missing_file).endswith(model["name"])):
            state = model["state"] if model["state"] != "present" else "missing"
            return Outcome("model_missing", msg(f"apps.model_{state}", app=app, file=model["name"]))
    if error:
        what = f"{error.get('type')}: {error.get('message')}"
        if error.get("line"):
            return Outcome("start_failed", msg("apps.start_error", app=app, error=what, line=error["line"]))
        return Outcome("start_failed", msg("apps.start_error_noline", app=app, error=what))
    if run.get("status") == "exited":
        return Outcome("start_failed", msg("apps.exited", app=app, code=run.get("exit_code"),
                                          tail=_tail(run.get("log_tail", ""))))
    key = {"cpu": "apps.no_port_cpu", "idle": "apps.no_port_idle"}.get(str(run.get("stopped")), "apps.no_port")
    return Outcome("start_failed", msg(key, app=app, seconds=params.get("startup_timeout_s", 60),
                                      port=run.get("port_requested"), tail=_tail(run.get("log_tail", ""))))


def _hidden_labels(ctx: CheckContext, indices: list[int]) -> np.ndarray:
    setup = ctx.data
    if not isinstance(setup, ModelsSetup) or setup.mnist is None:
        raise error(GraderError, ctx.lang, "apps.no_data")
    return setup.mnist.hidden_labels()[np.asarray(indices, dtype=np.int64)]


def _scored(ctx: CheckContext, params: dict[str, Any], kind: str, source: dict[str, Any], run: dict[str, Any],
            report: dict[str, Any]) -> Outcome:
    indices = [int(i) for i in run.get("indices") or []]
    labels = _hidden_labels(ctx, indices)
    predictions = np.full(len(labels), -1, dtype=np.int64)
    answered = [int(p) for p in run.get("predictions") or []][: len(labels)]
    predictions[: len(answered)] = answered
    accuracy = float(np.mean(predictions == labels)) if len(labels) else 0.0
    latencies = [float(x) for x in run.get("latencies_ms") or []]
    p50 = float(np.percentile(latencies, 50)) if latencies else float("nan")
    p95 = float(np.percentile(latencies, 95)) if latencies else float("nan")
    start = float(run.get("start_s") or 0.0)
    first = float(run.get("first_answer_s") or start)
    endpoint = run.get("endpoint") or {}
    parts = [msg("apps.answered", app=source["rel"], endpoint=endpoint.get("endpoint", "?"),
                 input=endpoint.get("input", "?"), accuracy=100 * accuracy, n=len(labels), start=start,
                 first=first, p50=p50, p95=p95, form=run.get("form", "?"))]
    minimum = float(params.get("min_accuracy", DEFAULT_MIN_ACCURACY))
    key = "ok" if accuracy >= minimum else "low"
    if key == "low":
        parts.append(msg("apps.low", min=100 * minimum))
    if run.get("status") == "deadline":  # which limit stopped the questions: the app's CPU, its silence, the clock
        stopped = run.get("stopped")
        key = {"cpu": "apps.deadline_cpu", "idle": "apps.deadline_idle"}.get(str(stopped), "apps.deadline")
        parts.append(msg(key, asked=len(answered), n=len(labels), limit=params.get("timeout_s", 150),
                         idle=2 * params.get("request_timeout_s", 10)))
    if run.get("errors"):
        parts.append(msg("apps.errors", errors=run["errors"], detail=run.get("error", "")))
    parts += _launch_notes(run, report)
    if kind == "api":
        health = endpoint.get("health") or {}
        code = health.get("status")
        healthy = isinstance(code, int) and 200 <= code < 300
        parts.append(msg("apps.health_ok" if healthy else "apps.health_bad", status=code or health.get("error")))
        if key == "ok" and not healthy:
            key = "no_health"
    metrics = {"accuracy": accuracy, "digits": float(len(labels)), "start_s": start, "first_answer_s": first}
    if latencies:
        metrics.update(latency_p50_ms=p50, latency_p95_ms=p95)
    return Outcome(key, joined(parts, ""), metrics=metrics)


def _launch_notes(run: dict[str, Any], report: dict[str, Any]) -> list[Message]:
    launch = run.get("launch") or {}
    notes = []
    if launch.get("ignored_options"):
        notes.append(msg("apps.ignored_options", installed=report.get("gradio") or "?",
                    options=", ".join(launch["ignored_options"])))
    if launch.get("dropped_options"):
        notes.append(msg("apps.dropped_options", options=", ".join(launch["dropped_options"])))
    if launch.get("launched_by") == "grader":
        notes.append(msg("apps.started_by_grader"))
    if run.get("port") not in (None, run.get("port_requested")):
        notes.append(msg("apps.other_port", port=run.get("port_requested"), actual=run.get("port")))
    return notes


# -- Docker ----------------------------------------------------------------------------------------
def _findings(problems: list[dict[str, Any]]) -> Text:
    return joined([msg(f"apps.finding.{p['key']}", **p.get("fields", {})) for p in problems], "; ")


def _engine_verdict(docker: dict[str, Any], rel: str) -> tuple[str, Message]:
    """(outcome key, message tail) for a statically sound file: verified, failed or not verified."""
    engine = docker.get("engine") or {}
    if engine.get("version") is None:
        return "not_verified", msg("apps.docker.not_verified", reason=engine.get("reason") or "-")
    if not engine.get("requested"):
        return "not_verified", msg("apps.docker.not_requested")
    result = (docker.get("verified") or {}).get(rel) or {}
    if result.get("answered"):
        return "ok", msg("apps.docker.verified", version=engine["version"])
    step = msg("apps.docker.step_build" if not result.get("built") else "apps.docker.step_run")
    return "failed", msg("apps.docker.verify_failed", version=engine["version"], what=step,
                        log=_tail(result.get("log", "")))


def _verdict(docker: dict[str, Any], item: dict[str, Any], sound: Text | str) -> Outcome:
    """A Dockerfile's or compose file's outcome: its problems, else `sound` and what the engine said."""
    if item.get("problems"):
        return Outcome("problems", msg("apps.docker.problems", file=item["rel"],
                                      problems=_findings(item["problems"])))
    key, tail = _engine_verdict(docker, item["rel"])
    return Outcome(key, joined([sound, tail], ""))


def _docker(ctx: CheckContext) -> dict[str, Any]:
    docker = _report(ctx).get("docker")
    if docker is None:
        raise error(GraderError, ctx.lang, "apps.not_staged")
    return docker


def check_docker(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    target = str(params.get("target", "web"))
    docker = _docker(ctx)
    files = docker.get("dockerfiles") or []
    serving = [f for f in files if f.get("serves") == target]
    if not serving:
        unknown = [f for f in files if f.get("serves") is None]
        if unknown:  # a Dockerfile whose command starts no known app: its problems say why
            return _verdict(docker, unknown[0], "")
        return Outcome("missing", msg(f"apps.docker.missing_{target}"))
    best = min(serving, key=lambda f: len(f.get("problems") or []))
    return _verdict(docker, best,
                    msg("apps.docker.ok", file=best["rel"], app=best.get("app"), port=best.get("port")))


def check_compose(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    docker = _docker(ctx)
    composes = docker.get("compose") or []
    if not composes:
        return Outcome("missing", msg("apps.docker.missing_compose"))
    best = min(composes, key=lambda c: len(c.get("problems") or []))
    return _verdict(docker, best, msg("apps.compose.ok", file=best["rel"], web=best.get("web"),
                                           api=best.get("api")))
