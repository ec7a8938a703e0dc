"""Grader side of execution: prepare a private scratch folder, run the harness in the sandbox,
read back only plain data (JSON and PNG files; nothing is ever unpickled).
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.sandbox import Limits, Mount, Sandbox, SandboxSpec
from grader.sandbox.limits import make_scratch, remove_scratch

logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024 * 1024
HARNESS_GRACE_S = 45.0  # kernel start, probes and writing results, beyond the students' time
RunStatus = Literal["ok", "timeout", "memory", "crashed", "unreadable"]


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

    @property
    def executed_notebook(self) -> Path | None:
        path = self.outbox / "executed.ipynb"
        return path if path.is_file() else None


def _read_json(path: Path) -> Any:
    if not path.is_file() or path.stat().st_size > MAX_JSON_BYTES:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        logger.warning("unreadable JSON from the sandbox: %s", path)
        return None


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


def run_submission(req: RunRequest, sandbox: Sandbox, outbox: Path) -> RunOutcome:
    """Run one submission in `sandbox`; artifacts land in `outbox` (created fresh)."""
    if outbox.exists():
        shutil.rmtree(outbox)
    outbox.mkdir(parents=True)
    scratch = make_scratch(Path(tempfile.gettempdir()), req.limits.scratch_bytes)
    try:
        entry = _copy_submission(req, scratch)
        harness_spec = {
            "entry": str(entry), "outbox": str(outbox.resolve()),
            "cell_timeout_s": req.cell_timeout_s, "deadline_s": req.timeout_s,
            "probes": list(req.probes), "trace": req.trace, "seed": req.seed,
            "output_bytes": req.limits.output_bytes, "parameters": req.parameters,
            "models": {**req.models, "outbox": str(outbox.resolve())} if req.models else {},
        }
        spec_path = outbox / "spec.json"
        spec_path.write_text(json.dumps(harness_spec), encoding="utf-8")
        limits = req.limits
        wall = req.timeout_s + HARNESS_GRACE_S + float(req.models.get("timeout_s", 0) if req.models else 0)
        if limits.wall_time_s != wall:
            limits = Limits(**{**limits.__dict__, "wall_time_s": wall})
        spec = SandboxSpec(
            argv=(sys.executable, "-m", "grader.run.harness", str(spec_path.resolve())),
            scratch=scratch, outbox=outbox.resolve(), mounts=req.mounts, limits=limits,
            env={**req.env, "GRADER_SEED": str(req.seed), "PYTHONHASHSEED": str(req.seed)},
            device=req.device,
        )
        result = sandbox.run(spec)
    finally:
        remove_scratch(scratch)
    return _outcome(result, outbox, sandbox.description)


def _outcome(result: Any, outbox: Path, description: str) -> RunOutcome:
    report = _read_json(outbox / "run.json") or {}
    probe = _read_json(outbox / "probe.json") or {}
    figures = _read_json(outbox / "figures.json") or []
    cells = tuple(
        CellRecord(number=int(c.get("number", 0)), status=str(c.get("status", "")),
                   ename=str(c.get("ename", "")), evalue=str(c.get("evalue", "")),
                   traceback=str(c.get("traceback", "")), duration_s=float(c.get("duration_s") or 0))
        for c in report.get("cells", []) if isinstance(c, dict)
    )
    status: RunStatus = "ok"
    message = ""
    harness_error = report.get("error")
    if result.memory_exceeded:
        status, message = "memory", result.killed_reason or "memory limit exceeded"
    elif result.timed_out:
        status, message = "timeout", result.killed_reason or "time limit exceeded"
    elif isinstance(harness_error, str) and harness_error.startswith("unreadable"):
        status, message = "unreadable", harness_error
    elif not report:
        status = "crashed"
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
        message = "the run ended without a result" + (": " + " | ".join(tail) if tail else "")
    return RunOutcome(
        status=status, message=message, cells=cells, probe=probe if isinstance(probe, dict) else {},
        figures=tuple(f for f in figures if isinstance(f, dict)) if isinstance(figures, list) else (),
        outbox=outbox, skipped_lines=tuple(str(s) for s in report.get("skipped_lines", [])),
        sandbox=description, duration_s=result.duration_s,
        harness_error=harness_error if isinstance(harness_error, str) else None,
        kernel_restarts=int(report.get("restarts", 0) or 0),
    )
