"""The run-time half of the hostile corpus, under bubblewrap and under the plain fallback: the
limits, kills and clean-up hold whatever isolates the files, every attack ends as that one
student's clear result (in their language), and the good students next to it are graded exactly
as when they are graded alone."""
from __future__ import annotations

import stat
from collections.abc import Callable

import markupsafe
import pytest
from hostile_corpus import CASES, GOOD
from hostile_support import Graded, alive_with, assert_others_intact, full_marks, has_message

from grader.sandbox import PlainSandbox

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

HAS_CGROUPS = PlainSandbox().support.available
DESCRIBED = {"bwrap": "bubblewrap sandbox", "plain": "(no isolation of files/network)"}
BANNER = {"bwrap": "песочница bubblewrap", "plain": "обычный процесс без изоляции файлов и сети"}


@pytest.fixture(scope="module", params=[pytest.param("bwrap", marks=pytest.mark.sandbox), "plain"])
def graded(request: pytest.FixtureRequest, hostile_batches: Callable[[str], Graded]) -> Graded:
    return hostile_batches(request.param)


def test_every_student_has_a_result_and_a_report(graded: Graded) -> None:
    backend = graded.world.backend
    names = {r.student for r in graded.batch.students}
    assert names == {*GOOD, *(n for n, c in CASES.items() if backend in c.backends)}
    assert DESCRIBED[backend] in graded.batch.sandbox  # which sandbox, and why, in results.json
    for r in graded.batch.students:
        report = graded.report(r.student)
        assert BANNER[backend] in report  # ... and at the top of every report, in its language
        assert r.sandbox == graded.batch.sandbox
        if r.error:
            assert str(markupsafe.escape(r.error)) in report, r.student
            assert "Traceback" not in r.error
        for note in r.notes:  # cell timeouts, restarts, limits met: each said in the report
            assert str(markupsafe.escape(note)) in report, (r.student, note)


def test_nothing_outlives_the_batch(graded: Graded) -> None:
    assert alive_with(graded.world.marker) == []
    assert graded.cgroups_left == []


def test_endless_loop(graded: Graded) -> None:
    r = graded.result("endless_loop")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_cpu_limit") and "1" in n for n in r.notes), r.notes
    assert graded.cell_status("endless_loop") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "endless_loop")


def test_loop_that_ignores_the_interrupt_gets_a_fresh_kernel(graded: Graded) -> None:
    r = graded.result("sigint_ignored")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_cpu_limit") for n in r.notes), r.notes
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status("sigint_ignored") == {1: "timeout", 2: "ok"}
    assert r.duration_s < 40
    assert_others_intact(graded, "sigint_ignored")


def test_memory_bomb(graded: Graded) -> None:
    r = graded.result("memory_bomb")
    if HAS_CGROUPS:
        assert r.status == "error"
        assert has_message(r.error, "run.memory") and "0,5 ГиБ" in (r.error or ""), r.error
        assert r.duration_s < 30
    else:  # rlimits only: the allocation fails inside the kernel instead
        assert [e.ename for e in r.cell_errors] == ["MemoryError"]
    assert_others_intact(graded, "memory_bomb")


def test_fork_bomb(graded: Graded) -> None:
    r = graded.result("fork_bomb")
    assert r.status == "graded"
    if HAS_CGROUPS:
        assert any(has_message(n, "run.process_limit") and "64" in n for n in r.notes), r.notes
        assert "fork refused after" in graded.executed_text("fork_bomb")
    assert graded.cell_status("fork_bomb") == {1: "ok", 2: "ok"}
    assert alive_with(graded.world.marker) == []
    assert_others_intact(graded, "fork_bomb")


def test_disk_filler(graded: Graded) -> None:
    # bwrap: the scratch folder, /tmp and /dev/shm are each refused; plain: the scratch folder only
    name = "disk_filler" if graded.world.backend == "bwrap" else "disk_filler_scratch"
    r = graded.result(name)
    assert r.status == "graded"
    cells = [1, 2, 3] if name == "disk_filler" else [1]
    assert [e.cell for e in r.cell_errors] == cells
    for e in r.cell_errors:
        assert e.ename == "OSError" and ("No space left on device" in e.evalue or "too large" in e.evalue), e
    assert graded.cell_status(name)[len(cells) + 1] == "ok"
    assert_others_intact(graded, name)


def test_print_flood(graded: Graded) -> None:
    r = graded.result("print_flood")
    assert r.status == "graded"
    assert any(has_message(n, "run.output_truncated") for n in r.notes), r.notes
    assert (graded.folder("print_flood") / "run" / "executed.ipynb").stat().st_size < 3 * 2**20
    assert graded.cell_status("print_flood") == {1: "ok", 2: "ok"}
    assert_others_intact(graded, "print_flood")


def test_os_exit(graded: Graded) -> None:
    r = graded.result("os_exit")
    assert r.status == "graded" and r.error is None
    assert any(has_message(n, "run.cell_died") for n in r.notes), r.notes
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status("os_exit")[1] == "died"
    assert full_marks(graded, "os_exit")
    assert_others_intact(graded, "os_exit")


def test_killing_the_parent(graded: Graded) -> None:
    r = graded.result("kill_parent")
    if graded.world.backend == "bwrap":  # the harness is the sandbox's init: nothing happens
        assert r.status == "graded" and r.error is None
        assert full_marks(graded, "kill_parent")
    else:  # no PID namespace: the harness dies, and the student is told how
        assert r.status == "error"
        assert has_message(r.error, "run.crashed_signal") and "SIGKILL" in (r.error or ""), r.error
    assert_others_intact(graded, "kill_parent")


def test_daemons_do_not_survive(graded: Graded) -> None:
    r = graded.result("daemons")
    assert r.status == "graded" and r.error is None
    assert full_marks(graded, "daemons")
    assert alive_with(graded.world.marker) == []
    assert_others_intact(graded, "daemons")


def test_links_and_fifos_planted_in_the_outbox_are_dropped(graded: Graded) -> None:
    r = graded.result("outbox_forgery")
    assert r.status == "graded" and full_marks(graded, "outbox_forgery")
    assert "planted in" in graded.executed_text("outbox_forgery")
    for path in graded.folder("outbox_forgery").rglob("*"):
        assert stat.S_ISREG(path.lstat().st_mode) or stat.S_ISDIR(path.lstat().st_mode), path
    assert graded.world.secret not in graded.everything_written_for("outbox_forgery")
    assert_others_intact(graded, "outbox_forgery")


def test_environment_secrets_do_not_reach_the_code(graded: Graded) -> None:
    r = graded.result("env_secrets")
    assert r.status == "graded" and r.cell_errors == ()  # the cell asserts the variable is unset
    assert graded.world.token not in graded.everything_written_for("env_secrets")
    assert_others_intact(graded, "env_secrets")
