"""Set-up and wrap-up code the harness runs in the student's kernel, around the student's cells.

`install()` runs in a grader cell before the student's first cell: seeds, figure capture, tracing,
and the tripwires (grader_inside.probes.tripwire). `finish()` runs in a grader cell after the last
one: it returns what the probes found to the harness as the cell's output (plain JSON), sealed on
the wire; figure PNGs are files in the outbox, sealed too.
"""
from __future__ import annotations

import importlib
import logging
import os
import random
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any

from grader_inside.probes import tripwire
from grader_inside.probes.capture import FigureCapture
from grader_inside.probes.strictjson import clean_json
from grader_inside.probes.trace import Tracer

logger = logging.getLogger(__name__)

# A probe (named as the rubric's `probes:` list spells it) is a module of grader_inside or the source
# of a family's probe file, as the grader resolved it (grader.families.probe_specs); either has
# `collect(namespace, session)`.
INSIDE_PREFIX = "grader_inside."
PROBE_MIME = "application/vnd.grader.probe+json"  # as grader_inside.harness reads it



class KernelSession:
    def __init__(self, outbox: Path, probes: dict[str, dict[str, str]], trace: bool, cell_files_dir: str) -> None:
        self.outbox = outbox
        self.probes = probes
        self.capture = FigureCapture(outbox)
        self.cell_files_dir = cell_files_dir
        self.tracer = Tracer(self._is_student_file) if trace else None
        self.cell: int | None = None
        self.pending: int | None = None
        self.cells_run: list[int] = []
        self.started = time.time()  # files newer than this were written by the student's run
        self.wire: tripwire.Wire | None = None

    def _is_student_file(self, filename: str) -> bool:
        return (filename.startswith(self.cell_files_dir) or filename.startswith("<ipython-input")
                or filename.startswith("<lambdifygenerated"))

    # IPython event hooks --------------------------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        # The harness runs `next_cell(n)` in a grader cell right before student cell n.
        self.cell, self.pending = self.pending, None
        if self.cell is None:
            return
        self.cells_run.append(self.cell)
        self.capture.cell = self.cell
        if self.tracer is not None:
            self.tracer.start(self.cell)

    def post_run_cell(self, result: Any) -> None:
        if self.cell is None:
            return
        if self.tracer is not None:
            self.tracer.stop()
        try:
            self.capture.flush()
        except Exception:  # capturing must never break the student's cell
            logger.debug("figure capture failed", exc_info=True)


_SESSION: KernelSession | None = None


def next_cell(number: int) -> None:
    """Announce that the next cell executed is the student's code cell `number`."""
    if _SESSION is not None:
        _SESSION.pending = number


def install(outbox: str, probes: dict[str, dict[str, str]], trace: bool, seed: int = 0, wire: str = "") -> None:
    """Prepare the kernel: seeds, Agg figures captured, tracing of student cells, tripwires."""
    global _SESSION
    warnings.filterwarnings("ignore", message=".*non-interactive.*")
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except Exception:
        pass
    ip = _ipython()
    cell_dir = os.path.dirname(sys._getframe(1).f_code.co_filename) if ip else ""
    session = KernelSession(Path(outbox), probes, trace, cell_dir + os.sep if cell_dir else "\0")
    session.capture.install()
    if ip is not None:
        ip.events.register("pre_run_cell", session.pre_run_cell)
        ip.events.register("post_run_cell", session.post_run_cell)
    _SESSION = session
    # last, once every grader module this kernel needs is imported: from now on the student's code
    # that imports, opens or patches them is reported
    session.wire = tripwire.install(wire, session._is_student_file, lambda: session.cell)


def run_after(namespace: dict[str, Any], module: str, config: dict[str, Any]) -> None:
    """A family's after-run probe (the models family's evaluation: grader_inside.probes.models for
    Task 2, .images for HW 3), in a grader cell after the student's last one: `module.run(namespace,
    config)`. Its folder (`config["folder"]`) is emptied first, so only what the probe itself
    writes there is sealed. The module is imported only in the kernels that run it."""
    import importlib
    import shutil

    if not module.startswith("grader_inside."):
        raise ValueError(f"an after-run probe is a module of grader_inside, not {module!r}")
    folder = Path(config["folder"])
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists() or folder.is_symlink():  # a file or a link planted in its place
        folder.unlink()
    importlib.import_module(module).run(namespace, config)
    if _SESSION is not None and _SESSION.wire is not None:
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            _SESSION.wire.seal_file(path, Path(config["outbox"]))


def _probe(name: str, spec: dict[str, str]) -> Any:
    """The probe's module: imported from grader_inside, or made from the family's probe source."""
    module = spec.get("module", "")
    if module.startswith(INSIDE_PREFIX):
        return importlib.import_module(module)
    if "source" in spec:
        made = types.ModuleType(f"grader_probe_{name}")
        exec(compile(spec["source"], f"<grader probe {spec.get('file', name)}>", "exec"), made.__dict__)
        return made
    raise ValueError(f"unknown probe {name!r}")


def finish(namespace: dict[str, Any]) -> None:
    """Run the rubric's probes on what the student's code left behind; hand the data back to the
    harness as this cell's output, sealed on the wire."""
    session = _SESSION
    if session is None:
        return
    if session.tracer is not None:
        session.tracer.stop()
    session.capture.flush()
    out: dict[str, Any] = {"cells_run": session.cells_run}
    for name, spec in session.probes.items():
        try:
            probe = _probe(name, spec)
        except (ValueError, SyntaxError) as exc:
            out[f"{name}_error"] = str(exc)
            continue
        try:
            out[name] = probe.collect(namespace, session)
        except Exception as exc:  # a probe failure is reported, never fatal
            logger.exception("%s probe failed", name)
            out[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
    payload = clean_json({"probe": out, "figures": session.capture.figures})
    if session.wire is not None:
        for figure in session.capture.figures:
            if figure.get("png"):
                session.wire.seal_file(session.outbox / figure["png"], session.outbox)
        session.wire.seal_payload("probe", payload)
    from IPython.display import display

    display({PROBE_MIME: payload}, raw=True)


def _ipython() -> Any:
    try:
        return get_ipython()  # type: ignore[name-defined]  # noqa: F821
    except NameError:
        try:
            from IPython import get_ipython

            return get_ipython()
        except Exception:
            return None
