"""A real local Ray cluster for the executor tests: `ray start --head --num-cpus 2` in a process
of its own (loopback only, its own token), stopped at the end with everything it started."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0

# Ray reads its authentication settings once, when it is first imported: they are set here, before
# any test module of this folder imports it, for the test cluster and this process (its driver) alike.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(16))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a running 2-CPU Ray head whose workers import this checkout's grader."""
    pytest.importorskip("ray")
    port = _free_port()
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}
    log = tmp_path_factory.mktemp("ray") / "head.log"
    with log.open("wb") as sink:
        head = subprocess.Popen(
            [str(Path(sys.executable).parent / "ray"), "start", "--head", "--node-ip-address", "127.0.0.1",
             "--port", str(port), "--num-cpus", "2", "--num-gpus", "0", "--include-dashboard", "false",
             "--disable-usage-stats", "--block"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_started(head, log)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(head)


def _wait_started(head: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if b"Ray runtime started" in log.read_bytes():
            return
        if head.poll() is not None:
            break
        time.sleep(0.5)
    _stop(head)
    pytest.fail(f"the Ray head did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(head: subprocess.Popen[bytes]) -> None:
    """`ray start --block` stops the processes it started when it is terminated."""
    if head.poll() is None:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
