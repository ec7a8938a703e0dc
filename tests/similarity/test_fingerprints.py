"""Similarity across a batch: planted copies (exact, renamed, reordered, a shared tutorial) are
found among independent notebooks, and the independent ones are not; the starter is subtracted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("copydetect")

import corpus  # noqa: E402  (tests/similarity is on sys.path: pytest's rootdir-relative import)

from grader_inside.notebook import Cell  # noqa: E402
from grader.similarity.detect import Settings, code_text, find_similar, fingerprint_all  # noqa: E402
from grader.similarity.model import SimilarityReport, pair_view, segments  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _cells(sources: list[str]) -> list[Cell]:
    return [Cell("code", s, i + 1) for i, s in enumerate(sources)]


def _codes(students: dict[str, list[str]] = corpus.CLASS) -> dict[str, str]:
    return {s: code_text(_cells(c)) for s, c in students.items()}


STARTER = code_text(_cells(corpus.STARTER))


def _pairs(report: SimilarityReport) -> set[frozenset[str]]:
    return {frozenset((p.a, p.b)) for p in report.pairs}


def test_planted_copies_are_found_and_independent_work_is_not() -> None:
    report = find_similar(_codes(), starter=STARTER, starter_name="starter.ipynb")
    assert _pairs(report) == corpus.PLANTED
    shares = {frozenset((p.a, p.b)): (p.share_a, p.share_b) for p in report.pairs}
    assert shares[frozenset(("t1_loops", "copy_exact"))] == (1.0, 1.0)
    assert min(shares[frozenset(("t2_sequential", "copy_renamed"))]) == 1.0  # names, comments, spacing differ
    assert min(shares[frozenset(("t1_class", "copy_reordered"))]) > 0.8
    assert min(shares[frozenset(("tutorial_a", "tutorial_b"))]) > 0.6
    assert report.compared == len(corpus.CLASS) and report.starter == "starter.ipynb"
    assert set(report.code) == {s for pair in corpus.PLANTED for s in pair}  # only what a page shows


def test_independent_work_stays_far_below_the_threshold() -> None:
    independent = {s: c for s, c in corpus.CLASS.items() if not any(s in p for p in corpus.PLANTED)}
    report = find_similar(_codes(independent), starter=STARTER, settings=Settings(threshold=0.2, min_overlap=0))
    assert report.pairs == ()


def test_without_the_starter_the_template_everyone_kept_pairs_independent_students() -> None:
    without = _pairs(find_similar(_codes()))
    assert frozenset(("t2_sequential", "t2_module")) in without  # only the starter is common to them
    assert frozenset(("t2_sequential", "t2_module")) not in _pairs(find_similar(_codes(), starter=STARTER))


def test_code_most_of_a_large_class_shares_is_course_material() -> None:
    import random

    import bench_similarity  # benchmarks/ is on sys.path via tests/similarity/conftest.py

    rng = random.Random(3)
    # 24 students who kept the starter and wrote two cells of their own: the starter is most of their code
    students = {f"s{i:02d}": corpus.STARTER + bench_similarity.render(bench_similarity.plan(rng))[:2]
                for i in range(24)}
    students["s24"] = list(students["s07"])  # and one copy
    texts = {s: code_text(_cells(c)) for s, c in students.items()}
    assert _pairs(find_similar(texts)) == {frozenset(("s07", "s24"))}  # no --starter: what the class shares is left out
    everything = _pairs(find_similar(texts, settings=Settings(common_share=1.0)))  # nothing left out
    assert len(everything) > 100


def test_shell_and_magic_lines_are_left_out_and_cells_keep_their_numbers() -> None:
    cells = [Cell("markdown", "# title", 1), Cell("code", "!pip install torch\n%matplotlib inline\nx = 1", 1),
             Cell("code", "   \n", 2), Cell("code", "print(x)", 3)]
    assert code_text(cells) == "# cell 1\nx = 1\n\n# cell 3\nprint(x)\n"


def test_the_common_code_is_marked_on_both_sides() -> None:
    report = find_similar(_codes(), starter=STARTER)
    pair = next(p for p in report.pairs if {p.a, p.b} == {"t1_loops", "copy_exact"})
    view = pair_view(report, pair, first="copy_exact")
    assert view.left.student == "copy_exact" and view.right.student == "t1_loops"
    marked = "".join(text for text, common in view.left.segments if common)
    for line in ("while abs(grad(x)) > 1e-5 and len(path) < 5000:", "velocity = beta * velocity - lr * grad(y)"):
        assert line in marked
    assert "".join(text for text, _ in view.left.segments) == report.code["copy_exact"]
    assert view.left.common_lines > 10 and not view.stale


def test_segments_clip_sort_and_merge_spans() -> None:
    assert segments("abcdefgh", ((6, 20), (1, 3), (2, 4), (5, 5))) == (
        ("a", False), ("bcd", True), ("ef", False), ("gh", True))
    assert segments("abc", ()) == (("abc", False),)


def test_a_student_without_code_is_skipped() -> None:
    report = find_similar({"a": "x = 1\n", "b": "   "})
    assert report.skipped == ("b",) and report.compared == 1 and report.pairs == ()


def test_the_report_is_the_same_in_every_process() -> None:
    """Python's own str hash changes per process; the fingerprints must not (the same batch, the
    same pairs and percentages, on every run)."""
    script = ("import json, sys; sys.path[:0] = sys.argv[1:]\n"
              "import corpus\n"
              "from grader_inside.notebook import Cell\n"
              "from grader.similarity.detect import code_text, find_similar, Settings\n"
              "cells = lambda c: [Cell('code', s, i + 1) for i, s in enumerate(c)]\n"
              "codes = {s: code_text(cells(c)) for s, c in corpus.CLASS.items()}\n"
              "r = find_similar(codes, settings=Settings(threshold=0.1, min_overlap=0))\n"
              "print(json.dumps([p.to_json() for p in r.pairs]))\n")
    runs = [subprocess.run([sys.executable, "-c", script, str(ROOT), str(Path(__file__).parent)], check=True,
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
                           cwd=ROOT).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) > len(corpus.PLANTED)


def test_fingerprints_on_several_cores_equal_those_made_in_process() -> None:
    codes = list(_codes().values()) * 5
    parallel = fingerprint_all(codes, Settings(), workers=2)
    serial = fingerprint_all(codes, Settings(), workers=1)
    assert [fp.hashes for fp in parallel] == [fp.hashes for fp in serial]
    assert [fp.token_coverage for fp in parallel] == [fp.token_coverage for fp in serial]
