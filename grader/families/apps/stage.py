"""The app stage of a submission (grader side): which apps the rubric asks about, one sandbox run per
app, the Docker files read (and, with `--docker`, built and run), all written to
`<student>/apps/apps.json` for the checks in grader/families/apps/checks.py.

Each app runs in its own sandbox (loopback-only network, the whole tree killed at the end) with the
rubric's time for one app; the hidden images are mounted read-only and only the chosen indices are
asked for, the labels stay here.
"""
from __future__ import annotations

import importlib.metadata
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.families.apps import DOCKER_KINDS, RUN_KINDS, app_checks
from grader.families.apps.docker import (
    analyse_compose,
    analyse_dockerfile,
    docker_engine,
    find_docker_files,
    verify_compose,
    verify_image,
)
from grader.families.apps.source import DEFAULT_NAMES, AppKind, AppSource, find_apps, pick
from grader.data.idx import read_idx
from grader.data.splits import RAW_NAMES
from grader.errors import GraderError
from grader.families.models.setup import ModelsSetup
from grader.results import write_json_atomic
from grader.rubric import Rubric
from grader.rubric.schema import CheckSpec
from grader.run.runner import RunRequest, _copy_submission, _read_json, collect_artifacts, inside_command
from grader.sandbox import Limits, Sandbox, SandboxSpec
from grader.sandbox.limits import make_scratch, remove_scratch

logger = logging.getLogger(__name__)

APPS_DIR = "apps"
APPS_FILE = "apps.json"
PORTS: dict[AppKind, int] = {"web": 17860, "api": 18000}  # deliberately not the apps' own defaults
SANDBOX_GRACE_S = 15.0
RESULT_CAP = 8 * 1024 * 1024


@dataclass(frozen=True)
class AppPlan:
    """What the rubric's app checks ask for (from their params; the largest value wins)."""

    kinds: tuple[AppKind, ...]
    docker: bool  # the rubric has Docker checks
    digits: int = 100  # hidden digits sent to each app
    format_digits: int = 8  # validation digits used to find the input form
    startup_timeout_s: float = 60.0  # CPU seconds the app may use before it listens and answers
    timeout_s: float = 150.0  # CPU seconds the app may use answering (format search, hidden digits)
    request_timeout_s: float = 10.0  # one request's wall-clock limit (an answer that never comes)
    files: tuple[str, ...] = DEFAULT_NAMES  # preferred file names of the apps
    docker_timeout_s: float = 900.0

    def wall_backstop_s(self) -> float:
        """The longest an app's run may take by the clock (grader_inside.apps.client's budgets: the
        startup's CPU times 4, and every question's own timeout), before the sandbox is stopped."""
        questions = self.digits + 4 * self.format_digits
        return self.startup_timeout_s * 4 + 30 + questions * self.request_timeout_s + 30


def _largest(specs: list[CheckSpec], key: str, default: float) -> float:
    values = [float(spec.params[key]) for spec in specs if key in spec.params]
    return max(values) if values else default


def plan_for(rubric: Rubric) -> AppPlan | None:
    """None when the rubric has no app check."""
    specs = app_checks(rubric.checks)
    if not specs:
        return None
    named = next((tuple(c.params["files"]) for c in specs if "files" in c.params), DEFAULT_NAMES)
    base = AppPlan(kinds=(), docker=False)
    return AppPlan(
        kinds=tuple(dict.fromkeys(RUN_KINDS[c.kind] for c in specs if c.kind in RUN_KINDS)),
        docker=any(c.kind in DOCKER_KINDS for c in specs),
        digits=int(_largest(specs, "digits", base.digits)),
        format_digits=int(_largest(specs, "format_digits", base.format_digits)),
        startup_timeout_s=_largest(specs, "startup_timeout_s", base.startup_timeout_s),
        timeout_s=_largest(specs, "timeout_s", base.timeout_s),
        request_timeout_s=_largest(specs, "request_timeout_s", base.request_timeout_s),
        files=named,
        docker_timeout_s=_largest(specs, "docker_timeout_s", base.docker_timeout_s),
    )


def installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def spread(n_total: int, n: int) -> list[int]:
    """n indices spread evenly over 0..n_total-1 (all of them when n >= n_total)."""
    if n >= n_total:
        return list(range(n_total))
    return [int(i) for i in np.linspace(0, n_total - 1, n).round().astype(np.int64)]


def validation_digits(setup: ModelsSetup, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A few digits of the student's own test split (its labels may enter the sandbox)."""
    assert setup.mnist is not None
    raw = setup.mnist.student_dir / "MNIST" / "raw"
    images = read_idx(raw / RAW_NAMES["test_images"])
    labels = read_idx(raw / RAW_NAMES["test_labels"])
    chosen = spread(len(labels), n)
    return images[chosen], labels[chosen].astype(np.int64)


def run_app(app: AppSource, files: tuple[Path, ...], root: Path, box: Sandbox, setup: ModelsSetup,
            plan: AppPlan, limits: Limits, out: Path) -> dict[str, Any]:
    """One sandbox run of `app` with the client beside it; the client's result plus the indices asked."""
    assert setup.mnist is not None
    indices = spread(setup.mnist.n_hidden, plan.digits)
    temp = Path(tempfile.gettempdir())
    scratch = make_scratch(temp, limits.scratch_bytes)
    live = make_scratch(temp, limits.scratch_bytes)
    try:
        app_path = _copy_submission(RunRequest(entry=app.path, files=files, files_root=root), scratch)
        inputs = live / "inputs"
        inputs.mkdir()
        images, labels = validation_digits(setup, plan.format_digits)
        np.save(inputs / "validation.npy", images, allow_pickle=False)
        np.save(inputs / "validation_labels.npy", labels, allow_pickle=False)
        spec = {"app": str(app_path), "kind": "gradio" if app.kind == "web" else "http", "port": PORTS[app.kind],
                "outbox": str(live), "hidden_images": str(setup.mnist.hidden_images), "indices": indices,
                "validation_images": str(inputs / "validation.npy"),
                "validation_labels": str(inputs / "validation_labels.npy"),
                "startup_timeout_s": plan.startup_timeout_s, "deadline_s": plan.timeout_s,
                "request_timeout_s": plan.request_timeout_s, "format_digits": plan.format_digits}
        write_json_atomic(inputs / "spec.json", spec)
        sandbox_spec = SandboxSpec(
            argv=inside_command(box, "grader_inside.apps.client", str(inputs / "spec.json")),
            scratch=scratch, outbox=live, mounts=setup.mnist.mounts(), env=setup.env(),
            limits=replace(limits, wall_time_s=plan.wall_backstop_s() + SANDBOX_GRACE_S), init=True)
        done = box.run(sandbox_spec)
        (live / "inputs" / "validation_labels.npy").unlink(missing_ok=True)
        collect_artifacts(live, out, RESULT_CAP)
    finally:
        remove_scratch(scratch)
        remove_scratch(live)
    data = _read_json(out / "result.json")
    result: dict[str, Any] = data if isinstance(data, dict) else {}
    if not result:
        result["status"] = "timeout" if done.timed_out else ("memory" if done.memory_exceeded else "client_error")
        result["error"] = done.stderr.decode(errors="replace")[-600:]
    result["indices"] = indices
    result["sandbox"] = {"timed_out": done.timed_out, "memory_exceeded": done.memory_exceeded,
                         "duration_s": round(done.duration_s, 3), "backend": done.backend}
    return result


def docker_report(root: Path, files: tuple[Path, ...], apps: list[AppSource], use_engine: bool,
                  timeout_s: float) -> dict[str, Any]:
    dockerfiles, composes = find_docker_files(root, files)
    df_reports = [analyse_dockerfile(f, root, apps) for f in dockerfiles]
    compose_reports = [analyse_compose(f, root, apps) for f in composes]
    version, reason = docker_engine()  # asked even without --docker: the report says why nothing was built
    engine = {"requested": use_engine, "version": version, "reason": reason}
    verified: dict[str, Any] = {}
    if use_engine and version is not None:
        for report in df_reports:
            if report.serves is not None and not report.problems:
                verified[report.rel] = verify_image(report, root, timeout_s)
        for compose in compose_reports:
            if not compose.problems:
                verified[compose.rel] = verify_compose(compose, root, timeout_s)
    return {"engine": engine, "dockerfiles": [r.to_json() for r in df_reports],
            "compose": [r.to_json() for r in compose_reports], "verified": verified}


def run_app_stage(files: tuple[Path, ...], files_root: Path, rubric: Rubric, box: Sandbox, student_dir: Path,
                  setup: ModelsSetup | None, limits: Limits, use_docker: bool = False) -> Path | None:
    """Run the rubric's app checks' stage for one submission; the path of apps.json (None: no app check)."""
    plan = plan_for(rubric)
    if plan is None:
        return None
    root = files_root.resolve()
    resolved = tuple(f.resolve() for f in files)
    apps = find_apps(root, resolved, plan.files)
    folder = student_dir / APPS_DIR
    data = setup if setup is not None and setup.mnist is not None else None
    report: dict[str, Any] = {"gradio": installed("gradio"), "apps": {}, "candidates": [a.rel for a in apps],
                              "data": data is not None}
    for kind in plan.kinds:
        app = pick(apps, kind)
        entry: dict[str, Any] = {"source": app.to_json() if app else None, "run": None}
        if app is not None and data is not None and not (kind == "web" and report["gradio"] is None):
            try:
                entry["run"] = run_app(app, resolved, root, box, data, plan, limits, folder / kind)
            except (OSError, GraderError) as exc:  # no room for the submission; the sandbox did not start
                logger.warning("app %s could not be run: %s", app.rel, exc)
                entry["run"] = {"status": "client_error", "error": str(exc)[:300], "indices": []}
        report["apps"][kind] = entry
    if plan.docker:
        report["docker"] = docker_report(root, resolved, apps, use_docker, plan.docker_timeout_s)
    path = folder / APPS_FILE
    write_json_atomic(path, report)
    return path
