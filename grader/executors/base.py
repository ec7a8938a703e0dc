"""The executor interface: where the sandboxed runs of a batch happen.

The pipeline (grader.grading) finds the students, decides who needs a run, and checks and
writes each result; an executor only runs. `runs` yields every submission of `todo` once, in the
order the runs end, with what the run left for the checks (or the student's result already, when
there was nothing to run or the run failed in a way the executor knows); it calls `started` as a
submission's run begins. Whatever an executor does, each student's result is written by the
pipeline, in the output folder, exactly as a local batch writes it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the pipeline's types: grading imports this module, never the other way round
    from grader.grading import BatchPlan, Staged
    from grader.intake import Submission


class Executor(Protocol):
    name: str
    description: str  # the isolation its runs have, one line for results.json
    gpu: bool | None  # whether its runs get a GPU (None: as this machine has one)

    def runs(self, plan: BatchPlan, todo: Sequence[Submission],
             started: Callable[[Submission], None]) -> Iterator[tuple[Submission, Staged]]: ...

    def close(self) -> None: ...
