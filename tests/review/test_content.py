"""What the review page shows of a student: safe markdown and code, the run's outputs, the items."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("markdown_it")

from grader.results import CheckResult, Flag, Review, SubmissionResult  # noqa: E402
from grader.review.items import left_to_review, parse_decisions, review_items  # noqa: E402
from grader.review.render import code_html, markdown_html  # noqa: E402
from grader.review.sources import executed_outputs, student_cells, student_notebook  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader_inside.notebook import Cell  # noqa: E402

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_markdown_keeps_no_markup_or_script_of_the_student() -> None:
    html = str(markdown_html(
        "# Вывод\n<script>alert(1)</script>\n\n<b onclick=x>bold</b> [a](javascript:alert(1)) "
        "[b](JAVASCRIPT:alert(1)) [c](vbscript:x) ![d](data:image/svg+xml;base64,PHN2Zz4=) "
        "![e](attachment:pic.png) ![f](attachment:none.png) [g](https://example.org/x)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        {"pic.png": ("image/png", PNG)}))
    assert "<script" not in html and "<b onclick" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html.lower()  # left as text
    assert 'href="vbscript' not in html and 'src="data:image/svg' not in html
    assert f'src="data:image/png;base64,{PNG}"' in html and 'src=""' in html
    assert '<a href="https://example.org/x" target="_blank" rel="noopener noreferrer nofollow">g</a>' in html
    assert "<h1>Вывод</h1>" in html and "<td>2</td>" in html


def test_code_is_escaped() -> None:
    html = str(code_html("s = '</code></pre><script>alert(1)</script>'"))
    assert "<script>" not in html and "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in html


def _executed(path: Path, outputs: list[dict]) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.id = "student-1"
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    grader_cell = nbformat.v4.new_code_cell("probe()")
    grader_cell.id = "grader-probe"
    nb.cells = [cell, grader_cell]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def test_outputs_are_read_as_plain_data(tmp_path: Path) -> None:
    path = tmp_path / "run" / "executed.ipynb"
    _executed(path, [
        {"output_type": "stream", "name": "stderr", "text": "warn\n"},
        {"output_type": "error", "ename": "ValueError", "evalue": "bad",
         "traceback": ["\x1b[31mValueError\x1b[0m: bad"]},
        {"output_type": "display_data", "data": {"image/png": "not base64!"}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/png": PNG + "\n"}, "metadata": {}},
        {"output_type": "display_data", "data": {"application/javascript": "alert(1)"}, "metadata": {}},
    ])
    outs = executed_outputs(path)[1]
    assert [(o.kind, o.text) for o in outs[:2]] == [("stderr", "warn\n"), ("error", "ValueError: bad")]
    assert outs[2].kind == "omitted" and outs[2].text == "image/png"  # broken image: named, not shown
    assert outs[3].kind == "image" and outs[3].data == PNG
    assert outs[4].kind == "omitted" and outs[4].text == "application/javascript"
    assert set(executed_outputs(path)) == {1}  # the grader's own cells are not the student's


def test_a_moved_entry_falls_back_to_the_executed_code_and_garbage_to_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _executed(out / "ann" / "run" / "executed.ipynb", [{"output_type": "stream", "name": "stdout", "text": "1\n"}])
    (out / ".entries.json").write_text(json.dumps({"Ann": str(tmp_path / "gone.ipynb")}), encoding="utf-8")
    (out / ".folders.json").write_text(json.dumps({"Ann": "ann", "Ben": "ben"}), encoding="utf-8")
    notebook = student_notebook(out, "Ann")
    assert notebook.where == "executed" and [c.source for c in notebook.cells] == ["x = 1"]
    assert notebook.cells[0].outputs[0].text == "1\n"
    assert student_cells(out, "Ann") == [Cell("code", "x = 1", 1)]
    (out / "ben" / "run").mkdir(parents=True)
    (out / "ben" / "run" / "executed.ipynb").write_text('{"cells": [{"id": "student-1"', encoding="utf-8")
    assert student_notebook(out, "Ben").where == "none" and student_cells(out, "Ben") == []


RUBRIC = """\
assignment: items
title: {ru: "Пункты", en: "Items"}
checks:
  - {id: auto, kind: notebook.augmentation, title: {ru: "А", en: "A"}, points: 2}
  - {id: acc, kind: models.accuracy, title: {ru: "Т", en: "Acc"}, points: 4}
  - {id: answers, kind: manual, title: {ru: "Ответы", en: "Answers"}, points: 3, params: {look_for: ["ответ"]}}
"""


def test_items_are_manual_and_flagged_checks_and_are_done_once_graded(tmp_path: Path) -> None:
    (tmp_path / "items.yaml").write_text(RUBRIC, encoding="utf-8")
    rubric = load_rubric(str(tmp_path / "items.yaml"))
    checks = (CheckResult("auto", "A", "pass", 2.0, 2.0, ""), CheckResult("acc", "Acc", "pass", 4.0, 4.0, ""),
              CheckResult("answers", "Answers", "manual", 0.0, 3.0, ""))
    result = SubmissionResult("Ann", "hw.ipynb", "0", "graded", 6.0, 9.0, 0.0, None, checks,
                              flags=(Flag("implausible", "too good", "acc"), Flag("tampering", "changed", None)))
    cells = [Cell("markdown", "# ДЗ", 1), Cell("markdown", "## Ответы на вопросы", 2), Cell("code", "ответ = 1", 1)]
    items, others = review_items(result, rubric, cells)
    assert [(i.check.id, i.manual, [f.kind for f in i.flags], i.cells) for i in items] == [
        ("acc", False, ["implausible"], ()), ("answers", True, [], (2,))]
    assert [i.check.id for i in others] == ["auto"] and left_to_review(result) == 2
    graded = CheckResult("answers", "Answers", "partial", 2.0, 3.0, "ok", review=Review("ok", "manual", 0.0, ""))
    result = SubmissionResult("Ann", "hw.ipynb", "0", "graded", 8.0, 9.0, 0.0, None, (checks[0], checks[1], graded))
    items, _ = review_items(result, rubric, cells)
    assert [(i.check.id, i.done, i.points, i.comment) for i in items] == [("answers", True, "2", "ok")]
    assert left_to_review(result) == 0


def test_decisions_are_read_from_the_form_in_either_decimal_notation() -> None:
    checks = (CheckResult("a", "A", "manual", 0.0, 3.0, ""), CheckResult("b", "B", "pass", 1.0, 1.0, ""),
              CheckResult("c", "C", "pass", 1.0, 1.0, ""))
    result = SubmissionResult("Ann", "hw.ipynb", "0", "graded", 1.0, 5.0, 0.0, None, checks)
    decisions, problems = parse_decisions({"points:a": " 1,25 ", "comment:a": " Хорошо ", "points:b": ""}, result, "ru")
    assert problems == []
    assert [(d.check, d.points, d.comment) for d in decisions] == [("a", 1.25, "Хорошо"), ("b", None, "")]
    _, problems = parse_decisions({"points:a": "3,5"}, result, "ru")
    assert problems == ["«A»: 3,5 — вне диапазона от 0 до 3."]


def test_captured_plots_join_the_cell_that_drew_them(tmp_path: Path) -> None:
    import base64

    run = tmp_path / "run"
    run.mkdir()
    png = base64.b64decode(PNG)
    (run / "fig1.png").write_bytes(png)
    (run / "fig2.png").write_bytes(b"<svg onload=alert(1)>")  # not a PNG
    (tmp_path / "secret.png").write_bytes(png)
    (run / "fig3.png").symlink_to(tmp_path / "secret.png")  # out of the run folder
    (run / "figures.json").write_text(json.dumps([
        {"id": "fig1", "png": "fig1.png", "cell": 2}, {"id": "fig2", "png": "fig2.png", "cell": 2},
        {"id": "fig3", "png": "fig3.png", "cell": 2}, {"id": "x", "png": "../secret.png", "cell": 1},
        {"id": "y", "png": "fig1.png", "cell": "2"}, "junk"]), encoding="utf-8")
    from grader.review.sources import run_figures

    figures = run_figures(run)
    assert list(figures) == [2] and [f.data for f in figures[2]] == [PNG]
