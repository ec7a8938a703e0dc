"""Figures as data: a check returns what to draw, the pipeline has the report draw it into the
student's folder and names the file in the result (the check itself writes nothing)."""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import numpy as np
from canned_executor import CannedExecutor

from grader.grading import GradeOptions, grade_batch
from grader.rubric import load_rubric
from reference import gd as ref

SVG = "{http://www.w3.org/2000/svg}"


def f(x: float) -> float:
    return 3 * x**2 - math.sin(x) + math.exp(x) - 5


def df(x: float) -> float:
    return 6 * x - math.cos(x) + math.exp(x)


def gd_probe(steps: list[float]) -> dict:
    """What the gd probe records of a notebook that tabulated f and its derivative and took `steps`."""
    points = np.unique(np.concatenate([np.linspace(-3, 3, 801), np.array(steps)]))
    functions = [{"id": f"fn{i}", "name": name, "origin": "callable", "source": None,
                  "values": [fn(p) for p in points], "derivs": [(fn(p + 1e-6) - fn(p - 1e-6)) / 2e-6 for p in points]}
                 for i, (name, fn) in enumerate((("f", f), ("df", df)))]
    sequence = {"id": "sq0", "origin": "trace", "name": "x", "scope": "<module>", "cell": 1, "values": steps,
                "order": 0}
    return {"gd": {"points": points.tolist(), "functions": functions, "sequences": [sequence], "calls": [],
                   "scalars": {}}}


def test_the_steps_figure_is_drawn_into_the_students_folder(tmp_path: Path) -> None:
    folder = tmp_path / "class" / "anna"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1.5\nfor _ in range(6):\n    x = x - 0.05 * df(x)")]
    nbformat.write(nb, str(folder / "task1.ipynb"))
    steps = ref.run_gd(df, 1.5, 0.05, 6)
    out = tmp_path / "out"
    batch = grade_batch(tmp_path / "class", load_rubric("task1"), GradeOptions(out_dir=out, lang="en"),
                        executor=CannedExecutor(probe=gd_probe(steps)))

    checks = {c.id: c for c in batch.students[0].checks}
    assert checks["steps"].status == "pass", checks["steps"].message
    assert checks["steps"].figures == ("steps_gd.svg",)
    saved = json.loads((out / "anna" / "result.json").read_text(encoding="utf-8"))
    assert next(c for c in saved["checks"] if c["id"] == "steps")["figures"] == ["steps_gd.svg"]
    root = ET.parse(out / "anna" / "steps_gd.svg").getroot()
    assert len(root.findall(f".//{SVG}circle")) == len(steps) + 1  # the student's steps + the legend's
    assert [t.text for t in root.iter(f"{SVG}text")][-3:] == ["f", "reference", "student's steps"]
