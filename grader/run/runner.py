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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader import jsonbudget
from grader.artifacts import CellRecord
from grader.integrity import Integrity
from grader.families import probe_specs
from grader.family import AfterProbe
from grader.sandbox import GIB, MIB, Limits, Mount, Sandbox, SandboxResult, SandboxSpec
from grader.run.bytecode import ensure_compiled
from grader.run.progress import CellProgress
from grader_inside.prepare import MPL_CACHE_ENV
from grader.run.mplcache import matplotlib_cache
from grader.sandbox.limits import make_scratch, remove_scratch

logger = logging.getLogger(__name__)

MAX_SHIMS_LOG_BYTES = 64 * 1024
MAX_SHIM_NOTES = 12
MAX_ARTIFACT_FILES = 2000  # files a run may hand back (figures, the models probe's files, logs)
HARNESS_GRACE_S = 45.0  # kernel start, probes and writing results, beyond the students' time
WALL_FACTOR = 4.0  # the run's wall-clock backstop: this many times its CPU budget (see the harness)
RunStatus = Literal["ok", "timeout", "memory", "crashed", "unreadable"]
# Lines the kernel and harness print on every run: never the reason a run failed.
_NOISE = ("Kernel is running over TCP without encryption", "RuntimeWarning", "warnings.warn")


@dataclass(frozen=True)
class Remark:
    """A line for the student's report as a message key and its fields; translated by the caller."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRequest:
    entry: Path
    files: tuple[Path, ...] = ()  # the submission's files, copied into the scratch folder
    files_root: Path | None = None
    probes: tuple[str, ...] = ()
    trace: bool = False
    cell_timeout_s: float = 60.0  # CPU seconds per cell (and the longest a cell may wait idle)
    timeout_s: float = 300.0  # CPU seconds for the whole notebook
    limits: Limits = Limits()
    parameters: dict[str, Any] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    seed: int = 0
    env: dict[str, str] = field(default_factory=dict)  # extra environment (data folders, WandB offline)
    after: AfterProbe | None = None  # a family's probe after the student's cells (the models' evaluation)
    sealed: tuple[str, ...] = ()  # outbox folders only the grader's probes write: unsealed files there are deleted
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
    integrity: Integrity = Integrity()  # tripwires and seals, as the harness recorded them
    cpu_s: float | None = None  # CPU the student's processes used (None: the harness could not say)
    shims: tuple[str, ...] = ()  # the stand-ins the student's code used (shims.log; the kernel's, so notes only)

    @property
    def executed_notebook(self) -> Path | None:
        path = self.outbox / "executed.ipynb"
        return path if path.is_file() else None


def _read_json(path: Path, budget: jsonbudget.Budget = jsonbudget.RECORD,
               refused: list[str] | None = None) -> Any:
    """JSON the sandbox wrote, or None: only regular files (never a link or a FIFO), within
    `budget` (a JSON bomb is refused before it is parsed; why goes to `refused`)."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return jsonbudget.load_file(path, budget)
    except jsonbudget.JsonBudgetError as exc:
        logger.warning("sandbox JSON %s refused: %s", path, exc)
        if refused is not None:
            refused.append(str(exc))
    except (OSError, ValueError, UnicodeDecodeError):
        logger.warning("unreadable JSON from the sandbox: %s", path)
    return None


RECORDS = ("run.json", "probe.json", "figures.json", "executed.ipynb")  # the harness's own files


def _wanted_first(live: Path) -> tuple[str, ...]:
    """The harness's records and the files the probes sealed (named in run.json), to be
    collected before anything else the run left."""
    report = _read_json(live / "run.json")
    integrity = Integrity.from_report(report.get("integrity") if isinstance(report, dict) else None)
    return RECORDS + tuple(path for path, state in integrity.files.items() if state == "sealed")


@dataclass(frozen=True)
class Collected:
    """What collect_artifacts kept, and what it left behind because of the caps."""

    files: int
    dropped_files: int  # over the file count (an inode flood), or too big
    more: bool  # the walk stopped at the cap: there were more


def collect_artifacts(live: Path, outbox: Path, max_bytes: int, max_files: int = MAX_ARTIFACT_FILES,
                      first: tuple[str, ...] = ()) -> Collected:
    """Copy what the sandbox wrote into `live` to `outbox`: regular files only, at most max_bytes
    in all, max_files in number. `first` (paths relative to `live`: the harness's records, the
    files the probes sealed) are taken before anything else, so a flood of other files cannot
    push them out.

    Links, FIFOs and devices are left behind, so nothing the student made can point the grader
    (or whoever later zips the reports) at a file outside the run, or block a read. The walk stops
    at the file cap, so 300,000 empty files cost the grader a moment, not minutes.
    """
    budget = _CopyBudget(max_bytes, max_files)
    taken: set[str] = set()
    for rel in first:
        if rel not in taken and budget.copy(live, outbox, Path(rel)):
            taken.add(rel)
    for folder, dirs, files in os.walk(live, followlinks=False):
        base = Path(folder).relative_to(live)
        dirs[:] = sorted(d for d in dirs if not (Path(folder) / d).is_symlink())
        for name in sorted(files):
            if str(base / name) in taken:
                continue
            if budget.full():
                return budget.result(more=True)
            budget.copy(live, outbox, base / name)
    return budget.result(more=False)


class _CopyBudget:
    def __init__(self, max_bytes: int, max_files: int) -> None:
        self.left, self.files_left = max_bytes, max_files
        self.kept = self.dropped = 0

    def full(self) -> bool:
        return self.files_left <= 0

    def copy(self, live: Path, outbox: Path, rel: Path) -> bool:
        src = live / rel
        try:
            info = src.lstat()
        except OSError:
            return False
        self.files_left -= 1
        if not stat.S_ISREG(info.st_mode) or info.st_size > self.left or ".." in rel.parts:
            logger.warning("sandbox artifact %s not kept (not a regular file, or over the cap)", src)
            self.dropped += 1
            return False
        self.left -= info.st_size
        dest = outbox / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest, follow_symlinks=False)
        self.kept += 1
        return True

    def result(self, more: bool) -> Collected:
        return Collected(self.kept, self.dropped, more)


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


def inside_command(box: Sandbox, module: str, *args: str) -> tuple[str, ...]:
    """The command that runs `module` of grader_inside in `box`, isolated from the student's files.

    `python -I`: no working folder (the student's), no user site-packages (under HOME, the
    student's folder too) and no PYTHON* variables on the import path; the folder that holds
    grader_inside is put first by hand, and the module runs as __main__.
    """
    boot = f"import sys, runpy; sys.path.insert(0, {box.package_root!r}); runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return (sys.executable, "-I", "-c", boot, *args)


def _font_cache_mounts() -> tuple[Mount, ...]:
    cache = matplotlib_cache()
    return (Mount(cache, str(cache)),) if cache is not None else ()


def _font_cache_env() -> dict[str, str]:
    cache = matplotlib_cache()
    return {MPL_CACHE_ENV: str(cache)} if cache is not None else {}


def run_submission(req: RunRequest, sandbox: Sandbox, outbox: Path,
                   progress: Callable[[int, int], None] | None = None) -> RunOutcome:
    """Run one submission in `sandbox`; artifacts land in `outbox` (created fresh).
    `progress(number, total)`: called as each of the student's code cells starts (a display only).

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
            return _not_run(outbox, sandbox.description, Remark("run.files_too_big", {"mb": req.limits.scratch_bytes / MIB}))
        harness_spec = {
            "entry": str(entry), "outbox": str(live),
            "cell_timeout_s": req.cell_timeout_s, "deadline_s": req.timeout_s, "idle_s": req.cell_timeout_s,
            "probes": probe_specs(req.probes), "trace": req.trace, "seed": req.seed,
            "output_bytes": req.limits.output_bytes, "parameters": req.parameters,
            "after": _after_spec(req.after, live),
        }
        spec_path = live / "spec.json"
        spec_path.write_text(json.dumps(harness_spec), encoding="utf-8")
        limits = req.limits
        # the harness counts the student's CPU; the wall clock only stops what blocks for ever
        after_s = req.after.timeout_s if req.after is not None else 0.0
        wall = (req.timeout_s + after_s) * WALL_FACTOR + HARNESS_GRACE_S
        if limits.wall_time_s != wall:
            limits = Limits(**{**limits.__dict__, "wall_time_s": wall})
        spec = SandboxSpec(
            argv=inside_command(sandbox, "grader_inside.boot", str(spec_path)),
            scratch=scratch, outbox=live, mounts=req.mounts + _font_cache_mounts(), limits=limits,
            env={**req.env, **_font_cache_env(), "GRADER_SEED": str(req.seed), "PYTHONHASHSEED": str(req.seed)},
            device=req.device, init=True, on_output=CellProgress(progress) if progress is not None else None,
        )
        result = sandbox.run(spec)
        collected = collect_artifacts(live, outbox, req.limits.scratch_bytes, first=_wanted_first(live))
    finally:
        remove_scratch(scratch)
        remove_scratch(live)
    return _outcome(result, outbox, sandbox.description, limits, collected, _sealed_folders(req))


def _sealed_folders(req: RunRequest) -> tuple[str, ...]:
    folders = (*req.sealed, *((req.after.folder,) if req.after is not None else ()))
    return tuple(dict.fromkeys(folders))


def _after_spec(after: AfterProbe | None, live: Path) -> dict[str, Any] | None:
    """What the harness is told of the after-run probe; the probe's config gets the outbox and its folder."""
    if after is None:
        return None
    config = {**after.config, "outbox": str(live), "folder": str(live / after.folder)}
    return {"module": after.module, "config": config, "timeout_s": after.timeout_s, "folder": after.folder}


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
                traceback=str(c.get("traceback", "")), duration_s=float(c.get("duration_s") or 0),
                cpu_s=float(c.get("cpu_s") or 0), limit=str(c.get("limit", ""))[:8],
                limit_s=float(c.get("limit_s") or 0)))
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


def _keep_sealed(outbox: Path, integrity: Integrity, figures: list[Any],
                 sealed: tuple[str, ...]) -> list[dict[str, Any]]:
    """What the kernel wrote counts only where a probe sealed it: other files of the sealed
    folders (the after-run probe's, and those the rubric's families name) are deleted, and a figure
    whose PNG is not the probe's keeps its data (sealed with the probe's) but loses its picture."""
    for name in sealed:
        folder = outbox / name
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file() and not integrity.sealed(str(path.relative_to(outbox))):
                path.unlink()
    kept = []
    for figure in figures:
        if not isinstance(figure, dict):
            continue
        png = figure.get("png")
        if isinstance(png, str) and png and not integrity.sealed(png):
            figure = {**figure, "png": ""}
        kept.append(figure)
    return kept


def _outcome(result: SandboxResult, outbox: Path, description: str, limits: Limits,
             collected: Collected | None = None, sealed: tuple[str, ...] = ()) -> RunOutcome:
    refused: list[str] = []
    report = _read_json(outbox / "run.json", refused=refused)
    report = report if isinstance(report, dict) else {}
    integrity = Integrity.from_report(report.get("integrity"))
    probe = _read_json(outbox / "probe.json", jsonbudget.PROBE, refused) or {}
    figures = _read_json(outbox / "figures.json", refused=refused)
    figures = _keep_sealed(outbox, integrity, figures if isinstance(figures, list) else [], sealed)
    status: RunStatus = "ok"
    message = ""
    problem: Remark | None = None
    harness_error = report.get("error")
    if result.memory_exceeded:
        status, message = "memory", result.killed_reason or "memory limit exceeded"
        problem = Remark("run.memory", {"gib": limits.memory_bytes / GIB})
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
        remarks.append(Remark("run.output_truncated", {"mb": limits.output_bytes / MIB}))
    if result.process_limit_hit:
        remarks.append(Remark("run.process_limit", {"count": limits.max_processes}))
    if collected is not None and collected.more:
        remarks.append(Remark("run.too_many_files", {"count": MAX_ARTIFACT_FILES}))
    remarks += [Remark("run.json_refused", {"detail": why}) for why in refused]
    try:
        restarts = int(report.get("restarts", 0) or 0)
    except (TypeError, ValueError):
        restarts = 0
    skipped = report.get("skipped_lines")
    return RunOutcome(
        status=status, message=message, cells=_cells(report),
        probe=probe if isinstance(probe, dict) else {},
        figures=tuple(figures),
        outbox=outbox, skipped_lines=tuple(str(x) for x in skipped) if isinstance(skipped, list) else (),
        sandbox=description, duration_s=result.duration_s,
        harness_error=harness_error if isinstance(harness_error, str) else None,
        kernel_restarts=restarts, problem=problem, remarks=tuple(remarks), integrity=integrity,
        cpu_s=_number(report.get("cpu_s")), shims=_shims_used(outbox),
    )


def _shims_used(outbox: Path) -> tuple[str, ...]:
    """The lines of shims.log (written in the kernel: plain notes for the report, nothing more)."""
    path = outbox / "shims.log"
    try:
        if path.is_symlink() or path.stat().st_size > MAX_SHIMS_LOG_BYTES:
            return ()
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(dict.fromkeys(line.strip()[:300] for line in lines if line.strip()))[:MAX_SHIM_NOTES]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
