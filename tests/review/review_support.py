"""A graded batch folder for the review tests, as `grader grade` leaves it: results, report
folders, the run's executed notebooks, the entry files, and student content that tries to run
script in the reviewer's browser."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat

from grader.report.batch import render_batch
from grader.results import BatchResult, CheckResult, Flag, SubmissionResult, write_json_atomic

RUBRIC = """\
assignment: demo_review
title: {ru: "Демо-проверка", en: "Review demo"}
lang: en
checks:
  - {id: augmentation, kind: notebook.augmentation, title: {ru: "Аугментация", en: "Augmentation"}, points: 2}
  - {id: accuracy, kind: models.accuracy, title: {ru: "Точность", en: "Accuracy"}, points: 4}
  - {id: conclusions, kind: manual, title: {ru: "Выводы", en: "Conclusions"}, points: 3,
     params: {look_for: ["вывод", "conclusion"]}}
"""

HOSTILE_MD = ("## Conclusions\nThe CNN wins. <script>window.pwned = 1</script> "
              "<img src=x onerror=\"window.pwned = 2\"> [click](javascript:window.pwned=3)")
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

# student -> (folder, markdown cells, code cells)
STUDENTS = {
    "Alice Smith": ("alice_smith", ["# Homework 2", HOSTILE_MD], ["import numpy as np\nx = np.arange(3)\nx", "print('done')"]),
    "Bob Jones": ("bob_jones", ["# HW2", "## Выводы\nСеть лучше перцептрона."], ["model = 1\nmodel"]),
    "Carol White": ("carol_white", ["# HW2"], ["print('hi')"]),
    "Пётр Петров": ("Пётр_Петров", ["# ДЗ 2"], ["print('привет')"]),
}


def _checks(manual_status: str = "manual") -> tuple[CheckResult, ...]:
    return (CheckResult("augmentation", "Augmentation", "pass", 2.0, 2.0, "Augmentation is used in training."),
            CheckResult("accuracy", "Accuracy", "pass", 4.0, 4.0, "Accuracy 99.97 % on the hidden set."),
            CheckResult("conclusions", "Conclusions", manual_status, 0.0, 3.0, "Awaiting review by the instructor."))


def batch() -> BatchResult:
    alice = SubmissionResult("Alice Smith", "hw2.ipynb", "a" * 64, "graded", 6.0, 9.0, 1.0, None, _checks(), lang="en",
                             flags=(Flag("implausible", "Accuracy 99.97 % is above the plausible 99.8 %.", "accuracy"),))
    bob = SubmissionResult("Bob Jones", "hw2.ipynb", "b" * 64, "graded", 6.0, 9.0, 1.0, None, _checks(), lang="en",
                           flags=(Flag("tampering", "The grader's code was changed in the kernel.", None),))
    carol = SubmissionResult("Carol White", "hw2.ipynb", "c" * 64, "graded", 6.0, 9.0, 1.0, None, _checks(), lang="en")
    petr = SubmissionResult("Пётр Петров", "hw2.ipynb", "d" * 64, "graded", 6.0, 9.0, 1.0, None, _checks(), lang="en")
    return BatchResult("demo_review", "2026-12-01T10:00:00+00:00", (alice, bob, carol, petr), sandbox="bwrap")


def _executed(code: list[str], hostile: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for number, source in enumerate(code, 1):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"student-{number}"
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output of cell {number}\n")]
        if hostile and number == 1:
            cell.outputs += [
                nbformat.v4.new_output("display_data", data={"text/html": "<script>window.pwned = 4</script>"}),
                nbformat.v4.new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"}),
                nbformat.v4.new_output("execute_result", data={"text/plain": "<b>array([0, 1, 2])</b>"},
                                       execution_count=1),
            ]
        nb.cells.append(cell)
    return nb


def make_batch(root: Path) -> tuple[Path, Path]:
    """(the batch folder, the rubric file)."""
    out = root / "out"
    subs = root / "submissions"
    rubric = root / "demo_review.yaml"
    rubric.write_text(RUBRIC, encoding="utf-8")
    folders, entries = {}, {}
    for student, (folder, markdown, code) in STUDENTS.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(markdown[0])] + [nbformat.v4.new_code_cell(c) for c in code] + \
            [nbformat.v4.new_markdown_cell(m) for m in markdown[1:]]
        entry = subs / folder / "hw2.ipynb"
        entry.parent.mkdir(parents=True)
        nbformat.write(nb, str(entry))
        run = out / folder / "run"
        run.mkdir(parents=True)
        nbformat.write(_executed(code, hostile=student == "Alice Smith"), str(run / "executed.ipynb"))
        folders[student], entries[student] = folder, str(entry)
    (out / ".folders.json").write_text(json.dumps(folders, ensure_ascii=False), encoding="utf-8")
    (out / ".entries.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    data = batch()
    write_json_atomic(out / "results.json", data.to_json())
    render_batch(data, out, title="Review demo", lang="en", check_ids=["augmentation", "accuracy", "conclusions"])
    return out, rubric


@contextmanager
def running(app: object) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port in a thread; yields http://127.0.0.1:PORT."""
    from grader.review.server import bind, server_for

    sock = bind(0)
    server = server_for(app)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
