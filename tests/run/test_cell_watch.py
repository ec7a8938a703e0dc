"""The harness's cell watch, with a fake CPU clock: which cell it stops, and when it kills."""
from __future__ import annotations

import threading
import time

from grader_inside.cpuclock import CellWatch


class FakeClock:
    def __init__(self) -> None:
        self.value = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.value

    def spend(self, seconds: float) -> None:
        with self.lock:
            self.value += seconds


def _watch(clock: FakeClock, grace_s: float = 0.5) -> tuple[CellWatch, list[str]]:
    calls: list[str] = []
    return CellWatch(lambda: calls.append("interrupt"), lambda: calls.append("kill"), clock, grace_s), calls


def _wait_for(predicate, timeout: float = 3.0) -> None:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.02)


def test_a_cell_over_its_cpu_budget_is_interrupted_and_no_later_cell_is_killed_for_it() -> None:
    clock = FakeClock()
    watch, calls = _watch(clock)
    watch.start(budget_s=1.0, idle_s=60)
    clock.spend(2.0)
    _wait_for(lambda: calls)
    assert watch.stop() >= 2.0 and watch.reason == "cpu" and calls == ["interrupt"]
    for _ in range(5):  # the cells after it, each with time to spare
        watch.start(budget_s=100.0, idle_s=60)
        clock.spend(0.05)
        time.sleep(0.15)
        watch.stop()
    time.sleep(0.7)  # longer than the grace: the first cell's watch must not kill anything now
    assert calls == ["interrupt"]


def test_a_cell_that_ignores_the_interrupt_is_killed_after_the_grace() -> None:
    clock = FakeClock()
    watch, calls = _watch(clock, grace_s=0.3)
    watch.start(budget_s=1.0, idle_s=60)
    clock.spend(1.5)
    _wait_for(lambda: "kill" in calls)
    assert calls == ["interrupt", "kill"]
    watch.stop()


def test_a_cell_that_uses_no_cpu_is_stopped_as_waiting() -> None:
    clock = FakeClock()
    watch, calls = _watch(clock)
    watch.start(budget_s=100.0, idle_s=0.3)
    _wait_for(lambda: calls)
    assert watch.reason == "idle" and calls == ["interrupt"]
    watch.stop()


def test_a_cell_that_keeps_working_within_budget_is_left_alone() -> None:
    clock = FakeClock()
    watch, calls = _watch(clock)
    watch.start(budget_s=100.0, idle_s=0.3)
    for _ in range(8):
        clock.spend(0.05)
        time.sleep(0.1)
    assert watch.stop() > 0.39 and watch.reason is None and calls == []
