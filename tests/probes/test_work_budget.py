"""The models probes' work budget (grader_inside.probes.budget): CPU time, a wall-clock backstop."""
from __future__ import annotations

import pytest

from grader_inside.probes import budget as budget_module
from grader_inside.probes.budget import WorkBudget, out_of_budget


class Clocks:
    def __init__(self) -> None:
        self.cpu, self.wall = 100.0, 5000.0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(budget_module.time, "process_time", lambda: self.cpu)
        monkeypatch.setattr(budget_module.time, "monotonic", lambda: self.wall)


def test_cpu_time_spends_the_budget_and_waiting_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = Clocks()
    clocks.install(monkeypatch)
    work = WorkBudget(10.0)
    clocks.wall += 30.0  # a busy machine: the probe's work took 30 s of real time, 9 s of CPU
    clocks.cpu += 9.0
    assert work.spent() is None
    assert work.spent(ahead_s=1.0) == "cpu"  # the next piece would not fit
    clocks.cpu += 1.0
    assert work.spent() == "cpu"
    assert work.record() == {"budget_cpu_s": 10.0, "cpu_s": 10.0, "wall_s": 30.0}


def test_the_wall_clock_is_only_a_backstop(monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = Clocks()
    clocks.install(monkeypatch)
    work = WorkBudget(10.0)
    clocks.wall += 39.0
    assert work.spent() is None
    clocks.wall += 1.0  # four times the budget, with no CPU used: code that waits
    assert work.spent() == "wall"
    assert "backstop" in out_of_budget("wall", "not evaluated")
    assert "CPU-time budget" in out_of_budget("cpu", "not evaluated")
