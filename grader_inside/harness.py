"""The execution harness: runs INSIDE the sandbox, never in the grader's own process.

    python -m grader_inside.boot SPEC.json   (starts the kernel, then calls main() here)

Executes the student's notebook (or script split into cells) with nbclient on a fresh kernel,
with grader cells around the student's cells (set-up before, probes after), a per-cell timeout
and a whole-notebook deadline, and writes plain data into the outbox:
    run.json          what happened per cell (errors, timeouts, skipped Colab lines)
    executed.ipynb    the student's cells with their outputs (capped)
    probe.json        what the probes found; figures.json + figN.png: captured plots
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

from grader_inside.notebook import neutralise_colab, read_cells

logger = logging.getLogger("grader.harness")
STARTED = time.monotonic()  # replaced by grader_inside.boot's own start: the timeline counts from there

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROBE_RESERVE_S = 20.0
PING_TIMEOUT_S = 2  # how long an interrupted kernel may take to answer before it is restarted


@dataclass
class HarnessSpec:
    entry: str
    outbox: str
    cell_timeout_s: float = 60.0
    deadline_s: float = 300.0
    probes: list[str] = field(default_factory=list)
    trace: bool = False
    seed: int = 0
    output_bytes: int = 1_000_000
    parameters: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)  # Task 2 models probe config ({}: not run)


class CappedClient(NotebookClient):
    """An nbclient client that stops keeping outputs past a byte budget per notebook."""

    output_budget: int = 1_000_000
    _used: int = 0
    _truncated: bool = False
    timed_out: bool = False

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str)) if msg.get("msg_type") != "status" else 0
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
        "from grader_inside.probes import kernel as _grader_kernel\n"
        f"_grader_kernel.install({spec.outbox!r}, {spec.probes!r}, {spec.trace!r}, {spec.seed!r})\n"
        "import grader_offline as _grader_offline\n"
        f"_grader_offline.install({spec.outbox!r})\n"
    )


def _models_source(config: dict[str, Any]) -> str:
    return f"from grader_inside.probes import models as _grader_models\n_grader_models.run(globals(), {config!r})\n"


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


PROBE_SOURCE = "_grader_kernel.finish(globals())\n"


def _parameters_cell(params: dict[str, Any]) -> Any:
    cell = nbformat.v4.new_code_cell(_parameters_source(params))
    cell.id = "grader-parameters"
    return cell


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
        marker = nbformat.v4.new_code_cell(f"_grader_kernel.next_cell({cell.number})")
        marker.id = f"grader-marker-{cell.number}"
        nb.cells.append(marker)
        nbcell = nbformat.v4.new_code_cell(source)
        nbcell.id = f"student-{cell.number}"
        numbers[len(nb.cells)] = cell.number
        nb.cells.append(nbcell)
        if tagged == cell.number:
            nb.cells.append(_parameters_cell(spec.parameters))
    if spec.models:
        models = nbformat.v4.new_code_cell(_models_source(spec.models))
        models.id = "grader-models"
        nb.cells.append(models)
    probe = nbformat.v4.new_code_cell(PROBE_SOURCE)
    probe.id = "grader-probe"
    nb.cells.append(probe)

    client = CappedClient(nb, km=km, kernel_name="python3", timeout=int(spec.cell_timeout_s),
                          allow_errors=True, interrupt_on_timeout=True, startup_timeout=60,
                          error_on_timeout={"ename": "GraderTimeout", "evalue": "", "traceback": []},
                          resources={"metadata": {"path": str(Path(spec.entry).parent)}})
    client.output_budget = spec.output_bytes
    deadline = time.monotonic() + spec.deadline_s
    _execute_all(client, nb, numbers, deadline, spec, report)
    student_nb = nbformat.v4.new_notebook()
    student_nb.cells = [c for c in nb.cells if str(c.get("id", "")).startswith("student-")]
    nbformat.write(student_nb, str(outbox / "executed.ipynb"))
    report["output_truncated"] = client._truncated
    return report


def _execute_all(client: CappedClient, nb: Any, numbers: dict[int, int], deadline: float,
                 spec: HarnessSpec, report: dict[str, Any]) -> None:
    """Run every cell; on a kernel death restart once and replay the cells that ran before."""
    queue = list(range(len(nb.cells)))
    recorded: set[int] = set()
    died: set[int] = set()
    with client.setup_kernel():
        _mark(report, "kernel_ready")
        pos = 0
        while pos < len(queue):
            i = queue[pos]
            pos += 1
            cell = nb.cells[i]
            number = numbers.get(i)
            remaining = deadline - time.monotonic()
            if number is not None and remaining <= 1:
                if number not in recorded:
                    recorded.add(number)
                    report["cells"].append({"number": number, "status": "skipped_deadline"})
                continue
            limit = min(spec.cell_timeout_s, remaining) if number is not None else PROBE_RESERVE_S * 3
            if cell.get("id") == "grader-models":
                limit = float(spec.models.get("timeout_s", PROBE_RESERVE_S * 3))
            client.timeout = int(max(1, limit))
            start = time.monotonic()
            client.timed_out = False
            try:
                client.execute_cell(cell, i)
                if client.timed_out and number is not None and not _answers(client, i):
                    raise DeadKernelError("the kernel ignores interrupts")  # restarted like a death
            except DeadKernelError:
                if number is None:
                    report["error"] = "kernel died in the grader's probe cell"
                    return
                died.add(number)
                recorded.add(number)
                report["cells"].append({"number": number, "status": "timeout" if client.timed_out else "died",
                                        "duration_s": time.monotonic() - start})
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
            if number is None:
                cell_id = str(cell.get("id", ""))
                if not cell_id.startswith("grader-marker"):
                    report.setdefault("grader_cells_s", {})[cell_id] = round(time.monotonic() - start, 4)
                continue
            if number in recorded:
                continue
            recorded.add(number)
            duration = time.monotonic() - start
            record: dict[str, Any] = {"number": number, "status": "ok", "duration_s": duration}
            if client.timed_out:
                report["cells"].append({"number": number, "status": "timeout", "duration_s": duration})
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    if out.get("ename") == "GraderTimeout":
                        record = {"number": number, "status": "timeout", "duration_s": duration}
                    else:
                        record = _error_record(number, out) | {"duration_s": duration}
                    break
            report["cells"].append(record)
        _mark(report, "cells_done")


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


def main(argv: list[str] | None = None, km: Any = None, started: float | None = None) -> int:
    """Run SPEC.json; the process is already prepared (grader_inside.boot.prepare_process).
    `started`: time.monotonic() when the process started (boot's), for the timeline."""
    global STARTED
    if started is not None:
        STARTED = started
    args = sys.argv[1:] if argv is None else argv
    # nbformat checks every output nbclient makes against its schema. Its default validator,
    # fastjsonschema, first generates Python code for the whole schema: 30 ms of CPU in every run,
    # for a few dozen small checks that jsonschema does in 1 ms. (Read at each validation.)
    os.environ["NBFORMAT_VALIDATOR"] = "jsonschema"
    spec = HarnessSpec(**json.loads(Path(args[0]).read_text(encoding="utf-8")))
    outbox = Path(spec.outbox)
    report: dict[str, Any]
    try:
        report = run(spec, km)
    except Exception as exc:  # recorded for the grader; never a silent failure
        logger.exception("harness failed")
        report = {"cells": [], "error": f"harness: {type(exc).__name__}: {exc}"}
    _mark(report, "written")
    (outbox / "run.json").write_text(json.dumps(report, default=str), encoding="utf-8")
    if km is not None and km.has_kernel:  # nbclient leaves running a kernel it did not start
        _kill_kernel(km)
    return 0


def _kill_kernel(km: Any) -> None:
    """SIGKILL to the kernel's process group, then reap it: everything is written already.
    (km.shutdown_kernel(now=True) polls for the exit every 0.1 s: 0.1 s per notebook.)"""
    import signal

    try:
        run_sync(km.provisioner.send_signal)(signal.SIGKILL)
        km.provisioner.process.wait(timeout=5)
    except Exception:  # no local provisioner (another manager): the manager's own way
        logger.debug("kernel kill by signal failed", exc_info=True)
        run_sync(km.shutdown_kernel)(now=True)


if __name__ == "__main__":  # without boot: the kernel starts after the imports
    from grader_inside.boot import prepare_process

    logging.basicConfig(level=logging.WARNING)
    prepare_process()
    sys.exit(main())
