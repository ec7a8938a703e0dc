"""The checks of a batch in processes of their own, each under a memory limit.

A batch's checks read what student code left behind (probe records, figures, models' reports).
Their inputs are bounded where they are read (grader.jsonbudget, the runner's file caps), but the
work a check does on them is not: a sequence of steps replayed, a figure's points compared. So the
checks of `grade_batch` run in a few long-lived worker processes (`grader.checkproc.main`, started
once per batch), each with RLIMIT_DATA set: a check that would need more memory gets a
MemoryError in its own process, and that student's result says so. The grader's process, which
holds every other student's result, never grows with one student's artifacts.

A worker that dies all the same (killed by the kernel's out-of-memory killer, say) takes only the
submission it was checking with it: that one is checked once more in a fresh worker, and when its
checks kill that one too, the student gets an error result that says so. The batch goes on.

The workers are plain subprocesses, not multiprocessing's: they never import the program that
started the batch (a script without a main guard would start a batch in each of them). Only the
grader's own objects cross between these processes (a run as the runner read it, a result), as
pickles on the worker's pipes; nothing that student code wrote is unpickled.
`grader check` (one student, on their own machine) runs its checks in its own process.
"""
from __future__ import annotations

import importlib
import logging
import os
import pickle
import queue
import resource
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.grading import RanSubmission
    from grader.results import SubmissionResult

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_MB = 4096  # per check process: many times what the checks of any shipped rubric use
_HEADER = struct.Struct("!Q")
# this package, importable in the worker the way it is here (`-I` leaves out PYTHONPATH and the
# working folder)
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = "import sys; sys.path.insert(0, {root!r}); from grader.checkproc import main; main()"
CHECK_ONE = "grader.grading:check_one"  # what a worker runs on each submission
# The checks need no threaded BLAS, and OpenBLAS reserves a buffer per thread it starts (per core),
# which would count against the limit on a machine with many cores.
_ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass(frozen=True)
class OutOfMemory:
    """A worker's answer when the checks of a submission needed more than the limit."""

    limit_mb: int


@dataclass(frozen=True)
class ProcessLost:
    """The worker died twice under this submission's checks."""

    detail: str


@dataclass(frozen=True)
class _Raised:
    """The checks raised: the exception, to be raised again in the grader's process."""

    error: BaseException


def _send(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the check process closed its pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the check process closed its pipe")
    return pickle.loads(data)  # a message of our own worker, never anything student code wrote


class _Worker:
    def __init__(self, memory_mb: int, target: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT.format(root=_PACKAGE_ROOT), str(memory_mb), target],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, **_ONE_THREAD},
        )

    def ask(self, ran: RanSubmission) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            _send(self.process.stdin, ran)
            return _receive(self.process.stdout)
        except (BrokenPipeError, EOFError, OSError):
            self.process.kill()
            code = self.process.wait()
            return ProcessLost(f"exit status {code}" if code >= 0 else f"signal {-code}")

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()  # the worker's loop ends at end of input
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class CheckProcesses:
    """Up to `workers` check processes for one batch; `check` may be called from several threads,
    each call uses one idle worker. Workers start on first use and end with `close`."""

    def __init__(self, workers: int, memory_mb: int = DEFAULT_MEMORY_MB, target: str = CHECK_ONE) -> None:
        self.workers = max(1, workers)
        self.memory_mb = memory_mb
        self.target = target  # module:function, called with each submission in a worker
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._started = 0
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle.empty() and self._started < self.workers:
                self._started += 1
                worker = _Worker(self.memory_mb, self.target)
                self._all.append(worker)
                return worker
        return self._idle.get()

    def _fresh(self) -> _Worker:
        worker = _Worker(self.memory_mb, self.target)
        with self._lock:
            self._all.append(worker)
        return worker

    def check(self, ran: RanSubmission) -> SubmissionResult | OutOfMemory | ProcessLost:
        """The student's result, or why their checks could not finish. An exception of the
        checks themselves is raised here, as `check_one` would raise it."""
        worker = self._take()
        answer = worker.ask(ran)
        if isinstance(answer, ProcessLost):
            logger.warning("a check process died under %s's checks (%s); checking them again",
                           ran.sub.student, answer.detail)
            worker = self._fresh()
            answer = worker.ask(ran)
            if isinstance(answer, ProcessLost):
                worker = self._fresh()  # the pool keeps its size for the others
        self._idle.put(worker)
        if isinstance(answer, _Raised):
            raise answer.error
        return answer  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()

    def __enter__(self) -> CheckProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _limit_memory(limit_mb: int) -> None:
    """The worker's data segment (heap and anonymous mappings: what a check allocates) may not
    grow past `limit_mb`."""
    limit = limit_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _serve(limit_mb: int, target: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    module, _, name = target.partition(":")
    check_one = getattr(importlib.import_module(module), name)
    import numpy  # noqa: F401  (every family's checks use it; its start-up is not the checks' memory)

    _limit_memory(limit_mb)
    while True:
        try:
            ran = _receive(requests)
        except EOFError:
            return
        try:
            answer: object = check_one(ran)
        except MemoryError:
            answer = OutOfMemory(limit_mb)
        except Exception as exc:  # the grader's process reports it as it reports its own errors
            try:
                pickle.dumps(exc)
                answer = _Raised(exc)
            except Exception:
                answer = _Raised(RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            _send(replies, answer)
        except MemoryError:
            _send(replies, OutOfMemory(limit_mb))


def main() -> None:
    limit_mb, target = int(sys.argv[1]), sys.argv[2]
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print of a library must not corrupt the replies
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _serve(limit_mb, target, requests, replies)
