"""Choosing a backend, and the size-limited scratch helper."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.errors import SandboxError
from grader.sandbox import BwrapSandbox, PlainSandbox, get_sandbox, make_scratch, remove_scratch
from grader.sandbox import detect
from grader.sandbox.bwrap import probe_bwrap
from grader.sandbox.limits import scratch_is_limited


def test_auto_names_backend_and_limits() -> None:
    box = get_sandbox("auto", fallback=True)
    assert "limits:" in box.description
    if detect.bwrap_unavailable_reason() is None:
        assert isinstance(box, BwrapSandbox)
        assert box.description.startswith("bubblewrap sandbox")
    else:
        assert isinstance(box, PlainSandbox)
        assert "no isolation" in box.description


def test_auto_refuses_to_grade_without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading other people's work never falls back silently: it stops and says how to fix it."""
    monkeypatch.setattr(detect.shutil, "which", lambda name: None)
    with pytest.raises(SandboxError, match=r"bwrap not found.*apt-get install bubblewrap.*--sandbox plain"):
        get_sandbox("auto")


def test_auto_falls_back_only_where_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect.shutil, "which", lambda name: None)
    box = get_sandbox("auto", fallback=True)
    assert isinstance(box, PlainSandbox)
    assert "(no isolation of files/network): bwrap not found" in box.description


def test_explicit_bwrap_without_bwrap_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect.shutil, "which", lambda name: None)
    with pytest.raises(SandboxError, match="bwrap not found"):
        get_sandbox("bwrap")


def test_auto_reports_why_bwrap_could_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect.shutil, "which", lambda name: "/bin/false-bwrap")
    monkeypatch.setattr(detect, "probe_bwrap", lambda path: "setting up uid map: Permission denied")
    box = get_sandbox("auto", fallback=True)
    assert "bwrap could not start: setting up uid map: Permission denied" in box.description


def test_probe_failure_is_reported_with_the_first_line(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert probe_bwrap(str(fake)) == "bwrap: No permissions to create new namespace"


def test_plain_is_available_on_request() -> None:
    box = get_sandbox("plain")
    assert isinstance(box, PlainSandbox)
    assert "no isolation" in box.description


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(SandboxError, match="unknown sandbox kind"):
        get_sandbox("docker")  # type: ignore[arg-type]


def test_make_scratch_limits_size_as_root(tmp_path: Path) -> None:
    folder = make_scratch(tmp_path, 4 * 2**20)
    try:
        assert folder.is_dir() and folder.parent == tmp_path
        if os.geteuid() != 0 or not scratch_is_limited(folder):
            pytest.skip("no tmpfs mount here: scratch is a plain folder (RLIMIT_FSIZE only)")
        with pytest.raises(OSError):
            with open(folder / "big", "wb") as f:
                for _ in range(8):
                    f.write(b"\0" * 2**20)
                    f.flush()
    finally:
        remove_scratch(folder)
    assert not folder.exists()


def test_nvidia_libraries_are_bound_where_they_really_are(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from types import SimpleNamespace

    from grader.sandbox import bwrap

    real_dir = tmp_path / "nvidia" / "lib64"
    real_dir.mkdir(parents=True)
    real = real_dir / "libcuda.so.580"
    real.write_bytes(b"")
    (tmp_path / "lib").symlink_to(real_dir)  # like merged-/usr: /lib -> usr/lib
    listing = f"\tlibcuda.so.1 (libc6,x86-64) => {tmp_path}/lib/libcuda.so.580\n\tlibfoo.so => /x\n"
    monkeypatch.setattr(bwrap.glob, "glob", lambda pattern: ["/dev/nvidia0"])
    monkeypatch.setattr(bwrap.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout=listing))
    args = bwrap.nvidia_args()
    assert args[:3] == ["--dev-bind", "/dev/nvidia0", "/dev/nvidia0"]
    assert args[3:] == ["--ro-bind", str(real), str(real)]  # never via the link's path


def test_no_gpu_means_no_gpu_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox import bwrap

    monkeypatch.setattr(bwrap.glob, "glob", lambda pattern: [])
    assert bwrap.nvidia_args() == []


def test_gpu_nodes_are_bound_before_dev_is_made_read_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    from grader.sandbox import SandboxSpec, bwrap

    monkeypatch.setattr(bwrap, "nvidia_args", lambda: ["--dev-bind", "/dev/nvidia0", "/dev/nvidia0"])
    spec = SandboxSpec(argv=(sys.executable,), scratch=tmp_path, outbox=tmp_path, device="cuda", init=True)
    argv = bwrap.build_argv("/usr/bin/bwrap", spec, {}, None)
    assert argv.index("--dev-bind") < argv.index("--remount-ro")  # the node is there to bind
    assert argv[argv.index("--remount-ro") + 1] == "/dev"
    assert argv.index("/dev/shm") < argv.index("--remount-ro")
    assert "--as-pid-1" in argv and "--share-net" not in argv
    cpu = bwrap.build_argv("/usr/bin/bwrap", SandboxSpec(argv=(sys.executable,), scratch=tmp_path,
                                                         outbox=tmp_path), {}, None)
    assert "--dev-bind" not in cpu and "--as-pid-1" not in cpu
