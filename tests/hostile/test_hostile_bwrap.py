"""The hostile corpus under bubblewrap, through the whole pipeline: each case gets its own clear
result (in the student's language), and the good students next to it are graded exactly as
when they are graded alone."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import grader
import markupsafe
import pytest
from hostile_support import Graded, alive_with, assert_others_intact, grade_hostile, has_message
from hostile_corpus import CASES, GOOD

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

BACKEND = "bwrap"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return grade_hostile(BACKEND, tmp_path_factory.mktemp("hostile_bwrap"))


def full_marks(graded: Graded, name: str) -> bool:
    return graded.result(name).score == graded.result(GOOD[0]).score


def test_the_corpus_is_large_enough() -> None:
    assert len([c for c in CASES.values() if BACKEND in c.backends]) >= 20


def test_every_student_has_a_result_and_a_report(graded: Graded) -> None:
    names = {r.student for r in graded.batch.students}
    assert names == {*GOOD, *(n for n, c in CASES.items() if BACKEND in c.backends)}
    for r in graded.batch.students:
        report = graded.report(r.student)
        assert "bubblewrap sandbox" in report  # which sandbox, at the top of every report
        if r.error:
            assert str(markupsafe.escape(r.error)) in report, r.student
            assert "Traceback" not in r.error
    assert "bubblewrap sandbox" in graded.batch.sandbox


def test_nothing_outlives_the_batch(graded: Graded) -> None:
    assert alive_with(graded.world.marker) == []
    assert graded.cgroups_left == []


def test_endless_loop(graded: Graded) -> None:
    r = graded.result("endless_loop")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_timeout") and "1" in n for n in r.notes), r.notes
    assert graded.cell_status("endless_loop") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "endless_loop")


def test_sleep_forever(graded: Graded) -> None:
    r = graded.result("sleep_forever")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_timeout") for n in r.notes), r.notes
    assert graded.cell_status("sleep_forever") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "sleep_forever")


def test_loop_that_ignores_the_interrupt_gets_a_fresh_kernel(graded: Graded) -> None:
    r = graded.result("sigint_ignored")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_timeout") for n in r.notes), r.notes
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status("sigint_ignored") == {1: "timeout", 2: "ok"}
    assert r.duration_s < 40
    assert_others_intact(graded, "sigint_ignored")


def test_memory_bomb(graded: Graded) -> None:
    r = graded.result("memory_bomb")
    assert r.status == "error"
    assert r.error is not None and has_message(r.error, "run.memory") and "0.5" in r.error, r.error
    assert r.duration_s < 30
    assert_others_intact(graded, "memory_bomb")


def test_fork_bomb(graded: Graded) -> None:
    r = graded.result("fork_bomb")
    assert r.status == "graded"
    assert any(has_message(n, "run.process_limit") and "64" in n for n in r.notes), r.notes
    assert "fork refused after" in graded.executed_text("fork_bomb")
    assert graded.cell_status("fork_bomb") == {1: "ok", 2: "ok"}
    assert_others_intact(graded, "fork_bomb")


def test_spinning_fork_bomb(graded: Graded) -> None:
    r = graded.result("fork_bomb_spinning")
    assert r.status in ("graded", "timeout")
    assert any(has_message(n, "run.process_limit") for n in r.notes), r.notes
    assert_others_intact(graded, "fork_bomb_spinning")


def test_disk_filler(graded: Graded) -> None:
    r = graded.result("disk_filler")
    assert r.status == "graded"
    errors = {e.cell: e for e in r.cell_errors}
    assert sorted(errors) == [1, 2, 3]  # scratch, /tmp, /dev/shm: each refused
    for e in errors.values():
        assert e.ename == "OSError" and "No space left on device" in e.evalue, e
    assert graded.cell_status("disk_filler")[4] == "ok"
    assert_others_intact(graded, "disk_filler")


def test_print_flood(graded: Graded) -> None:
    r = graded.result("print_flood")
    assert r.status == "graded"
    assert any(has_message(n, "run.output_truncated") for n in r.notes), r.notes
    assert (graded.folder("print_flood") / "run" / "executed.ipynb").stat().st_size < 3 * 2**20
    assert graded.cell_status("print_flood") == {1: "ok", 2: "ok"}
    assert_others_intact(graded, "print_flood")


def test_huge_saved_outputs_are_graded_like_the_code(graded: Graded) -> None:
    r = graded.result("huge_outputs")
    assert r.status == "graded" and r.error is None
    assert full_marks(graded, "huge_outputs")
    assert (graded.folder("huge_outputs") / "run" / "executed.ipynb").stat().st_size < 2**20
    assert_others_intact(graded, "huge_outputs")


def test_sys_exit(graded: Graded) -> None:
    r = graded.result("sys_exit")
    assert r.status == "graded"
    assert [(e.cell, e.ename) for e in r.cell_errors] == [(1, "SystemExit")]
    assert full_marks(graded, "sys_exit")
    assert_others_intact(graded, "sys_exit")


@pytest.mark.parametrize("name", ["os_exit", "segfault"])
def test_kernel_death(graded: Graded, name: str) -> None:
    r = graded.result(name)
    assert r.status == "graded" and r.error is None
    assert any(has_message(n, "run.cell_died") for n in r.notes), r.notes
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status(name)[1] == "died"
    assert full_marks(graded, name)
    assert_others_intact(graded, name)


def test_killing_the_parent(graded: Graded) -> None:
    r = graded.result("kill_parent")
    assert r.status == "graded" and r.error is None
    assert full_marks(graded, "kill_parent")
    assert_others_intact(graded, "kill_parent")


def test_kill_minus_one(graded: Graded) -> None:
    r = graded.result("kill_everything")
    assert r.status == "graded" and r.error is None
    # Python's kill(-1) spares its caller; the shell's `kill -9 -1` takes the kernel with it, and
    # only the kernel: the harness (the sandbox's init) restarts it and grades the rest.
    assert graded.cell_status("kill_everything")[1] == "died"
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert full_marks(graded, "kill_everything")
    assert_others_intact(graded, "kill_everything")


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


def test_files_outside_the_scratch_folder_are_invisible(graded: Graded) -> None:
    r = graded.result("read_outside")
    # another student's notebook, the secret file, the output folder, the class folder, the rubric
    assert [(e.cell, e.ename) for e in r.cell_errors] == [(n, "FileNotFoundError") for n in range(1, 6)]
    assert full_marks(graded, "read_outside")
    assert graded.world.secret not in graded.everything_written_for("read_outside")
    assert_others_intact(graded, "read_outside")


def test_writing_outside_the_scratch_folder_fails(graded: Graded) -> None:
    r = graded.result("write_outside")
    assert [e.cell for e in r.cell_errors] == [1, 2, 3, 4, 5]
    assert all(e.ename in ("FileNotFoundError", "OSError", "PermissionError") for e in r.cell_errors)
    for folder in (graded.world.root / "write_outside", graded.world.out,
                   Path(grader.__file__).parent, Path(sys.prefix), Path("/etc")):
        assert not (folder / "planted.txt").exists() and not (folder / "planted.py").exists()
    assert full_marks(graded, "write_outside")
    assert_others_intact(graded, "write_outside")


def test_environment_secrets_do_not_reach_the_code(graded: Graded) -> None:
    r = graded.result("env_secrets")
    assert r.status == "graded" and r.cell_errors == ()
    assert graded.world.token not in graded.everything_written_for("env_secrets")
    assert graded.world.token_var not in os.environ  # the test restored its own environment
    assert_others_intact(graded, "env_secrets")


def test_no_network(graded: Graded) -> None:
    r = graded.result("network")
    assert [e.cell for e in r.cell_errors] == [1, 2]
    assert r.cell_errors[0].ename == "ConnectionRefusedError"
    assert graded.server_connections == 0
    assert full_marks(graded, "network")
    assert_others_intact(graded, "network")


def test_zip_slip(graded: Graded) -> None:
    r = graded.result("zip_slip")
    assert r.status == "error" and has_message(r.error, "intake.unsafe.parent"), r.error
    assert "../../escaped.txt" in (r.error or "")
    tmp = graded.world.root.parent
    assert not list(tmp.parent.rglob("escaped.txt"))
    assert_others_intact(graded, "zip_slip")


def test_zip_bomb(graded: Graded) -> None:
    r = graded.result("zip_bomb")
    assert r.status == "error" and has_message(r.error, "intake.unsafe.ratio"), r.error
    assert_others_intact(graded, "zip_bomb")


@pytest.mark.parametrize(("name", "key"), [
    ("broken_json", "intake.nb_bad_json"),
    ("not_a_notebook", "intake.nb_not_notebook_json"),
    ("binary", "intake.nb_not_notebook_binary"),
])
def test_malformed_notebook(graded: Graded, name: str, key: str) -> None:
    r = graded.result(name)
    assert r.status == "error" and has_message(r.error, key), r.error
    assert "work.ipynb" in (r.error or "")
    assert_others_intact(graded, name)


def test_nbformat3_is_converted_and_graded(graded: Graded) -> None:
    r = graded.result("nbformat3")
    assert r.status == "graded" and r.error is None
    assert any(has_message(n, "intake.nb_converted") for n in r.notes), r.notes
    assert full_marks(graded, "nbformat3")
    assert_others_intact(graded, "nbformat3")
