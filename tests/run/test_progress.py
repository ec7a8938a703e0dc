"""Progress while a notebook runs (grader.run.progress): the harness's cell lines, read from the
run's output as it arrives, and shown by `grader check`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.rubric import load_rubric
from grader.run.progress import CellProgress
from grader.selfcheck import run_self_check


def test_lines_are_read_across_chunks_and_anything_else_is_ignored() -> None:
    seen: list[tuple[int, int]] = []
    feed = CellProgress(lambda n, total: seen.append((n, total)))
    feed(b"student output\n\x1egrader:ce")
    feed(b"ll 1/3\nmore \x1egrader:cell 2/3 in the middle of a line\n")
    feed(b"\x1egrader:cell 9/3\n\x1egrader:cell 0/3\n\x1egrader:cell 12345678/99999999\n")  # out of bounds
    feed(b"\x1egrader:cell 3/3\r\n" + b"x" * 100_000)  # an endless line is not kept whole
    assert seen == [(1, 3), (3, 3)]
    assert len(feed._pending) <= 4096


@pytest.mark.kernel
def test_a_self_check_reports_each_student_cell_as_it_starts(tmp_path: Path) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Задание 1"}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src}
              for src in ("x = 1", "def f(x):\n    return x ** 2", "print(f(x))")]
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                        encoding="utf-8")
    seen: list[tuple[int, int]] = []
    result = run_self_check(notebook, load_rubric("task1"), lang="ru", sandbox="plain",
                            progress=lambda n, total: seen.append((n, total)))
    assert result.result is not None and result.result.status == "graded"
    assert seen == [(1, 3), (2, 3), (3, 3)]
