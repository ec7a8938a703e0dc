"""The Ray executor: each submission's sandboxed run is one Ray task on a worker node of a cluster.

What runs where. The driver (the machine `grader grade` runs on) finds the students, decides who
needs a run (resume, --force), prepares the datasets, plans each run, and does everything after
it: the checks, results.json and every other file of the output folder. A worker node does the
sandboxed run itself, exactly as a local batch does it (grader.grading.execute_run, with the
sandbox get_sandbox chooses there: bubblewrap, or an error that says how to install it; a plain
process only when --sandbox plain asks for it), in a private temporary folder.

No shared filesystem is needed. The submission's files travel with the task as a tar; the folders
a run mounts (the student's data splits, the hidden images, the pretrained weights: what a local
run mounts, nothing more) go into the object store once per batch and are unpacked once per node;
the folder a run leaves (run/, apps/) comes back as a tar, which the driver unpacks under the
same rules as any sandbox output (grader.executors.shipping). Only our own code's objects cross
as pickles (the plan of a run, the runner's reading of what the sandbox wrote).

A task whose worker dies (the node lost, the process killed) is run once more; when the second
try is lost too, that student's result is an error that says so, and the batch goes on.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray
import ray.exceptions

import grader
import grader_inside
from grader.errors import ExecutionError, ExecutorError, GraderError
from grader.executors.shipping import (Budget, digest, materialise, pack_files, pack_folders, pack_tree, submission_path,
                                      unpack_run, unpack_trusted)
from grader.grading import BatchPlan, GradeOptions, PlannedRun, Staged, execute_run, land_run
from grader.i18n import msg
from grader.intake import Submission
from grader.run.runner import MAX_ARTIFACT_FILES, RunOutcome
from grader.sandbox import GIB, Sandbox, get_sandbox

logger = logging.getLogger(__name__)

TRIES = 2  # a run whose worker is lost is tried once more; the second loss is the student's error
RUN_FOLDERS = ("run", "apps")  # what execute_run writes into a student's folder
DATA_CACHE = "grader-ray-data"  # under the worker's temporary folder: the unpacked data folders
WORK = "grader-ray-work"  # and there each run's folder, <worker pid>-<random>
PREFLIGHT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Demand:
    """What one run asks of a node."""

    cpus: float
    gpus: int
    memory: int  # bytes: the rubric's memory limit for the run's whole process tree

    def describe(self) -> str:
        gpu = f", {self.gpus} GPU" if self.gpus else ""
        return f"{self.cpus:g} CPU, {self.memory / GIB:g} GiB memory{gpu}"


@dataclass(frozen=True)
class Shipped:
    """A folder (or file) of the driver's in the object store, as a tar."""

    digest: str
    ref: Any  # ray.ObjectRef of the tar's bytes; a worker fetches it only when its node has no copy


@dataclass(frozen=True)
class NodeReport:
    """What a worker says of itself before the batch starts."""

    host: str
    code: str  # digest of the grader's code there
    sandbox: str  # its sandbox's description
    problem: str | None  # why it cannot run the batch's sandbox


@dataclass(frozen=True)
class Landed:
    """What a task hands back: the runner's reading of the run, and the folder it left."""

    run: RunOutcome
    folder: bytes  # tar of run/ (and apps/)
    sandbox: str
    host: str


def code_digest() -> str:
    """The grader's code and messages on this machine: a driver and its workers must agree, or
    the same submission could get another grade on another node."""
    h = hashlib.sha256()
    for package in (grader, grader_inside):
        root = Path(package.__file__).resolve().parent
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file()):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


_BOXES: dict[str, Sandbox] = {}  # one per worker process and kind: get_sandbox tries bwrap once


def _worker_sandbox(kind: str) -> Sandbox:
    if kind not in _BOXES:
        try:
            _BOXES[kind] = get_sandbox(kind)  # type: ignore[arg-type]
        except GraderError as exc:
            raise type(exc)(f"on the cluster's node {socket.gethostname()}: {exc}") from exc
    return _BOXES[kind]


def _node_report(kind: str) -> NodeReport:
    host = socket.gethostname()
    try:
        box = _worker_sandbox(kind)
    except GraderError as exc:
        return NodeReport(host, code_digest(), "", str(exc))
    return NodeReport(host, code_digest(), box.description, None)


def _run_on_worker(planned: PlannedRun, files: bytes, data: dict[Path, Shipped], kind: str) -> Landed:
    """One run on the worker: the submission and the data unpacked here, the same sandboxed run
    as a local batch, the student folder it left packed for the driver."""
    box = _worker_sandbox(kind)
    temp = Path(tempfile.gettempdir())
    local = {source: materialise(item.digest, lambda item=item: ray.get(item.ref), temp / DATA_CACHE)
             for source, item in data.items()}
    _sweep_killed_work(temp / WORK)
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=temp / WORK) as tmp:
        work = Path(tmp)
        unpack_trusted(files, work / "submission")
        moved = for_worker(planned, work / "submission", local)
        student = work / "student"
        student.mkdir()
        run = execute_run(moved, box, student)
        folder = pack_folders(student, RUN_FOLDERS)
    return Landed(run, folder, box.description, socket.gethostname())


@functools.cache
def _sweep_killed_work(parent: Path) -> None:
    """Remove the run folders of workers that were killed (once per worker process): a killed
    worker cannot clean up after itself."""
    parent.mkdir(parents=True, exist_ok=True)
    for folder in parent.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def for_worker(planned: PlannedRun, submission: Path, data: dict[Path, Path]) -> PlannedRun:
    """The plan with this node's paths: the submission's copy under `submission`, each mount's
    source at its unpacked copy (its place inside the sandbox unchanged, so the run sees what a
    local run sees), and the app stage's data where it was unpacked."""
    req = planned.request
    files = tuple(submission / submission_path(f, req.files_root) for f in (req.files or (req.entry,)))
    request = replace(req, entry=submission / submission_path(req.entry, req.files_root), files=files,
                      files_root=submission,
                      mounts=tuple(replace(m, source=data.get(m.source, m.source)) for m in req.mounts))
    return replace(planned, request=request, setup=planned.setup.on_worker(data) if planned.setup is not None else None)


_remote_run = ray.remote(_run_on_worker)
_remote_report = ray.remote(_node_report)


class RayExecutor:
    name = "ray"

    def __init__(self, options: GradeOptions, address: str, connected_here: bool) -> None:
        self.sandbox_kind = options.sandbox
        self.address = address
        self.connected_here = connected_here
        self.nodes = [n for n in ray.nodes() if n.get("Alive")]
        gpus = sum(n["Resources"].get("GPU", 0) for n in self.nodes)
        if options.device == "cuda" and gpus < 1:
            raise ExecutorError("--device cuda: the Ray cluster has no GPU node (start the GPU nodes with "
                                "`ray start --address ... --num-gpus N`), or grade with --device cpu")
        self.gpu: bool | None = options.device != "cpu" and gpus >= 1
        report = self._preflight()
        self.description = f"{report.sandbox}; runs on the Ray cluster at {address} ({len(self.nodes)} nodes)"
        self._shipped: dict[Path, Shipped] = {}

    def _preflight(self) -> NodeReport:
        """One task on a worker before the batch: its sandbox, and the same grader code as here."""
        try:
            report: NodeReport = ray.get(_remote_report.remote(self.sandbox_kind), timeout=PREFLIGHT_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError as exc:
            raise ExecutorError(f"no worker of the Ray cluster at {self.address} answered in "
                                f"{PREFLIGHT_TIMEOUT_S:g} s: are its nodes busy with other work?") from exc
        if report.problem is not None:
            raise ExecutorError(report.problem)
        if report.code != code_digest():
            raise ExecutorError(f"the grader on the cluster's node {report.host} is not the grader here (their "
                                "code differs): install the same grader version on every node, then grade again")
        return report

    def demand(self, plan: BatchPlan) -> Demand:
        if self.sandbox_kind == "plain" and plan.setup is not None \
                and any(m.target.startswith("/") for m in plan.setup.mounts()):
            raise ExecutorError("--sandbox plain cannot show this assignment's data at its paths on the cluster's "
                                "nodes (a plain process has no mounts): grade it there with bubblewrap")
        wants_gpu = bool(self.gpu) and plan.setup is not None and plan.setup.sandbox_device() == "cuda"
        return Demand(1.0, 1 if wants_gpu else 0, int(plan.rubric.limits.memory_gb * GIB))

    def capacity(self, demand: Demand) -> int:
        """Runs the cluster holds at once; ExecutorError when no node can take even one."""
        total = sum(_fits(n["Resources"], demand) for n in self.nodes)
        if total < 1:
            largest = max((n["Resources"] for n in self.nodes), key=lambda r: r.get("memory", 0), default={})
            raise ExecutorError(f"no node of the Ray cluster can take one run: each needs {demand.describe()}, "
                                f"the largest node has {largest.get('CPU', 0):g} CPU, "
                                f"{largest.get('memory', 0) / GIB:.1f} GiB, {largest.get('GPU', 0):g} GPU")
        return total

    def runs(self, plan: BatchPlan, todo: Sequence[Submission],
             started: Callable[[Submission], None]) -> Iterator[tuple[Submission, Staged]]:
        demand = self.demand(plan)
        # twice what the cluster holds at once: a freed slot starts the next run at once, without
        # waiting for this driver to land the last one and send another (sent counts as started)
        window = 2 * self.capacity(demand)
        queue = list(reversed(todo))
        pending: dict[Any, tuple[Submission, PlannedRun]] = {}
        try:
            while queue or pending:
                while queue and len(pending) < window:
                    sub = queue.pop()
                    started(sub)
                    submitted = self._submit(plan, sub, demand)
                    if isinstance(submitted, tuple):
                        pending[submitted[0]] = (sub, submitted[1])
                    else:
                        yield sub, submitted
                if pending:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    sub, planned = pending.pop(ready[0])
                    yield sub, self._land(plan, planned, ready[0])
        finally:
            for ref in pending:  # the batch was stopped: its runs on the cluster stop too
                ray.cancel(ref, force=True)

    def _submit(self, plan: BatchPlan, sub: Submission, demand: Demand) -> tuple[Any, PlannedRun] | Staged:
        try:
            planned = plan.plan(sub, self.description)
            if not isinstance(planned, PlannedRun):
                return planned
            req = planned.request
            files = pack_files(req.files or (req.entry,), req.files_root)
            data = {m.source: self._ship(m.source) for m in req.mounts}
            ref = _remote_run.options(
                name=f"grade {sub.student_id}", num_cpus=demand.cpus, num_gpus=demand.gpus, memory=demand.memory,
                max_retries=TRIES - 1, retry_exceptions=False,
            ).remote(planned, files, data, self.sandbox_kind)
        except Exception as exc:  # one bad submission never stops the batch
            logger.exception("could not send %s to the cluster", sub.student)
            return plan.crashed(sub, exc, self.description)
        return ref, planned

    def _ship(self, source: Path) -> Shipped:
        if source not in self._shipped:
            blob = pack_tree(source)
            self._shipped[source] = Shipped(digest(blob), ray.put(blob))
        return self._shipped[source]

    def _land(self, plan: BatchPlan, planned: PlannedRun, ref: Any) -> Staged:
        sub = planned.sub
        try:
            landed: Landed = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # our code raised on the worker: as a local run would
            logger.error("grading %s failed on the cluster: %s", sub.student, exc)
            return plan.crashed(sub, exc.cause if exc.cause is not None else exc, self.description)
        except ray.exceptions.RayError as exc:  # the worker or its node was lost, twice
            logger.error("grading %s: the cluster lost its worker %d times (%s)", sub.student, TRIES, exc)
            return plan.failed(sub, msg("cluster.worker_lost", detail=type(exc).__name__), self.description)
        try:
            for name in RUN_FOLDERS:
                shutil.rmtree(planned.student_dir / name, ignore_errors=True)
            unpack_run(landed.folder, planned.student_dir, RUN_FOLDERS, _budget(planned))
        except (ExecutionError, OSError, ValueError) as exc:
            logger.error("grading %s: the run's folder from %s is refused: %s", sub.student, landed.host, exc)
            return plan.failed(sub, msg("grader.internal_error", error=str(exc)), landed.sandbox)
        return land_run(planned, replace(landed.run, outbox=planned.student_dir / "run"), landed.sandbox)

    def close(self) -> None:
        if self.connected_here:
            ray.shutdown()


def _fits(resources: dict[str, float], demand: Demand) -> int:
    counts = [resources.get("CPU", 0) / demand.cpus]
    if demand.memory:
        counts.append(resources.get("memory", 0) / demand.memory)
    if demand.gpus:
        counts.append(resources.get("GPU", 0) / demand.gpus)
    return int(math.floor(min(counts)))


def _budget(planned: PlannedRun) -> Budget:
    """What a run may hand back: the runner's caps for the notebook's run and for each app's."""
    stages = 1 + len(RUN_FOLDERS) * 3  # the run, and a few app runs with their records
    return Budget(files=MAX_ARTIFACT_FILES * stages, bytes=planned.request.limits.scratch_bytes * stages)


def connect(address: str | None) -> tuple[str, bool]:
    """Connect to the cluster (`auto`: the one started on this machine, or RAY_ADDRESS); the
    address, and whether this call connected (so closing disconnects)."""
    where = address or "auto"
    if ray.is_initialized():
        return where, False
    _answers(where)
    try:
        ray.init(address=where, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ExecutorError(f"cannot reach a Ray cluster at {where!r} ({exc}). Start one with `ray start --head` "
                            "(and `ray start --address HEAD:6379` on each worker node), then pass "
                            "--address auto on the head node or --address HEAD:6379 elsewhere. A cluster with "
                            "token authentication (Ray's default) also needs RAY_AUTH_MODE=token here and its "
                            "token (the head's ~/.ray/auth_token, or RAY_AUTH_TOKEN)") from exc
    return where, True


def _answers(address: str, timeout_s: float = 10.0) -> None:
    """A HOST:PORT that nothing listens on is said at once (Ray itself waits on it for good)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ExecutorError(f"nothing answers at {address} ({exc}): is the cluster's head started there "
                            f"(`ray start --head --port {port}`), and is the port open from here?") from exc


def open_executor(options: GradeOptions, sandbox: Sandbox | None = None) -> RayExecutor:
    """`sandbox` (a backend object of this machine) has no meaning on a cluster: the workers
    choose theirs from options.sandbox."""
    if sandbox is not None:
        raise ExecutorError("the Ray executor's runs use the workers' sandboxes: pass --sandbox, not a backend")
    address, here = connect(options.address)
    try:
        return RayExecutor(options, address, here)
    except BaseException:
        if here:
            ray.shutdown()
        raise
