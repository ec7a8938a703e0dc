"""The apps family's hooks (grader/family.py): the stage that starts the students' apps after the
notebook's run, and the part of the cache key that --docker adds."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.families.apps.stage import run_app_stage
from grader.sandbox import Sandbox

if TYPE_CHECKING:
    from grader.grading import PlannedRun


def stage(planned: PlannedRun, box: Sandbox, student_dir: Path) -> None:
    """Run the rubric's apps, each in a sandbox of its own, into `student_dir`/apps."""
    request = planned.request
    root = request.files_root if request.files_root is not None else request.entry.parent
    run_app_stage(request.files, root, planned.rubric, box, student_dir, planned.setup, request.limits,
                  bool(planned.options.get("docker")))


def cache_parts(options: Mapping[str, Any]) -> list[str]:
    return ["+docker"] if options.get("docker") else []
