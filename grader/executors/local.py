"""The local executor: `workers` sandboxed runs at a time, as processes of this machine."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING

from grader.sandbox import Sandbox, get_sandbox

if TYPE_CHECKING:
    from grader.grading import BatchPlan, GradeOptions, Staged
    from grader.intake import Submission


class LocalExecutor:
    name = "local"
    gpu = None  # this machine's own devices decide

    def __init__(self, box: Sandbox, workers: int) -> None:
        self.box = box
        self.workers = max(1, workers)
        self.description = box.description

    def runs(self, plan: BatchPlan, todo: Sequence[Submission],
             started: Callable[[Submission], None]) -> Iterator[tuple[Submission, Staged]]:
        def one(sub: Submission) -> tuple[Submission, Staged]:
            started(sub)
            return sub, plan.run(sub, self.box)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="runs") as pool:
            for done in as_completed([pool.submit(one, sub) for sub in todo]):
                yield done.result()

    def close(self) -> None:
        """Nothing to hand back: each run's processes end with the run."""


def open_executor(options: GradeOptions, sandbox: Sandbox | None) -> LocalExecutor:
    return LocalExecutor(sandbox or get_sandbox(options.sandbox), options.workers)  # type: ignore[arg-type]
