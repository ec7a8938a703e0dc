"""The execution harness: runs INSIDE the sandbox, never in the grader's own process.

    python -m grader_inside.boot SPEC.json   (starts the kernel, then calls main() here)

Executes the student's notebook (or script split into cells) with nbclient on a fresh kernel,
with grader cells around the student's cells (set-up before, probes after), a per-cell timeout
and a whole-notebook deadline. The harness's own records go into the outbox:
    run.json          what happened per cell (errors, timeouts, skipped Colab lines), the
                      tripwires' reports and whether the probes' seals held (`integrity`)
    executed.ipynb    the student's cells with their outputs (capped)
    probe.json        what the probes found, as the probe cell returned it to the harness
    figures.json      the captured plots' data (their PNGs are files the kernel wrote)
The kernel shares the harness's user, so everything else in the outbox (figure PNGs, the after-run
probe's files, the shims' log) is the kernel's and only as good as its seal. The records are
written last: as the sandbox's init the harness first ends every other process of the run, then
replaces whatever was put at their names.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync

from grader_inside.cpuclock import CellWatch, kernel_signals
from grader_inside.notebook import neutralise_colab, read_cells
from grader_inside.prepare import prepare_process
from grader_inside.records import WireReader, end_other_processes, integrity, write_record

logger = logging.getLogger("grader.harness")
STARTED = time.monotonic()  # replaced by grader_inside.boot's own start: the timeline counts from there

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROBE_MIME = "application/vnd.grader.probe+json"  # the probe cell's data, as it leaves the kernel
PROBE_OUTPUT_BYTES = 64 * 1024 * 1024  # the probe cell has a budget of its own
PROBE_RESERVE_S = 20.0
PING_TIMEOUT_S = 2  # how long an interrupted kernel may take to answer before it is restarted
# Limits count the CPU the student's processes use (grader_inside.cpuclock): the same work gets
# the same verdict on a busy machine. The wall clock is only a backstop against code that blocks:
# a cell may take WALL_FACTOR times its CPU budget (plus WALL_EXTRA_S) of real time.
WALL_FACTOR = 4.0
WALL_EXTRA_S = 30.0


@dataclass
class HarnessSpec:
    entry: str
    outbox: str
    cell_timeout_s: float = 60.0  # CPU seconds a student cell may use
    deadline_s: float = 300.0  # CPU seconds the student's cells may use in all
    idle_s: float = 30.0  # wall seconds a cell may wait without using the CPU (sleep, input())
    probes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {module} or {source, file}
    trace: bool = False
    seed: int = 0
    output_bytes: int = 1_000_000
    parameters: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] | None = None  # the after-run probe: {module, config, timeout_s, folder} (None: none)
    wire: str = ""  # the tripwires' FIFO (made by grader_inside.boot before the kernel started)


class CappedClient(NotebookClient):
    """An nbclient client that stops keeping outputs past a byte budget per notebook."""

    output_budget: int = 1_000_000
    _used: int = 0
    _truncated: bool = False
    timed_out: bool = False
    probe_index: int = -1  # the probe cell: its data are counted against PROBE_OUTPUT_BYTES only
    _probe_used: int = 0

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str)) if msg.get("msg_type") != "status" else 0
        if cell_index == self.probe_index:
            self._probe_used += size
            return super().output(outs, msg, display_id, cell_index) if self._probe_used <= PROBE_OUTPUT_BYTES else None
        if self._used + size > self.output_budget:
            if not self._truncated:
                self._truncated = True
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr", text="\n[grader: output truncated]\n"))
            return None
        self._used += size
        return super().output(outs, msg, display_id, cell_index)


def _setup_source(spec: HarnessSpec) -> str:
    return (
        "import grader_offline as _grader_offline\n"
        f"_grader_offline.install({spec.outbox!r})\n"
        "from grader_inside.probes import kernel as _grader_kernel\n"
        f"_grader_kernel.install({spec.outbox!r}, {spec.probes!r}, {spec.trace!r}, {spec.seed!r}, {spec.wire!r})\n"
    )


# The grader's later cells reach the probes through sys.modules, not through a name in the
# student's namespace, which `%reset -f` clears and the student's code could rebind.
_KERNEL = '__import__("sys").modules["grader_inside.probes.kernel"]'


def _marker_source(number: int) -> str:
    return f"{_KERNEL}.next_cell({number})"


def _after_source(after: dict[str, Any]) -> str:
    return f"{_KERNEL}.run_after(globals(), {after['module']!r}, {after['config']!r})\n"


def _tagged_parameters_cell(entry: Path) -> int | None:
    """The number of the code cell tagged `parameters` (papermill's convention), if any."""
    if entry.suffix.lower() != ".ipynb":
        return None
    try:
        raw = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    number = 0
    for cell in raw.get("cells", []) if isinstance(raw, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        tags = (cell.get("metadata") or {}).get("tags") or []
        if isinstance(tags, list) and "parameters" in tags:
            return number
    return None


def _parameters_source(params: dict[str, Any]) -> str:
    return "".join(f"{k} = {v!r}\n" for k, v in params.items())


PROBE_SOURCE = f"{_KERNEL}.finish(globals())\n"


def _parameters_cell(params: dict[str, Any]) -> Any:
    cell = nbformat.v4.new_code_cell(_parameters_source(params))
    cell.id = "grader-parameters"
    return cell


def _probe_payload(cell: Any) -> dict[str, Any] | None:
    """The data the probe cell returned to the harness (its display output), if any."""
    for out in cell.get("outputs", []):
        data = out.get("data") if out.get("output_type") == "display_data" else None
        if isinstance(data, dict) and isinstance(data.get(PROBE_MIME), dict):
            return data[PROBE_MIME]
    return None


def _error_record(number: int, output: dict[str, Any]) -> dict[str, Any]:
    tb = "\n".join(ANSI.sub("", line) for line in output.get("traceback", []))
    return {"number": number, "status": "error", "ename": str(output.get("ename", "")),
            "evalue": ANSI.sub("", str(output.get("evalue", "")))[:2000], "traceback": tb[-6000:]}


def run(spec: HarnessSpec, km: Any = None) -> dict[str, Any]:
    """Execute the notebook; `km`: a kernel already started by grader_inside.boot (else one is
    started here). Either way the kernel is shut down at the end."""
    outbox = Path(spec.outbox)
    report: dict[str, Any] = {"cells": [], "skipped_lines": [], "error": None, "restarts": 0}
    _mark(report, "harness_ready")
    try:
        cells = read_cells(Path(spec.entry))
    except (ValueError, UnicodeDecodeError) as exc:
        report["error"] = f"unreadable: {exc}"
        return report
    code_cells = [c for c in cells if c.kind == "code"]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    setup = nbformat.v4.new_code_cell(_setup_source(spec))
    setup.id = "grader-setup"
    nb.cells.append(setup)
    # papermill's rule: the rubric's parameters go right after the student's `parameters` cell
    # (so they override its defaults), or first when there is none
    tagged = _tagged_parameters_cell(Path(spec.entry)) if spec.parameters else None
    if spec.parameters and tagged is None:
        nb.cells.append(_parameters_cell(spec.parameters))
    numbers: dict[int, int] = {}
    for cell in code_cells:
        source, skipped = neutralise_colab(cell.source)
        report["skipped_lines"].extend(skipped)
        marker = nbformat.v4.new_code_cell(_marker_source(cell.number))
        marker.id = f"grader-marker-{cell.number}"
        nb.cells.append(marker)
        nbcell = nbformat.v4.new_code_cell(source)
        nbcell.id = f"student-{cell.number}"
        numbers[len(nb.cells)] = cell.number
        nb.cells.append(nbcell)
        if tagged == cell.number:
            nb.cells.append(_parameters_cell(spec.parameters))
    if spec.after:
        after = nbformat.v4.new_code_cell(_after_source(spec.after))
        after.id = "grader-after"
        nb.cells.append(after)
    probe = nbformat.v4.new_code_cell(PROBE_SOURCE)
    probe.id = "grader-probe"
    nb.cells.append(probe)

    client = CappedClient(nb, km=km, kernel_name="python3", timeout=int(spec.cell_timeout_s),
                          allow_errors=True, interrupt_on_timeout=True, startup_timeout=60,
                          error_on_timeout={"ename": "GraderTimeout", "evalue": "", "traceback": []},
                          resources={"metadata": {"path": str(Path(spec.entry).parent)}})
    client.output_budget = spec.output_bytes
    client.probe_index = len(nb.cells) - 1
    wire = WireReader(spec.wire)
    try:
        _execute_all(client, nb, numbers, spec, report, wire)
    finally:
        end_other_processes(client)
    wire.drain()
    payload = _probe_payload(probe)
    report["output_truncated"] = client._truncated
    report["integrity"] = integrity(wire, payload, outbox)
    student_nb = nbformat.v4.new_notebook()
    student_nb.cells = [c for c in nb.cells if str(c.get("id", "")).startswith("student-")]
    write_record(outbox, "executed.ipynb", nbformat.writes(student_nb))
    if payload is not None:
        write_record(outbox, "probe.json", json.dumps(payload.get("probe") or {}))
        write_record(outbox, "figures.json", json.dumps(payload.get("figures") or []))
    return report


def _execute_all(client: CappedClient, nb: Any, numbers: dict[int, int], spec: HarnessSpec,
                 report: dict[str, Any], wire: WireReader) -> None:
    """Run every cell; on a kernel death restart once and replay the cells that ran before.

    Each cell runs under a CPU budget (the student's cells: `cell_timeout_s`, and what is left of
    `deadline_s`; the grader's cells: their own), watched from a thread; nbclient's timeout is only
    the wall-clock backstop."""
    queue = list(range(len(nb.cells)))
    total = max(numbers.values(), default=0)
    recorded: set[int] = set()
    died: set[int] = set()
    with client.setup_kernel():
        _mark(report, "kernel_ready")
        watch = CellWatch(*kernel_signals(client.km))
        spent = 0.0  # CPU seconds of the student's cells so far
        pos = 0
        while pos < len(queue):
            i = queue[pos]
            pos += 1
            cell = nb.cells[i]
            number = numbers.get(i)
            left = spec.deadline_s - spent
            if number is not None and left <= 0.5:
                if number not in recorded:
                    recorded.add(number)
                    report["cells"].append({"number": number, "status": "skipped_deadline"})
                continue
            budget, idle = _cell_limits(cell, number, left, spec)
            if number is not None:
                _progress(number, total)
            client.timeout = int(budget * WALL_FACTOR + WALL_EXTRA_S)
            start = time.monotonic()
            client.timed_out = False
            watch.start(budget, idle)
            try:
                client.execute_cell(cell, i)
                if client.timed_out and number is not None and not _answers(client, i):
                    raise DeadKernelError("the kernel ignores interrupts")  # restarted like a death
            except DeadKernelError:
                used = watch.stop()
                if number is None:
                    report["error"] = "kernel died in the grader's probe cell"
                    return
                spent += used
                died.add(number)
                recorded.add(number)
                stopped = _stop_record(watch.reason, client.timed_out, used, budget, idle, start)
                report["cells"].append({"number": number, "status": "timeout" if stopped else "died",
                                        "cpu_s": round(used, 2), "duration_s": time.monotonic() - start,
                                        **stopped})
                if report["restarts"] >= 1:
                    report["error"] = f"kernel died in cell {number}"
                    return
                report["restarts"] += 1
                # nbclient's manager and client are async: their methods must be run, not called
                run_sync(client.km.restart_kernel)(now=True)
                run_sync(client.kc.wait_for_ready)(timeout=60)
                before = [j for j in queue[: pos - 1] if numbers.get(j) not in died]
                queue = before + queue[pos:]
                pos = 0
                continue
            used = watch.stop()
            wire.drain()
            if number is None:
                cell_id = str(cell.get("id", ""))
                if not cell_id.startswith("grader-marker"):
                    report.setdefault("grader_cells_s", {})[cell_id] = round(time.monotonic() - start, 4)
                    if watch.reason is not None or client.timed_out:
                        report.setdefault("grader_cells_stopped", {})[cell_id] = watch.reason or "wall"
                continue
            spent += used
            if number in recorded:
                continue
            recorded.add(number)
            duration = time.monotonic() - start
            record: dict[str, Any] = {"number": number, "status": "ok", "duration_s": duration,
                                      "cpu_s": round(used, 2)}
            stopped = _stop_record(watch.reason, client.timed_out, used, budget, idle, start)
            if stopped:
                report["cells"].append(record | {"status": "timeout"} | stopped)
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    if out.get("ename") == "GraderTimeout":
                        record |= {"status": "timeout"} | _stop_record(None, True, used, budget, idle, start)
                    else:
                        record = _error_record(number, out) | record | {"status": "error"}
                    break
            report["cells"].append(record)
        report["cpu_s"] = round(spent, 2)
        _mark(report, "cells_done")


def _cell_limits(cell: Any, number: int | None, left: float, spec: HarnessSpec) -> tuple[float, float]:
    """(CPU budget, idle window) of a cell: the student's get the rubric's, the grader's their own."""
    if number is not None:
        return max(1.0, min(spec.cell_timeout_s, left)), spec.idle_s
    if cell.get("id") == "grader-after" and spec.after:
        budget = float(spec.after.get("timeout_s", PROBE_RESERVE_S * 3))
    else:
        budget = PROBE_RESERVE_S * 3
    return budget, budget * WALL_FACTOR  # the grader's cells never wait: only the CPU counts


def _stop_record(reason: str | None, timed_out: bool, used: float, budget: float, idle: float,
                 start: float) -> dict[str, Any]:
    """Which limit stopped a cell, with its figures ({} when none did)."""
    if reason == "cpu":
        return {"limit": "cpu", "limit_s": round(budget, 2)}
    if reason == "idle":
        return {"limit": "idle", "limit_s": round(idle, 2)}
    if timed_out:
        return {"limit": "wall", "limit_s": round(time.monotonic() - start, 2)}
    return {}


def _progress(number: int, total: int) -> None:
    """One line on standard output as a student cell starts: what `grader check` shows while the
    notebook runs (grader/run/progress.py reads it; a display, never evidence)."""
    try:
        os.write(1, b"\x1egrader:cell " + f"{number}/{total}\n".encode())
    except OSError:  # nobody reads it: no progress to show
        pass


def _mark(report: dict[str, Any], event: str) -> None:
    """When `event` happened, in seconds since the run's process started (run.json `timeline_s`)."""
    report.setdefault("timeline_s", {})[event] = round(time.monotonic() - STARTED, 3)


def _answers(client: CappedClient, index: int) -> bool:
    """After a cell timed out and was interrupted: whether the kernel answers again. Code that
    ignores SIGINT keeps it busy, and every later cell would only time out behind it."""
    saved = client.iopub_timeout
    client.timeout, client.timed_out, client.iopub_timeout = PING_TIMEOUT_S, False, 1
    try:
        client.execute_cell(nbformat.v4.new_code_cell("pass"), index)
    finally:
        client.iopub_timeout = saved
    answered = not client.timed_out
    client.timed_out = True
    return answered


def main(argv: list[str] | None = None, km: Any = None, started: float | None = None, wire: str = "") -> int:
    """Run SPEC.json; the process is already prepared (grader_inside.prepare.prepare_process).
    `started`: time.monotonic() when the process started (boot's), for the timeline; `wire`: the
    tripwires' FIFO boot made before the kernel started ("": none)."""
    global STARTED
    if started is not None:
        STARTED = started
    args = sys.argv[1:] if argv is None else argv
    # nbformat checks every output nbclient makes against its schema. Its default validator,
    # fastjsonschema, first generates Python code for the whole schema: 30 ms of CPU in every run,
    # for a few dozen small checks that jsonschema does in 1 ms. (Read at each validation.)
    os.environ["NBFORMAT_VALIDATOR"] = "jsonschema"
    spec = HarnessSpec(**json.loads(Path(args[0]).read_text(encoding="utf-8")))
    spec.wire = wire
    outbox = Path(spec.outbox)
    report: dict[str, Any]
    try:
        report = run(spec, km)
    except Exception as exc:  # recorded for the grader; never a silent failure
        logger.exception("harness failed")
        report = {"cells": [], "error": f"harness: {type(exc).__name__}: {exc}"}
    # nbclient leaves running a kernel it did not start; nothing of the run may outlive the records
    end_other_processes(km)
    _mark(report, "written")
    write_record(outbox, "run.json", json.dumps(report, default=str))
    return 0


if __name__ == "__main__":  # without boot: the kernel starts after the imports
    logging.basicConfig(level=logging.WARNING)
    prepare_process()
    sys.exit(main())
