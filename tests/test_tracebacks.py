"""IPython's execution counts in tracebacks become the student's cell numbers."""
from __future__ import annotations

import json
from pathlib import Path

from grader.tracebacks import execution_counts, in_student_cells

# What IPython 8 writes when cell 4 (run 9th) calls a function from cell 2 (run 5th)
TRACEBACK = """\
NameError                                 Traceback (most recent call last)
Cell In[9], line 5
      4 for i in range(1000):
----> 5     v = step(v)

Cell In[5], line 2, in step(v)
      1 def step(v):
----> 2     return gama * v

NameError: name 'gama' is not defined"""


def executed(tmp_path: Path, counts: dict[str, int | None]) -> Path:
    path = tmp_path / "executed.ipynb"
    path.write_text(json.dumps({"cells": [{"id": cid, "cell_type": "code", "execution_count": n, "source": ""}
                                          for cid, n in counts.items()]}), encoding="utf-8")
    return path


def test_every_cell_is_named_by_the_students_number(tmp_path: Path) -> None:
    counts = execution_counts(executed(tmp_path, {"student-1": 3, "student-2": 5, "student-3": 7, "student-4": 9}))
    assert counts == {3: 1, 5: 2, 7: 3, 9: 4}
    text = in_student_cells(TRACEBACK, counts, failing_cell=4)
    assert "Cell 4, line 5" in text and "Cell 2, line 2, in step(v)" in text and "In[" not in text


def test_without_the_notebook_the_failing_cell_is_still_renamed(tmp_path: Path) -> None:
    text = in_student_cells(TRACEBACK, execution_counts(tmp_path / "missing.ipynb"), failing_cell=4)
    assert text.startswith("NameError") and "Cell 4, line 5" in text and "Cell In[5], line 2" in text


def test_ipython7_names_and_a_forged_notebook(tmp_path: Path) -> None:
    old = "<ipython-input-9-3f2a1b> in <module>\n----> 5 v = gama"
    assert in_student_cells(old, {}, failing_cell=4) == "Cell 4 in <module>\n----> 5 v = gama"
    forged = tmp_path / "executed.ipynb"
    forged.write_text('{"cells": [{"id": "student-x", "execution_count": "9"}, 7, null]}', encoding="utf-8")
    assert execution_counts(forged) == {}
    forged.write_text("not json", encoding="utf-8")
    assert execution_counts(forged) == {}
