"""plotly figures are captured when shown, and plotly is imported only if the student does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader_inside.prepare import SHIMS

pytest.importorskip("plotly")

SCRIPT = """
import json, sys
from pathlib import Path
from grader_inside.probes.capture import FigureCapture
cap = FigureCapture(Path(sys.argv[1]))
cap.install()
before = "plotly" in sys.modules
import plotly.graph_objects as go
fig = go.Figure(go.Scatter(x=[-1.0, 0.5, 1.0], y=[1.0, 0.25, 1.0], mode="markers"))
fig.show()
import plotly.io as pio
pio.show(go.Figure(go.Scatter(x=[0.0, 1.0, 2.0], y=[0.0, 1.0, 4.0], mode="lines")))
print(json.dumps({"imported_at_install": before, "figures": cap.figures}))
"""


@pytest.mark.parametrize("shims", [True, False], ids=["lazy-hook", "without-shims"])
def test_plotly_show_is_captured(tmp_path: Path, shims: bool) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(([str(SHIMS)] if shims else []) + sys.path)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["imported_at_install"] is (not shims)
    figures = found["figures"]
    assert [f["library"] for f in figures] == ["plotly", "plotly"]
    assert figures[0]["axes"][0]["points"] == [{"x": [-1.0, 0.5, 1.0], "y": [1.0, 0.25, 1.0]}]
    assert figures[1]["axes"][0]["lines"][0]["y"] == [0.0, 1.0, 4.0]
    assert all((tmp_path / f["png"]).is_file() for f in figures)
