"""End to end on a batch `grader grade` made: the entries it records lead the review page to the
student's own markdown and the run's outputs, and `grader similarity` finds the copy."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")
pytest.importorskip("copydetect")

from starlette.testclient import TestClient  # noqa: E402

from grader.cli import main  # noqa: E402
from grader.grading import ENTRIES_FILE, GradeOptions, grade_batch  # noqa: E402
from grader.review.server import ReviewSettings, make_app  # noqa: E402
from grader.review.store import open_review  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

RUBRIC = """\
assignment: tiny_review
title: {ru: "Мини", en: "Tiny"}
lang: ru
limits: {timeout_s: 120, cell_timeout_s: 60}
checks:
  - {id: conclusions, kind: manual, title: {ru: "Выводы", en: "Conclusions"}, points: 2,
     params: {look_for: ["вывод"]}}
"""
CODE = ["def loss(w):\n    return (w - 3.0) ** 2 + 0.5 * w\n\n\ndef grad(w):\n    return 2 * (w - 3.0) + 0.5\n",
        "w = 10.0\nhistory = []\nfor step in range(200):\n    w -= 0.05 * grad(w)\n    history.append(loss(w))\n"
        "print(f'w = {w:.4f}, loss = {history[-1]:.4f}')\n",
        "import matplotlib.pyplot as plt\nplt.plot(history)\nplt.title('loss')\nplt.show()\n",
        "def momentum(start, lr=0.05, beta=0.9, steps=300):\n    w, v, path = start, 0.0, [start]\n"
        "    for _ in range(steps):\n        v = beta * v - lr * grad(w)\n        w += v\n        path.append(w)\n"
        "        if abs(v) < 1e-8:\n            break\n    return w, path\n\n\n"
        "w_m, path_m = momentum(10.0)\nprint(len(path_m), round(w_m, 4), round(loss(w_m), 4))\n"]
OTHER = ["import math\nvalues = [math.sin(k / 7) for k in range(50)]\nbest = max(range(50), key=values.__getitem__)\n"
         "print('best step:', best, round(values[best], 3))\n"]


def _notebook(path: Path, code: list[str], conclusion: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = ([nbformat.v4.new_markdown_cell("# Задание")] + [nbformat.v4.new_code_cell(c) for c in code]
                + [nbformat.v4.new_markdown_cell(f"## Выводы\n{conclusion}")])
    path.parent.mkdir(parents=True)
    nbformat.write(nb, str(path))


def test_review_and_similarity_on_a_graded_batch(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    _notebook(subs / "anna" / "hw.ipynb", CODE, "Шаг 0,05 сходится за 200 шагов.")
    _notebook(subs / "boris" / "hw.ipynb", CODE, "Списано, но выводы свои.")
    _notebook(subs / "vera" / "hw.ipynb", OTHER, "Синус достигает максимума.")
    rubric_path = tmp_path / "tiny_review.yaml"
    rubric_path.write_text(RUBRIC, encoding="utf-8")
    out = tmp_path / "out"
    grade_batch(subs, load_rubric(str(rubric_path)), GradeOptions(out_dir=out, workers=2, lang="ru"))
    entries = json.loads((out / ENTRIES_FILE).read_text(encoding="utf-8"))
    assert entries == {s: str((subs / s / "hw.ipynb").resolve()) for s in ("anna", "boris", "vera")}

    client = TestClient(make_app(open_review(out, str(rubric_path)), ReviewSettings("tok", "ru")),
                        base_url="http://127.0.0.1")
    page = client.get("/tok/s/anna").text
    assert "Шаг 0,05 сходится за 200 шагов." in page  # the student's markdown, from the entry file
    assert "w = 2.7500, loss = 1.4375" in page  # the run's output, from the executed notebook
    assert 'data-cells="2"' in page
    plot = page.split('id="code-3"')[1].split('<div class="cell')[0]
    assert 'src="data:image/png;base64,' in plot  # the plot the sandbox captured, under the cell that drew it

    result = CliRunner().invoke(main, ["similarity", str(out), "-a", str(rubric_path)])
    assert result.exit_code == 0, result.output
    assert "похожих пар: 1" in result.output
    assert "anna" in client.get("/tok/s/boris").text.split('id="similarity"')[1]
