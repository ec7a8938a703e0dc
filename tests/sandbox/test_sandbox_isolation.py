"""What the bubblewrap sandbox hides and protects: files, network, the grader's processes."""
from __future__ import annotations

import dataclasses
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import grader
from grader.sandbox import GIB, BwrapSandbox, Limits, Mount, SandboxSpec, make_scratch, remove_scratch
from grader.sandbox.bwrap import PACKAGE_ROOT
from grader.sandbox.limits import scratch_is_limited

pytestmark = pytest.mark.sandbox

SpecFactory = Callable[..., SandboxSpec]

PROBE = """
import os, sys
for path in sys.argv[1:]:
    try:
        with open(path, 'rb') as f:
            f.read(1)
        print('READ', path)
    except OSError as exc:
        print('DENIED', path, type(exc).__name__)
"""


def test_secret_outside_scratch_is_invisible(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory, tmp_path: Path
) -> None:
    secret = tmp_path / "other-student" / "labels.csv"
    secret.parent.mkdir()
    secret.write_text("hidden labels")
    result = bwrap_box.run(make_spec(PROBE, str(secret)))
    assert result.stdout.decode().split()[:2] == ["DENIED", str(secret)]
    assert result.stdout.decode().strip().endswith("FileNotFoundError")


def test_root_and_work_are_not_visible(bwrap_box: BwrapSandbox, make_spec: SpecFactory) -> None:
    project_file = Path(grader.__file__).resolve().parent.parent / "pyproject.toml"
    candidates = [str(project_file), "/root/.bashrc", "/root/.profile", "/etc/shadow"]
    candidates += [str(p) for p in Path("/root").glob("*") if p.is_file()][:10]
    code = PROBE + "\nprint('LIST', sorted(os.listdir('/root')) if os.path.isdir('/root') else [])"
    result = bwrap_box.run(make_spec(code, *candidates))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "READ" not in out, out
    listed = eval(out.split("LIST", 1)[1])  # only python's own folder, e.g. ['.pyenv'], if any
    python_roots = {Path(p).parts[2] for p in (sys.prefix, sys.base_prefix) if p.startswith("/root/")}
    assert set(listed) <= python_roots


def test_writing_outside_scratch_fails(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    scratch, outbox = folders
    targets = [
        "/usr/pwned",
        "/etc/pwned",
        f"{PACKAGE_ROOT}/grader/pwned.py",
        f"{sys.prefix}/pwned",
        str(tmp_path / "pwned"),
        str(scratch / "ok.txt"),
        str(outbox / "ok.json"),
        "/tmp/ok.txt",
    ]
    code = (
        "import sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open(path, 'w').write('x'); print('WROTE', path)\n"
        "    except OSError as exc:\n"
        "        print('DENIED', path)\n"
    )
    result = bwrap_box.run(make_spec(code, *targets))
    wrote = {line.split()[1] for line in result.stdout.decode().splitlines() if line.startswith("WROTE")}
    allowed = {str(scratch / "ok.txt"), str(outbox / "ok.json"), "/tmp/ok.txt"}
    if str(tmp_path).startswith("/tmp/"):
        allowed.add(str(tmp_path / "pwned"))  # lands in the sandbox's private /tmp, not the host's
    assert wrote <= allowed and allowed - wrote <= {str(tmp_path / "pwned")}, result.stdout
    assert not (tmp_path / "pwned").exists()
    assert not (Path(sys.prefix) / "pwned").exists()
    assert (scratch / "ok.txt").read_text() == "x"
    assert (outbox / "ok.json").read_text() == "x"


def test_private_tmp_is_size_limited(bwrap_box: BwrapSandbox, make_spec: SpecFactory) -> None:
    code = (
        "import os\n"
        "total = 0\n"
        "try:\n"
        "    for i in range(20):\n"
        "        with open(f'/tmp/f{i}', 'wb') as f:\n"
        "            for _ in range(8): f.write(b'\\0' * 2**20); f.flush(); total += 2**20\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
        "print(total)\n"
    )
    result = bwrap_box.run(make_spec(code))
    out = result.stdout.decode().split()
    assert out[0] == "refused", result.stderr
    assert int(out[-1]) <= 64 * 2**20


@pytest.fixture
def tcp_server() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.sendall(b"leak")
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_no_network(bwrap_box: BwrapSandbox, make_spec: SpecFactory, tcp_server: int) -> None:
    code = (
        "import socket, sys\n"
        "try:\n"
        "    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)\n"
        "    print('CONNECTED', s.recv(10))\n"
        "except OSError as exc:\n"
        "    print('BLOCKED', type(exc).__name__)\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=2); print('INTERNET')\n"
        "except OSError as exc:\n"
        "    print('BLOCKED', type(exc).__name__)\n"
    )
    result = bwrap_box.run(make_spec(code, str(tcp_server)))
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["BLOCKED", "BLOCKED"], result.stdout


def test_killing_the_parent_or_pid1_does_not_hurt_the_grader(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory
) -> None:
    code = (
        "import os, signal\n"
        "for pid in (os.getppid(), 1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError as exc:\n"
        "        print('refused', pid, exc.errno)\n"
        "print('still here', flush=True)\n"
    )
    result = bwrap_box.run(make_spec(code, wall_time_s=5))
    assert os.getpid() > 0  # this test process is alive to check
    assert result.duration_s < 5


def test_colab_content_folder_is_writable_bounded_and_keeps_data_mounts(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory, tmp_path: Path
) -> None:
    data = tmp_path / "afhq"
    data.mkdir()
    (data / "x.txt").write_text("dataset")
    code = (
        "open('/content/model.pth', 'wb').write(b'weights')\n"
        "print(open('/content/model.pth', 'rb').read().decode(), open('/content/afhq/x.txt').read())\n"
        "try:\n    open('/content/afhq/y.txt', 'w')\nexcept OSError:\n    print('read-only')\n"
        "try:\n    open('/content/big', 'wb').write(b'\\0' * 80 * 2**20)\nexcept OSError:\n    print('full')\n"
    )
    spec = dataclasses.replace(make_spec(code, max_file_bytes=128 * 2**20),
                               mounts=(Mount(data, "/content/afhq"),))
    result = bwrap_box.run(spec)
    assert result.stdout.decode().split() == ["weights", "dataset", "read-only", "full"], result.stderr


def test_extra_mounts_are_read_only_unless_writable(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.txt").write_text("dataset")
    spec = make_spec(
        "import sys\nprint(open('/data/x.txt').read())\n"
        "try:\n    open('/data/y.txt', 'w')\nexcept OSError:\n    print('read-only')"
    )
    spec = dataclasses.replace(spec, mounts=(Mount(data, "/data"),))
    result = bwrap_box.run(spec)
    assert result.stdout.decode().split() == ["dataset", "read-only"], result.stderr


def test_cuda_request_without_gpu_still_runs(bwrap_box: BwrapSandbox, make_spec: SpecFactory) -> None:
    spec = dataclasses.replace(make_spec("print('ok')"), device="cuda")
    assert bwrap_box.run(spec).stdout == b"ok\n"


def test_torch_imports_under_the_default_memory_limit(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory
) -> None:
    pytest.importorskip("torch")
    code = "import torch; print(float(torch.ones(3).sum()))"
    result = bwrap_box.run(make_spec(code, memory_bytes=Limits().memory_bytes, wall_time_s=60))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == b"3.0\n"
    assert Limits().memory_bytes == 4 * GIB


def test_tmpfs_scratch_from_make_scratch_bounds_the_disk(
    bwrap_box: BwrapSandbox, make_spec: SpecFactory, tmp_path: Path
) -> None:
    scratch = make_scratch(tmp_path / "scratches", 8 * 2**20)
    try:
        if not scratch_is_limited(scratch):
            pytest.skip("make_scratch could not mount a tmpfs here (needs root)")
        code = (
            "total = 0\n"
            "try:\n"
            "    for i in range(12):\n"
            "        open(f'f{i}', 'wb').write(b'\\0' * 2**20); total += 2**20\n"
            "except OSError as exc:\n"
            "    print('refused', exc.errno)\n"
            "print(total)\n"
        )
        spec = dataclasses.replace(make_spec(code), scratch=scratch)
        result = bwrap_box.run(spec)
        out = result.stdout.decode().split()
        assert out[0] == "refused", result.stderr
        assert int(out[-1]) <= 8 * 2**20
    finally:
        remove_scratch(scratch)


def test_dev_is_read_only_and_dev_shm_is_bounded(bwrap_box: BwrapSandbox, make_spec: SpecFactory) -> None:
    code = (
        "import multiprocessing, os\n"
        "multiprocessing.Lock()  # POSIX semaphores live in /dev/shm\n"
        "open('/dev/null', 'w').write('devices still work')\n"
        "for folder in ('/dev', '/dev/shm'):\n"
        "    total = 0\n"
        "    try:\n"
        "        with open(folder + '/fill', 'wb') as f:\n"
        "            for _ in range(100):\n"
        "                f.write(b'\\0' * 2**20); f.flush(); total += 2**20\n"
        "    except OSError as exc:\n"
        "        print(folder, exc.errno, total)\n"
    )
    result = bwrap_box.run(make_spec(code, max_file_bytes=512 * 2**20))
    lines = [line.split() for line in result.stdout.decode().splitlines()]
    assert result.returncode == 0, result.stderr
    assert lines[0] == ["/dev", "30", "0"]  # EROFS
    assert lines[1][:2] == ["/dev/shm", "28"] and int(lines[1][2]) <= 64 * 2**20  # ENOSPC at the tmpfs size


def test_init_command_cannot_be_signalled_from_inside(bwrap_box: BwrapSandbox, make_spec: SpecFactory) -> None:
    # The top process (the harness, in the pipeline) as the PID namespace's init: its children
    # cannot kill or stop it, with any signal it does not handle itself.
    child = (
        "import os, signal\n"
        "for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGHUP):\n"
        "    os.kill(os.getppid(), sig)\n"
        "    try:\n"
        "        os.kill(-1, sig)\n"
        "    except ProcessLookupError:\n"
        "        pass\n"
    )
    code = (
        "import subprocess, sys\n"
        f"done = subprocess.run([sys.executable, '-c', {child!r}])\n"
        "print('init alive, child exit', done.returncode)\n"
    )
    spec = dataclasses.replace(make_spec(code, wall_time_s=10), init=True)
    result = bwrap_box.run(spec)
    assert result.stdout == b"init alive, child exit 0\n", result.stderr
    assert result.returncode == 0
