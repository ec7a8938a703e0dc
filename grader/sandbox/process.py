"""The process runner every backend shares.

`run_tree` starts one top process in a new session with a clean environment, puts it into a
per-run cgroup and applies rlimits before it execs, reads its output concurrently with caps,
enforces the wall-clock limit, and always kills the whole tree before returning. Backends build
the command line (bwrap wraps it in namespaces; plain runs it as it is) and name themselves in
the result.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SandboxError
from grader.sandbox.base import Limits, SandboxResult, SandboxSpec
from grader.sandbox.user import RunUser
from grader.sandbox.limits import (
    CgroupSupport,
    RunCgroup,
    format_gib,
    make_preexec,
    rlimit_settings,
    scratch_is_limited,
)

logger = logging.getLogger(__name__)

MARKER_VAR = "GRADER_SANDBOX_RUN"  # tags every process of a run where no cgroup can hold them
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_CHUNK = 65536


def sandbox_env(spec: SandboxSpec, home: str, tmpdir: str, pythonpath: str, python_bin: str) -> dict[str, str]:
    """The complete environment inside: a minimal base, then spec.env; never the caller's."""
    env = {
        "PATH": f"{python_bin}:{_SYSTEM_PATH}",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": tmpdir,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{tmpdir}/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(spec.env)
    extra = spec.env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{pythonpath}:{extra}" if extra else pythonpath
    return env


def scratch_note(spec: SandboxSpec) -> str:
    """How the scratch folder's size is bounded in this run, for SandboxResult.backend."""
    if scratch_is_limited(spec.scratch):
        return "scratch: size-limited tmpfs"
    return f"scratch: files up to {format_gib(spec.limits.max_file_bytes)} GiB each (no folder quota)"


def limits_description(support: CgroupSupport) -> str:
    if support.available:
        return f"limits: {support.describe()} + rlimits"
    return f"limits: rlimits only, memory limited per process ({support.reason})"


@dataclass
class _Capture:
    """One output stream: keeps the first `cap` bytes and drains the rest."""

    cap: int
    chunks: list[bytes] = field(default_factory=list)
    kept: int = 0
    truncated: bool = False

    def add(self, data: bytes) -> None:
        room = self.cap - self.kept
        if room > 0:
            piece = data[:room]
            self.chunks.append(piece)
            self.kept += len(piece)
        if len(data) > max(room, 0):
            self.truncated = True

    def value(self) -> bytes:
        return b"".join(self.chunks)


def _drain(fd: int, capture: _Capture, stop: threading.Event,
           on_data: Callable[[bytes], None] | None = None) -> None:
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if stop.is_set():
                    return
                continue
            data = os.read(fd, _CHUNK)
            if not data:
                return
            capture.add(data)
            if on_data is not None:
                try:
                    on_data(data)
                except Exception:  # a display's problem never stops the run's reading
                    logger.exception("output callback failed")
    except OSError as exc:
        logger.debug("output reader stopped: %s", exc)


def _feed(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError:
        pass  # the child closed stdin or died: what it did not read does not matter
    finally:
        os.close(fd)


def _proc_start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _proc_parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            parents[int(entry)] = int(stat.rsplit(")", 1)[-1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return parents


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


class _TreeTracker:
    """Finds a run's processes without a cgroup: descendants seen so far, plus the env marker.

    Best effort only: a process that double-forks between two scans and then execs with a
    clean environment escapes it. The cgroup has no such gap.
    """

    def __init__(self, root_pid: int, token: str) -> None:
        self.root_pid = root_pid
        self.marker = f"{MARKER_VAR}={token}".encode()
        self.seen: dict[int, str | None] = {}

    def scan(self) -> set[int]:
        parents = _proc_parents()
        children: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        found: set[int] = set()
        stack = [self.root_pid]
        while stack:
            pid = stack.pop()
            for child in children.get(pid, []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        for pid in parents:
            if pid != os.getpid() and _has_marker(pid, self.marker):
                found.add(pid)
        for pid in found:
            self.seen.setdefault(pid, _proc_start_time(pid))
        return found

    def kill_all(self) -> None:
        for _ in range(20):
            alive = {
                pid
                for pid, started in self.seen.items()
                if started is not None and _proc_start_time(pid) == started
            }
            alive |= self.scan()
            alive.discard(os.getpid())
            if not alive:
                return
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)


def run_tree(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    limits: Limits,
    stdin: bytes | None,
    support: CgroupSupport,
    pass_fds: tuple[int, ...] = (),
    user: RunUser | None = None,
    on_output: Callable[[bytes], None] | None = None,
) -> SandboxResult:
    """Run `argv` as the top of a process tree under `limits`; the tree is dead on return.

    `user`: the unprivileged host user the tree becomes (grader.sandbox.user; bwrap's setpriv
    switches to it inside, after the top process joined the cgroup and took its rlimits as root).
    The result's `backend` is empty and its returncode is the top process's own: the caller
    fills in the one and translates the other where its wrapper changes it.
    """
    token = uuid.uuid4().hex
    env = {**env, MARKER_VAR: token}
    cgroup = RunCgroup(support, limits) if support.available else None
    settings = rlimit_settings(limits, memory_per_process=cgroup is None, fresh_user=user is not None)
    preexec = make_preexec(cgroup, settings)
    start = time.monotonic()
    try:
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=preexec,
                pass_fds=pass_fds,
                close_fds=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"could not start {argv[0]}: {exc}") from exc
        return _supervise(proc, limits, stdin, cgroup, _TreeTracker(proc.pid, token), start, on_output)
    finally:
        if cgroup is not None:
            cgroup.kill_all()
            cgroup.remove()


class _ExitWaiter:
    """wait(timeout) -> whether the process has exited. With a pidfd the wait ends the moment
    the process does (Popen.wait(timeout) polls, sleeping up to 50 ms before it notices)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.poller = select.poll()
        try:
            self.fd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # no pidfd (old kernel, not Linux): Popen's polling
            self.fd = None
        if self.fd is not None:
            self.poller.register(self.fd, select.POLLIN)

    def wait(self, timeout: float) -> bool:
        if self.fd is not None and not self.poller.poll(timeout * 1000):
            return False
        try:
            self.proc.wait(timeout=0 if self.fd is not None else timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _supervise(
    proc: subprocess.Popen[bytes],
    limits: Limits,
    stdin: bytes | None,
    cgroup: RunCgroup | None,
    tracker: _TreeTracker,
    start: float,
    on_output: Callable[[bytes], None] | None = None,
) -> SandboxResult:
    assert proc.stdout is not None and proc.stderr is not None
    stop = threading.Event()
    out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
    threads = [
        threading.Thread(target=_drain, args=(proc.stdout.fileno(), out, stop, on_output), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr.fileno(), err, stop), daemon=True),
    ]
    if stdin is not None and proc.stdin is not None:
        stdin_fd = os.dup(proc.stdin.fileno())
        proc.stdin.close()
        threads.append(threading.Thread(target=_feed, args=(stdin_fd, stdin), daemon=True))
    for thread in threads:
        thread.start()

    timed_out = memory_exceeded = killed = False
    last_scan = 0.0
    exited = _ExitWaiter(proc)
    while True:
        if exited.wait(0.05):
            break
        now = time.monotonic()
        if cgroup is not None and cgroup.memory_exceeded():
            memory_exceeded = killed = True
            break
        if now - start > limits.wall_time_s:
            timed_out = killed = True
            break
        if cgroup is None and now - last_scan > 0.25:
            tracker.scan()  # remember descendants before they can be orphaned
            last_scan = now

    exited.close()
    # Always: nothing of the tree outlives run().
    if cgroup is not None:
        cgroup.kill_all()
    else:
        tracker.scan()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if cgroup is None:
        tracker.kill_all()
    proc.kill()
    returncode = proc.wait()
    duration = time.monotonic() - start

    if cgroup is not None and not memory_exceeded:
        memory_exceeded = cgroup.memory_exceeded()
    process_limit_hit = cgroup is not None and cgroup.process_limit_hit()

    # Output still in the pipes is read; a writer that escaped the kill cannot hold us up.
    deadline = time.monotonic() + 2.0
    for thread in threads[:2]:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(timeout=1.0)
    proc.stdout.close()
    proc.stderr.close()

    stderr = err.value()
    if cgroup is None and not killed and returncode != 0 and b"MemoryError" in stderr[-4096:]:
        memory_exceeded = True  # per-process RLIMIT_DATA makes allocations fail instead

    reason: str | None = None
    if timed_out:
        reason = f"time limit of {limits.wall_time_s:g} s exceeded"
    elif memory_exceeded:
        reason = f"memory limit of {format_gib(limits.memory_bytes)} GiB exceeded"
    return SandboxResult(
        returncode=None if killed else returncode,
        stdout=out.value(),
        stderr=stderr,
        duration_s=duration,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
        output_truncated=out.truncated or err.truncated,
        killed_reason=reason,
        process_limit_hit=process_limit_hit,
    )
