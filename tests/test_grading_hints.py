"""The 'a failed cell may be why' hint goes only where it can be true."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader import families as checks
from grader.artifacts import CheckContext, Outcome
from grader.grading import _score
from grader.rubric import load_rubric
from grader.run.runner import CellRecord, RunOutcome

RUBRIC = """\
assignment: hints
title: {ru: "Подсказки", en: "Hints"}
lang: en
checks:
  - {id: steps, kind: gd.steps, title: {ru: "Шаги", en: "Steps"}, points: 2}
  - {id: gradient, kind: gd.gradient, title: {ru: "Производная", en: "Derivative"}, points: 1}
  - {id: augmentation, kind: notebook.augmentation, title: {ru: "Аугментация", en: "Augmentation"}, points: 1}
"""


@pytest.mark.parametrize(("check_id", "key", "hinted"), [
    ("steps", "missing", True),         # nothing found in what the run left: the failed cell may be why
    ("gradient", "wrong", False),       # a wrong derivative was found: the failure is not the reason
    ("augmentation", "missing", False),  # read from the source: a failed cell cannot hide code
])
def test_failed_cell_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, check_id: str, key: str,
                          hinted: bool) -> None:
    (tmp_path / "hints.yaml").write_text(RUBRIC, encoding="utf-8")
    rubric = load_rubric(str(tmp_path / "hints.yaml"))
    spec = rubric.check(check_id)
    monkeypatch.setitem(checks.CHECKS, spec.kind, lambda ctx, params: Outcome(key, "Verdict."))
    run = RunOutcome("ok", "", (CellRecord(3, "error", "NameError", "name 'x' is not defined"),), {}, (),
                     tmp_path, (), "test", 0.0)
    ctx = CheckContext("en", [], run.cells, {}, [], tmp_path)
    message = _score(spec, ctx, run, "en")[0].message
    assert message.startswith("Verdict.")
    assert ("cell 3 failed (NameError)" in message) is hinted
