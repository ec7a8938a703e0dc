"""Files between the driver and a cluster's workers: the run's folder coming back is evidence
from a sandbox (only regular files of run/ and apps/, within a budget), the data folders are
unpacked once per machine, and a plan is moved onto a worker's paths without changing what the
sandbox sees."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from grader.errors import ExecutionError
from grader.executors.shipping import (Budget, materialise, pack_files, pack_folders, pack_tree, unpack_run,
                                       unpack_trusted)

BUDGET = Budget(files=10, bytes=10_000)


def _tar(*members: tuple[str, bytes | None, str]) -> bytes:
    """(name, data, kind) with kind file | dir | symlink (data is then the link's target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, (data or b"").decode()
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


def test_a_run_folder_comes_back_as_it_was_written(tmp_path: Path) -> None:
    student = tmp_path / "worker"
    (student / "run" / "models").mkdir(parents=True)
    (student / "run" / "run.json").write_text("{}", encoding="utf-8")
    (student / "run" / "models" / "preds.npy").write_bytes(b"\x93NUMPY")
    (student / "apps" / "web").mkdir(parents=True)
    (student / "apps" / "apps.json").write_text("{}", encoding="utf-8")
    (student / "scratch.txt").write_text("not ours to send", encoding="utf-8")
    dest = tmp_path / "out" / "anna"
    dest.mkdir(parents=True)
    assert unpack_run(pack_folders(student, ("run", "apps")), dest, ("run", "apps"), BUDGET) == 3
    assert (dest / "run" / "models" / "preds.npy").read_bytes() == b"\x93NUMPY"
    assert (dest / "apps" / "apps.json").is_file() and not (dest / "scratch.txt").exists()


@pytest.mark.parametrize("members", [
    [("run/link", b"/etc/passwd", "symlink")],
    [("run/../../escape.txt", b"x", "file")],
    [("/abs/run.json", b"x", "file")],
    [("report.html", b"<script>", "file")],  # outside run/ and apps/: would replace the grader's files
    [(f"run/f{i}", b"x", "file") for i in range(11)],  # over the file count
    [("run/big", b"x" * 10_001, "file")],  # over the bytes
])
def test_a_run_folder_that_breaks_the_rules_is_refused_whole(tmp_path: Path,
                                                            members: list[tuple[str, bytes, str]]) -> None:
    dest = tmp_path / "anna"
    dest.mkdir()
    with pytest.raises(ExecutionError):
        unpack_run(_tar(("run/run.json", b"{}", "file"), *members), dest, ("run", "apps"), BUDGET)
    assert list(dest.iterdir()) == []  # nothing written


def test_the_submission_travels_as_the_runner_copies_it(tmp_path: Path) -> None:
    root = tmp_path / "anna"
    (root / "data").mkdir(parents=True)
    (root / "hw.ipynb").write_text("{}", encoding="utf-8")
    (root / "data" / "x.csv").write_text("1,2", encoding="utf-8")
    os.symlink("/etc/passwd", root / "link")
    outside = tmp_path / "other.py"
    outside.write_text("pass", encoding="utf-8")
    blob = pack_files([root / "hw.ipynb", root / "data" / "x.csv", root / "link", outside], root)
    unpack_trusted(blob, tmp_path / "worker")
    got = sorted(str(p.relative_to(tmp_path / "worker")) for p in (tmp_path / "worker").rglob("*") if p.is_file())
    assert got == ["data/x.csv", "hw.ipynb", "other.py"]  # links are left behind, as the runner leaves them


def test_a_data_folder_is_unpacked_once_per_machine_and_readable_by_the_sandbox(tmp_path: Path) -> None:
    data = tmp_path / "student"
    (data / "MNIST" / "raw").mkdir(parents=True)
    (data / "MNIST" / "raw" / "t10k.gz").write_bytes(b"idx")
    os.symlink(os.path.join("MNIST", "raw", "t10k.gz"), data / "t10k.gz")  # the splits' own relative link
    os.symlink("/home/teacher/.cache/resnet18.pth", data / "resnet18.pth")  # leads nowhere in the sandbox either
    blob = pack_tree(data)
    fetched: list[int] = []

    def fetch() -> bytes:
        fetched.append(1)
        return blob

    first = materialise("abc", fetch, tmp_path / "cache")
    again = materialise("abc", fetch, tmp_path / "cache")
    assert first == again and len(fetched) == 1
    assert (first / "t10k.gz").read_bytes() == b"idx"
    assert not os.path.lexists(first / "resnet18.pth")
    assert os.stat(first.parent).st_mode & 0o005 == 0o005  # the sandbox's unprivileged user may enter
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]  # no staging left
