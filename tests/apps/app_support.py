"""Helpers for the app tests: the samples, a rubric of only the app checks, and a way to run the app
stage and the app checks on one submission folder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.families.apps.stage import run_app_stage
from grader.artifacts import CheckContext
from grader.families import CHECKS
from grader.families.models.setup import ModelsSetup
from grader.rubric import Rubric, load_rubric
from grader.sandbox import GIB, Limits, Sandbox

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "submissions" / "task2_apps"
APP_KINDS = ("app.web", "app.api", "app.docker", "app.compose")


def app_rubric(digits: int = 40) -> Rubric:
    """rubrics/task2.yaml with only its app checks, asking `digits` hidden digits per app."""
    rubric = load_rubric("task2")
    checks = []
    for check in rubric.checks:
        if check.kind in APP_KINDS:
            params = {**check.params, "digits": digits} if check.kind in ("app.web", "app.api") else check.params
            checks.append(check.model_copy(update={"params": params}))
    return rubric.model_copy(update={"evaluation": None, "checks": checks})


@dataclass(frozen=True)
class Graded:
    """What the app checks said about one folder: (key, message, metrics) per check id, shares by id."""

    outcomes: dict[str, Any]
    shares: dict[str, float]
    report: Path


def grade_folder(folder: Path, out: Path, rubric: Rubric, box: Sandbox, setup: ModelsSetup | None,
                 lang: str = "en", docker: bool = False) -> Graded:
    """The app stage on `folder` (all its files, as intake would hand them) and every app check."""
    files = tuple(p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith("."))
    report = run_app_stage(files, folder, rubric, box, out, setup, Limits(memory_bytes=4 * GIB), docker)
    assert report is not None
    ctx = CheckContext(lang=lang, cells=[], run_cells=(), probe={}, figures=[], out_dir=out, data=setup)
    outcomes, shares = {}, {}
    for spec in rubric.checks:
        outcome = CHECKS[spec.kind](ctx, dict(spec.params))
        outcomes[spec.id] = outcome
        shares[spec.id] = spec.credit.get(outcome.key, 1.0 if outcome.key == "ok" else 0.0)
    return Graded(outcomes, shares, report)
