"""Check families. `CHECKS` maps a rubric `kind` to its function (an explicit table).

What each kind takes (`params`) and returns (outcome keys for `credit`) is declared in
`grader.rubric.kinds.KINDS`, which the rubric loader checks every rubric against; a kind added
here needs its line there too (tests/rubric/test_kinds.py compares the two tables).
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

from grader.checks.base import CheckContext, CheckFn, Outcome


class CheckTable(MutableMapping[str, CheckFn]):
    """Kind -> check function, each module imported on first use.

    A Task 1 batch needs only ``gd``: importing every family up front (the app checks bring the
    models' set-up, and that brings numpy and pydantic schemas) cost the grader's process 0.17 s
    before its first check. Entries are "module:function" until looked up; tests may set callables.
    """

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries: dict[str, str | CheckFn] = dict(entries)

    def __getitem__(self, kind: str) -> CheckFn:
        entry = self._entries[kind]
        if isinstance(entry, str):
            module, _, name = entry.partition(":")
            entry = getattr(importlib.import_module(f"grader.checks.{module}"), name)
            self._entries[kind] = entry
        return entry  # type: ignore[return-value]

    def __setitem__(self, kind: str, fn: CheckFn) -> None:
        self._entries[kind] = fn

    def __delitem__(self, kind: str) -> None:
        del self._entries[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


CHECKS = CheckTable({
    "gd.function": "gd:check_function",
    "gd.gradient": "gd:check_gradient",
    "gd.steps": "gd:check_steps",
    "gd.plot": "gd:check_plot",
    "gd.stop_rule": "gd:check_stop_rule",
    "gd.momentum": "gd:check_momentum",
    "gd.nesterov": "gd:check_nesterov",
    "models.inventory": "models:check_inventory",
    "models.accuracy": "models:check_accuracy",
    "models.beats_example": "models:check_beats_example",
    "models.convolutional": "models:check_convolutional",
    "models.retrained": "models:check_retrained",
    "notebook.augmentation": "notebook:check_augmentation",
    "notebook.pretrained": "notebook:check_pretrained",
    "notebook.curves": "notebook:check_curves",
    "notebook.save_load": "notebook:check_save_load",
    "notebook.answers": "notebook_answers:check_answers",
    "manual": "manual:check_manual",
    "transfer.transfer_learning": "transfer:check_transfer_learning",
    "transfer.layers": "transfer:check_layers",
    "transfer.overfitting": "transfer:check_overfitting",
    "transfer.retrained": "transfer:check_retrained",
    "app.web": "app:check_web",
    "app.api": "app:check_api",
    "app.docker": "app:check_docker",
    "app.compose": "app:check_compose",
})

RUN_EVIDENCE_KINDS = frozenset(k for k in CHECKS if k.startswith(("gd.", "models.", "transfer."))) | {"notebook.curves"}
NOTHING_FOUND = frozenset({"missing", "model_missing", "too_few", "untrained", "no_prediction"})

__all__ = ["CHECKS", "CheckTable", "NOTHING_FOUND", "RUN_EVIDENCE_KINDS", "CheckContext", "CheckFn", "Outcome"]
