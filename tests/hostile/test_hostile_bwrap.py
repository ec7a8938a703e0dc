"""The half of the hostile corpus that only bubblewrap can answer (files, network, processes
outside the sandbox) or that does not depend on the backend (intake), through the whole
pipeline; the run-time half, under both backends, is in test_hostile_common.py."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_corpus import CASES
from hostile_support import Graded, assert_others_intact, full_marks, has_message

import grader_inside

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

BACKEND = "bwrap"


@pytest.fixture(scope="module")
def graded(hostile_batches: Callable[[str], Graded]) -> Graded:
    return hostile_batches(BACKEND)


def test_the_corpus_is_large_enough() -> None:
    assert len([c for c in CASES.values() if BACKEND in c.backends]) >= 20


def test_sleep_forever(graded: Graded) -> None:
    r = graded.result("sleep_forever")
    assert r.status == "graded"
    assert any(has_message(n, "run.cell_idle") for n in r.notes), r.notes
    assert graded.cell_status("sleep_forever") == {1: "timeout", 2: "ok"}
    assert_others_intact(graded, "sleep_forever")


def test_spinning_fork_bomb(graded: Graded) -> None:
    r = graded.result("fork_bomb_spinning")
    assert r.status in ("graded", "timeout")
    assert any(has_message(n, "run.process_limit") for n in r.notes), r.notes
    assert_others_intact(graded, "fork_bomb_spinning")


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


def test_segfault(graded: Graded) -> None:
    name = "segfault"
    r = graded.result(name)
    assert r.status == "graded" and r.error is None
    assert any(has_message(n, "run.cell_died") for n in r.notes), r.notes
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert graded.cell_status(name)[1] == "died"
    assert full_marks(graded, name)
    assert_others_intact(graded, name)


def test_kill_minus_one(graded: Graded) -> None:
    r = graded.result("kill_everything")
    assert r.status == "graded" and r.error is None
    # Python's kill(-1) spares its caller; the shell's `kill -9 -1` takes the kernel with it, and
    # only the kernel: the harness (the sandbox's init) restarts it and grades the rest.
    assert graded.cell_status("kill_everything")[1] == "died"
    assert any(has_message(n, "run.restarted") for n in r.notes), r.notes
    assert full_marks(graded, "kill_everything")
    assert_others_intact(graded, "kill_everything")


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
                   Path(grader_inside.__file__).parent, Path(sys.prefix), Path("/etc")):
        assert not (folder / "planted.txt").exists() and not (folder / "planted.py").exists()
    # writing into the grader's own package is tampering, even when it fails: the instructor decides
    assert r.score == 0 and all(c.status == "manual" for c in r.checks)
    assert [f.kind for f in r.flags] == ["tampering"]
    assert_others_intact(graded, "write_outside")


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
