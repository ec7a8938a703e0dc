"""A probe's budget in work, not wall time: CPU seconds of the kernel's process (all its threads).

The models probes evaluate and retrain students' models inside the kernel. How much of that they
get to do must not depend on how busy the machine is, so their budgets count the CPU time the
kernel's process used since the probe began (`time.process_time`: every thread, so torch's
intra-op threads too). A wall-clock limit of `WALL_FACTOR` times the budget stays only as a
backstop against work that waits (a GPU queue, a lock); when it fires, the records say so, and the
grader sends what it decided to the instructor's review instead of grading it.
"""
from __future__ import annotations

import time

WALL_FACTOR = 4.0


class WorkBudget:
    def __init__(self, cpu_s: float, wall_factor: float = WALL_FACTOR) -> None:
        self.cpu_s = cpu_s
        self.wall_s = cpu_s * wall_factor
        self._cpu0 = time.process_time()
        self._wall0 = time.monotonic()

    def used(self) -> float:
        """CPU seconds used since the budget began."""
        return time.process_time() - self._cpu0

    def waited(self) -> float:
        return time.monotonic() - self._wall0

    def spent(self, ahead_s: float = 0.0) -> str | None:
        """Which limit is reached ("cpu", or "wall" for the backstop), None while neither is;
        `ahead_s`: CPU seconds the next piece of work is expected to need."""
        if self.used() + ahead_s >= self.cpu_s:
            return "cpu"
        if self.waited() + ahead_s >= self.wall_s:
            return "wall"
        return None

    def record(self) -> dict[str, float]:
        return {"budget_cpu_s": self.cpu_s, "cpu_s": round(self.used(), 3), "wall_s": round(self.waited(), 3)}


def out_of_budget(limit: str, what: str) -> str:
    """The record's text for work not done, naming the limit that stopped it."""
    if limit == "wall":
        return f"{what}: the backstop wall-clock limit of the evaluation was reached"
    return f"{what}: the evaluation's CPU-time budget was used up"
