"""Grader side of execution: prepare a private scratch folder, run the harness in the sandbox,
read back only plain data (JSON and PNG files; nothing is ever unpickled).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.sandbox import MIB, Limits, Mount, Sandbox, SandboxResult, SandboxSpec
from grader.run.bytecode import ensure_compiled
from grader_inside.boot import MPL_CACHE_ENV
from grader.run.mplcache import matplotlib_cache
from grader.sandbox.limits import format_gib, make_scratch, remove_scratch

logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024 * 1024
HARNESS_GRACE_S = 45.0  # kernel start, probes and writing results, beyond the students' time
RunStatus = Literal["ok", "timeout", "memory", "crashed", "unreadable"]
# Lines the kernel and harness print on every run: never the reason a run failed.
_NOISE = ("Kernel is running over TCP without encryption", "RuntimeWarning", "warnings.warn")


@dataclass(frozen=True)
class Remark:
    """A line for the student's report as a message key and its fields; translated by the caller."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellRecord:
    number: int
    status: str  # ok | error | timeout | died | skipped_deadline
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True)
class RunRequest:
    entry: Path
    files: tuple[Path, ...] = ()  # the submission's files, copied into the scratch folder
    files_root: Path | None = None
    probes: tuple[str, ...] = ()
    trace: bool = False
    cell_timeout_s: float = 60.0
    timeout_s: float = 300.0
    limits: Limits = Limits()
    parameters: dict[str, Any] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    seed: int = 0
    env: dict[str, str] = field(default_factory=dict)  # extra environment (data folders, WandB offline)
    models: dict[str, Any] = field(default_factory=dict)  # Task 2 models probe config ({}: none)
    device: Literal["cpu", "cuda"] = "cpu"


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    message: str  # plain words when status is not ok (empty otherwise)
    cells: tuple[CellRecord, ...]
    probe: dict[str, Any]  # probe.json content ({} when the probes did not run)
    figures: tuple[dict[str, Any], ...]
    outbox: Path
    skipped_lines: tuple[str, ...]
    sandbox: str
    duration_s: float
    harness_error: str | None = None
    kernel_restarts: int = 0
    problem: Remark | None = None  # why the run ended early (status not ok), for the report
    remarks: tuple[Remark, ...] = ()  # limits the run ran into without ending (output, processes)

    @property
    def executed_notebook(self) -> Path | None:
        path = self.outbox / "executed.ipynb"
        return path if path.is_file() else None


def _read_json(path: Path) -> Any:
    """JSON the sandbox wrote, or None. Only regular files (never a link or a FIFO), size-capped."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JSON_BYTES:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        logger.warning("unreadable JSON from the sandbox: %s", path)
        return None


def collect_artifacts(live: Path, outbox: Path, max_bytes: int) -> None:
    """Copy what the sandbox wrote into `live` to `outbox`: regular files only, at most max_bytes.

    Links, FIFOs and devices are left behind, so nothing the student made can point the grader
    (or whoever later zips the reports) at a file outside the run, or block a read.
    """
    left = max_bytes
    for folder, dirs, files in os.walk(live, followlinks=False):
        rel = Path(folder).relative_to(live)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in sorted(files):
            src = Path(folder) / name
            try:
                info = src.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > left:
                logger.warning("sandbox artifact %s not kept (not a regular file, or over the cap)", src)
                continue
            left -= info.st_size
            dest = outbox / rel / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest, follow_symlinks=False)


def _copy_submission(req: RunRequest, work: Path) -> Path:
    """Copy the student's files into the scratch folder; return the entry's path there."""
    root = req.files_root
    files = req.files or (req.entry,)
    for src in files:
        rel = src.relative_to(root) if root is not None and src.is_relative_to(root) else Path(src.name)
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_file() and not src.is_symlink():
            shutil.copyfile(src, dest)
    entry_rel = (req.entry.relative_to(root) if root is not None and req.entry.is_relative_to(root)
                 else Path(req.entry.name))
    return work / entry_rel


def _font_cache_mounts() -> tuple[Mount, ...]:
    cache = matplotlib_cache()
    return (Mount(cache, str(cache)),) if cache is not None else ()


def _font_cache_env() -> dict[str, str]:
    cache = matplotlib_cache()
    return {MPL_CACHE_ENV: str(cache)} if cache is not None else {}


def run_submission(req: RunRequest, sandbox: Sandbox, outbox: Path) -> RunOutcome:
    """Run one submission in `sandbox`; artifacts land in `outbox` (created fresh).

    The sandbox never sees `outbox` itself: it writes into a private folder of the same bounded
    kind as its scratch (a size-limited tmpfs as root), and only regular files are copied out.
    """
    if outbox.exists():
        shutil.rmtree(outbox)
    outbox.mkdir(parents=True)
    ensure_compiled()  # once per process: the sandbox cannot write the harness's bytecode
    temp = Path(tempfile.gettempdir())
    scratch = make_scratch(temp, req.limits.scratch_bytes)
    live = make_scratch(temp, req.limits.scratch_bytes)
    try:
        try:
            entry = _copy_submission(req, scratch)
        except OSError as exc:
            logger.warning("could not copy the submission into the scratch folder: %s", exc)
            mb = f"{req.limits.scratch_bytes / MIB:g}"
            return _not_run(outbox, sandbox.description, Remark("run.files_too_big", {"mb": mb}))
        harness_spec = {
            "entry": str(entry), "outbox": str(live),
            "cell_timeout_s": req.cell_timeout_s, "deadline_s": req.timeout_s,
            "probes": list(req.probes), "trace": req.trace, "seed": req.seed,
            "output_bytes": req.limits.output_bytes, "parameters": req.parameters,
            "models": {**req.models, "outbox": str(live)} if req.models else {},
        }
        spec_path = live / "spec.json"
        spec_path.write_text(json.dumps(harness_spec), encoding="utf-8")
        limits = req.limits
        wall = req.timeout_s + HARNESS_GRACE_S + float(req.models.get("timeout_s", 0) if req.models else 0)
        if limits.wall_time_s != wall:
            limits = Limits(**{**limits.__dict__, "wall_time_s": wall})
        spec = SandboxSpec(
            argv=(sys.executable, "-m", "grader_inside.boot", str(spec_path)),
            scratch=scratch, outbox=live, mounts=req.mounts + _font_cache_mounts(), limits=limits,
            env={**req.env, **_font_cache_env(), "GRADER_SEED": str(req.seed), "PYTHONHASHSEED": str(req.seed)},
            device=req.device, init=True,
        )
        result = sandbox.run(spec)
        collect_artifacts(live, outbox, req.limits.scratch_bytes)
    finally:
        remove_scratch(scratch)
        remove_scratch(live)
    return _outcome(result, outbox, sandbox.description, limits)


def _not_run(outbox: Path, description: str, problem: Remark) -> RunOutcome:
    return RunOutcome(status="crashed", message=problem.key, cells=(), probe={}, figures=(),
                      outbox=outbox, skipped_lines=(), sandbox=description, duration_s=0.0,
                      problem=problem)


def _cells(report: dict[str, Any]) -> tuple[CellRecord, ...]:
    """The per-cell records of run.json; malformed entries (the outbox is writable) are dropped."""
    cells = []
    for c in report.get("cells", []) if isinstance(report.get("cells"), list) else []:
        try:
            cells.append(CellRecord(
                number=int(c.get("number", 0)), status=str(c.get("status", "")),
                ename=str(c.get("ename", "")), evalue=str(c.get("evalue", "")),
                traceback=str(c.get("traceback", "")), duration_s=float(c.get("duration_s") or 0)))
        except (AttributeError, TypeError, ValueError):
            logger.warning("malformed cell record in run.json: %.200r", c)
    return tuple(cells)


def _stderr_tail(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    useful = [line for line in lines if line and not any(n in line for n in _NOISE)]
    return " | ".join(useful[-3:])[-600:]


def _crash_problem(result: SandboxResult) -> Remark:
    """Why a run ended without its record: a signal (killed) or the last lines it printed."""
    code = result.returncode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return Remark("run.crashed_signal", {"signal": name})
    return Remark("run.crashed", {"detail": _stderr_tail(result.stderr) or f"exit status {code}"})


def _outcome(result: SandboxResult, outbox: Path, description: str, limits: Limits) -> RunOutcome:
    report = _read_json(outbox / "run.json")
    report = report if isinstance(report, dict) else {}
    probe = _read_json(outbox / "probe.json") or {}
    figures = _read_json(outbox / "figures.json") or []
    status: RunStatus = "ok"
    message = ""
    problem: Remark | None = None
    harness_error = report.get("error")
    if result.memory_exceeded:
        status, message = "memory", result.killed_reason or "memory limit exceeded"
        problem = Remark("run.memory", {"gib": format_gib(limits.memory_bytes)})
    elif result.timed_out:
        status, message = "timeout", result.killed_reason or "time limit exceeded"
    elif isinstance(harness_error, str) and harness_error.startswith("unreadable"):
        status, message = "unreadable", harness_error
    elif not report:
        status = "crashed"
        problem = _crash_problem(result)
        message = f"the run ended without a result: {problem.fields}"
    remarks = []
    if result.output_truncated or report.get("output_truncated") is True:
        remarks.append(Remark("run.output_truncated", {"mb": f"{limits.output_bytes / MIB:g}"}))
    if result.process_limit_hit:
        remarks.append(Remark("run.process_limit", {"count": limits.max_processes}))
    try:
        restarts = int(report.get("restarts", 0) or 0)
    except (TypeError, ValueError):
        restarts = 0
    skipped = report.get("skipped_lines")
    return RunOutcome(
        status=status, message=message, cells=_cells(report),
        probe=probe if isinstance(probe, dict) else {},
        figures=tuple(f for f in figures if isinstance(f, dict)) if isinstance(figures, list) else (),
        outbox=outbox, skipped_lines=tuple(str(x) for x in skipped) if isinstance(skipped, list) else (),
        sandbox=description, duration_s=result.duration_s,
        harness_error=harness_error if isinstance(harness_error, str) else None,
        kernel_restarts=restarts, problem=problem, remarks=tuple(remarks),
    )
