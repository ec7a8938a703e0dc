"""`grader similarity OUT --starter NB`: similarity.json, the class index section, stale pairs."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

pytest.importorskip("copydetect")

import corpus  # noqa: E402

from grader.cli import main  # noqa: E402
from grader.report.batch import render_batch  # noqa: E402
from grader.results import BatchResult, CheckResult, SubmissionResult, load_batch, write_json_atomic  # noqa: E402
from grader.similarity.model import load_similarity  # noqa: E402

RUBRIC = """\
assignment: demo_similarity
title: {ru: "Сходство", en: "Similarity demo"}
lang: ru
checks:
  - {id: answers, kind: manual, title: {ru: "Ответы", en: "Answers"}, points: 1}
"""


def _batch_folder(tmp_path: Path, students: dict[str, list[str]]) -> tuple[Path, Path, Path]:
    """(the batch folder as grading leaves it, the rubric, the starter notebook)."""
    paths = corpus.write_class(tmp_path / "submissions", students)
    out = tmp_path / "out"
    results = [SubmissionResult(s, "hw.ipynb", f"{i:064x}", "graded", 0.0, 1.0, 0.0, None,
                                (CheckResult("answers", "Ответы", "manual", 0.0, 1.0, "Ждёт проверки."),), lang="ru")
               for i, s in enumerate(students)]
    batch = BatchResult("demo_similarity", "2026-12-01T10:00:00+00:00", tuple(results))
    write_json_atomic(out / "results.json", batch.to_json())
    (out / ".folders.json").write_text(json.dumps({s: s for s in students}), encoding="utf-8")
    (out / ".entries.json").write_text(json.dumps({s: str(p) for s, p in paths.items()}), encoding="utf-8")
    render_batch(batch, out, title="Сходство", lang="ru")
    rubric = tmp_path / "demo_similarity.yaml"
    rubric.write_text(RUBRIC, encoding="utf-8")
    starter = tmp_path / "starter.ipynb"
    nbformat.write(corpus.notebook(corpus.STARTER), str(starter))
    return out, rubric, starter


def test_similarity_command_writes_the_pairs_and_the_class_index_shows_them(tmp_path: Path) -> None:
    students = {**corpus.CLASS, "empty": []}
    out, rubric, starter = _batch_folder(tmp_path, students)
    (out / ".entries.json").write_text(json.dumps({**json.loads((out / ".entries.json").read_text()),
                                                   "t1_sympy": str(tmp_path / "moved.ipynb")}), encoding="utf-8")
    (out / "t1_sympy" / "run").mkdir(parents=True)  # its entry moved away: the executed notebook's code is used
    executed = nbformat.v4.new_notebook()
    executed.cells = [nbformat.v4.new_code_cell(s) for s in corpus.T1_SYMPY]
    for number, cell in enumerate(executed.cells, 1):
        cell.id = f"student-{number}"
    nbformat.write(executed, str(out / "t1_sympy" / "run" / "executed.ipynb"))
    before = (out / "index.html").read_text(encoding="utf-8")
    assert "Похожий код" not in before

    result = CliRunner().invoke(main, ["similarity", str(out), "--starter", str(starter), "-a", str(rubric)])
    assert result.exit_code == 0, result.output
    assert "Сравнено работ: 11; похожих пар: 4." in result.output
    assert "Без кода для сравнения: empty" in result.output
    report = load_similarity(out)
    assert report is not None and {frozenset((p.a, p.b)) for p in report.pairs} == corpus.PLANTED
    assert report.starter == "starter.ipynb" and report.compared == 11

    index = (out / "index.html").read_text(encoding="utf-8")
    section = index[index.index('id="similarity"'):]
    assert "Похожий код" in section and "Код заготовки (starter.ipynb) не учитывается." in section
    assert section.count('<tr class="pair">') == 4 and "<mark>" in section
    assert "copy_renamed" in section and "my_network" in section  # the renamed copy, shown as handed in
    assert "t1_sympy" not in section


def test_a_pair_whose_submission_changed_is_marked_stale(tmp_path: Path) -> None:
    out, rubric, starter = _batch_folder(tmp_path, {s: corpus.CLASS[s] for s in ("t1_loops", "copy_exact", "t1_sympy")})
    assert CliRunner().invoke(main, ["similarity", str(out), "-a", str(rubric)]).exit_code == 0
    batch = load_batch(out / "results.json")
    changed = tuple(dataclasses.replace(r, sha256="f" * 64) if r.student == "copy_exact" else r for r in batch.students)
    write_json_atomic(out / "results.json", dataclasses.replace(batch, students=changed).to_json())
    assert CliRunner().invoke(main, ["report", str(out), "-a", str(rubric)]).exit_code == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<tr class="pair stale">' in index and "работа изменилась после сравнения" in index


def test_a_broken_similarity_file_does_not_stop_the_report(tmp_path: Path) -> None:
    out, rubric, _ = _batch_folder(tmp_path, {"t1_loops": corpus.T1_LOOPS})
    (out / "similarity.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(out), "-a", str(rubric)])
    assert result.exit_code == 0, result.output
    assert 'id="similarity"' not in (out / "index.html").read_text(encoding="utf-8")


def test_an_unreadable_starter_is_explained(tmp_path: Path) -> None:
    out, rubric, _ = _batch_folder(tmp_path, {"t1_loops": corpus.T1_LOOPS})
    bad = tmp_path / "starter.ipynb"
    bad.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(main, ["similarity", str(out), "--starter", str(bad), "-a", str(rubric)])
    assert result.exit_code == 1 and "cannot read the starter notebook" in result.output
    assert "Traceback" not in result.output
