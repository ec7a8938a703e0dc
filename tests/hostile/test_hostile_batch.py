"""20 normal Task 1 submissions with 5 hostile ones mixed in: the normal ones get exactly the
grades they get in a batch of their own (real Task 1 rubric and limits, 2 workers)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_support import ROOT, alive_with, comparable, has_message
from hostile_corpus import CASES, World, new_marker

from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult
from grader.rubric import load_rubric
from grader.sandbox import get_sandbox
from grader.sandbox.detect import bwrap_unavailable_reason

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(900)]

SHIPPED = ROOT / "submissions" / "task1"
HIDDEN = ROOT / "tests" / "fixtures" / "task1_hidden"
# novikov_artem is left out: his endless cell waits out the 30 s cell timeout in both batches.
NORMAL = sorted(p for p in SHIPPED.iterdir() if p.is_dir() and p.name != "novikov_artem") + [
    HIDDEN / name for name in ("kovalenko_igor", "gusev_maxim", "task1-tarasov", "nikitina_olga",
                               "semenov_kirill")]
# A CPU hog next to everyone, a memory bomb, an output flood, `kill -9 -1`, daemons.
HOSTILE = ("fork_bomb_spinning", "memory_bomb", "print_flood", "kill_everything", "daemons")
Batches = tuple[BatchResult, BatchResult, str]  # alone, mixed, the daemons' marker


def _grade(root: Path, out: Path) -> BatchResult:
    return grade_batch(root, load_rubric("task1"), GradeOptions(out_dir=out, workers=2, lang="ru"),
                       sandbox=get_sandbox("bwrap"))


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Batches:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    tmp = tmp_path_factory.mktemp("mixed")
    alone, mixed = tmp / "alone", tmp / "mixed"
    for folder in NORMAL:
        shutil.copytree(folder, alone / folder.name)
        shutil.copytree(folder, mixed / folder.name)
    world = World(root=mixed, out=tmp / "out_mixed", secret_file=tmp / "secret.txt", secret="-",
                  token_var="UNUSED", token="-", port=9, marker=new_marker(), backend="bwrap")
    for name in HOSTILE:
        CASES[name].build(mixed / name, world)
    return _grade(alone, tmp / "out_alone"), _grade(mixed, tmp / "out_mixed"), world.marker


def test_the_batch_has_20_normal_and_5_hostile_students(batches: Batches) -> None:
    alone, mixed, _ = batches
    assert len(NORMAL) == 20 and len(alone.students) == 20
    assert len(mixed.students) == 25


def test_normal_students_get_the_same_grades(batches: Batches) -> None:
    alone, mixed, _ = batches
    by_name = {r.student: r for r in mixed.students}
    for r in alone.students:
        assert comparable(by_name[r.student]) == comparable(r), r.student


def test_hostile_students_get_their_own_results(batches: Batches) -> None:
    _, mixed, marker = batches
    by_name = {r.student: r for r in mixed.students}
    assert has_message(by_name["memory_bomb"].error, "run.memory")
    assert any(has_message(n, "run.process_limit") for n in by_name["fork_bomb_spinning"].notes)
    assert any(has_message(n, "run.output_truncated") for n in by_name["print_flood"].notes)
    assert by_name["kill_everything"].status == "graded"
    assert by_name["daemons"].status == "graded" and alive_with(marker) == []
