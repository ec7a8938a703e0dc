"""A canned executor: runs nothing and hands the pipeline a canned run per submission, so the
checks and everything after them can be tested with no kernel and no sandbox."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from grader.grading import BatchPlan, Staged, land_run
from grader.intake import Submission
from grader.results import SubmissionResult
from grader.run.runner import RunOutcome

LOST = "the cluster lost this run (canned)"


class CannedExecutor:
    """Runs nothing: each run leaves a canned run.json (and `probe` as the probes' records), except
    `unreadable` (the runner could not read the notebook) and `lost` (the executor gives up on it,
    as Ray does after two lost workers)."""

    name = "canned"
    description = "canned runs (nothing executed)"
    gpu = None

    def __init__(self, unreadable: str = "", lost: str = "", probe: dict[str, Any] | None = None) -> None:
        self.unreadable, self.lost = unreadable, lost
        self.probe = probe or {}
        self.handed: list[str] = []
        self.closed = False

    def runs(self, plan: BatchPlan, todo: Sequence[Submission],
             started: Callable[[Submission], None]) -> Iterator[tuple[Submission, Staged]]:
        for sub in reversed(todo):  # in an order of its own, as a cluster finishes them
            started(sub)
            self.handed.append(sub.student_id)
            if sub.student_id == self.lost:
                yield sub, plan.failed(sub, LOST, self.description)
                continue
            planned = plan.plan(sub, self.description)
            assert not isinstance(planned, SubmissionResult)
            outbox = planned.student_dir / "run"
            outbox.mkdir(parents=True, exist_ok=True)
            (outbox / "run.json").write_text(json.dumps({"cells": [{"number": 1, "status": "ok"}]}), encoding="utf-8")
            status = "unreadable" if sub.student_id == self.unreadable else "ok"
            run = RunOutcome(status=status, message="not JSON" if status != "ok" else "", cells=(), probe=self.probe,
                             figures=(), outbox=outbox, skipped_lines=(), sandbox=self.description, duration_s=0.1)
            yield sub, land_run(planned, run, self.description)

    def close(self) -> None:
        self.closed = True
