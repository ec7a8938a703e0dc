"""The run-time part of the hostile corpus under the plain fallback (no bubblewrap): it isolates
no files, network or processes, but its limits, kills and clean-up must hold all the same, and
every attack still ends as that one student's clear result."""
from __future__ import annotations

import stat

import pytest
from hostile_support import Graded, alive_with, assert_others_intact, grade_hostile, has_message
from hostile_corpus import CASES, GOOD

from grader.sandbox import PlainSandbox

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

BACKEND = "plain"
HAS_CGROUPS = PlainSandbox().support.available


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return grade_hostile(BACKEND, tmp_path_factory.mktemp("hostile_plain"))


def full_marks(graded: Graded, name: str) -> bool:
    return graded.result(name).score == graded.result(GOOD[0]).score


def test_every_student_has_a_result_and_the_fallback_is_named(graded: Graded) -> None:
    names = {r.student for r in graded.batch.students}
    assert names == {*GOOD, *(n for n, c in CASES.items() if BACKEND in c.backends)}
    assert "plain process (no isolation of files/network)" in graded.batch.sandbox
    for r in graded.batch.students:
        assert "no isolation" in graded.report(r.student)
        assert r.error is None or "Traceback" not in r.error


def test_nothing_outlives_the_batch(graded: Graded) -> None:
    assert alive_with(graded.world.marker) == []
    assert graded.cgroups_left == []


def test_endless_loop(graded: Graded) -> None:
    r = graded.result("endless_loop")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_timeout") for n in r.notes), r.notes
    assert graded.cell_status("endless_loop") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "endless_loop")


def test_loop_that_ignores_the_interrupt(graded: Graded) -> None:
    r = graded.result("sigint_ignored")
    assert r.status == "graded"
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status("sigint_ignored") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "sigint_ignored")


def test_memory_bomb(graded: Graded) -> None:
    r = graded.result("memory_bomb")
    if HAS_CGROUPS:
        assert r.status == "error" and has_message(r.error, "run.memory"), r.error
    else:  # rlimits only: the allocation fails inside the kernel instead
        assert [e.ename for e in r.cell_errors] == ["MemoryError"]
    assert_others_intact(graded, "memory_bomb")


def test_fork_bomb(graded: Graded) -> None:
    r = graded.result("fork_bomb")
    assert r.status == "graded"
    if HAS_CGROUPS:
        assert any(has_message(n, "run.process_limit") for n in r.notes), r.notes
        assert "fork refused after" in graded.executed_text("fork_bomb")
    assert alive_with(graded.world.marker) == []
    assert_others_intact(graded, "fork_bomb")


def test_disk_filler(graded: Graded) -> None:
    r = graded.result("disk_filler_scratch")
    assert [(e.cell, e.ename) for e in r.cell_errors] == [(1, "OSError")]
    assert graded.cell_status("disk_filler_scratch")[2] == "ok"
    assert_others_intact(graded, "disk_filler_scratch")


def test_print_flood(graded: Graded) -> None:
    r = graded.result("print_flood")
    assert any(has_message(n, "run.output_truncated") for n in r.notes), r.notes
    assert (graded.folder("print_flood") / "run" / "executed.ipynb").stat().st_size < 3 * 2**20
    assert_others_intact(graded, "print_flood")


def test_os_exit(graded: Graded) -> None:
    r = graded.result("os_exit")
    assert r.status == "graded" and full_marks(graded, "os_exit")
    assert any(has_message(n, "run.cell_died") for n in r.notes), r.notes
    assert_others_intact(graded, "os_exit")


def test_killing_the_parent_is_a_clear_error(graded: Graded) -> None:
    # No PID namespace: the kernel can kill the harness. The run then has no record, and the
    # student is told what happened, in their language.
    r = graded.result("kill_parent")
    assert r.status == "error"
    assert has_message(r.error, "run.crashed_signal") and "SIGKILL" in (r.error or ""), r.error
    assert_others_intact(graded, "kill_parent")


def test_daemons_do_not_survive(graded: Graded) -> None:
    r = graded.result("daemons")
    assert r.status == "graded" and full_marks(graded, "daemons")
    assert alive_with(graded.world.marker) == []
    assert_others_intact(graded, "daemons")


def test_links_and_fifos_planted_in_the_outbox_are_dropped(graded: Graded) -> None:
    r = graded.result("outbox_forgery")
    assert r.status == "graded" and full_marks(graded, "outbox_forgery")
    for path in graded.folder("outbox_forgery").rglob("*"):
        assert stat.S_ISREG(path.lstat().st_mode) or stat.S_ISDIR(path.lstat().st_mode), path
    assert graded.world.secret not in graded.everything_written_for("outbox_forgery")
    assert_others_intact(graded, "outbox_forgery")


def test_environment_secrets_do_not_reach_the_code(graded: Graded) -> None:
    r = graded.result("env_secrets")
    assert r.status == "graded" and r.cell_errors == ()
    assert graded.world.token not in graded.everything_written_for("env_secrets")
    assert_others_intact(graded, "env_secrets")
