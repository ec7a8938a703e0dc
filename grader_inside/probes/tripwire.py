"""Tripwires in the student's kernel, and the wire that takes what they see to the harness.

The probes run in the student's own process, so nothing they produce is proof by itself. What the
grader can do is make tampering with them visible:

- The **wire** is a FIFO the harness made before the kernel started. The kernel opens its write
  end during set-up, before the student's first cell; the student's code is refused any later
  open of it (by path or through /proc/*/fd), so it cannot speak on it.
- An **audit hook** (PEP 578; hooks cannot be removed once added) watches a few events. When the
  code behind one is the student's — the nearest frame that is either a notebook cell or the
  grader's own code is a cell — it writes a line to the wire at once, before the student's code
  can do anything else: importing the grader's in-kernel modules, opening their files, swapping
  the code of their functions, adding an audit hook of one's own. Low-level access that ordinary
  code also uses (ctypes, gc's object lists) is reported as merely "suspicious".
- **Seals**: the probes send the sha256 of what they hand back (the probe cell's data, the files
  they write). After the run the harness compares: data or files that no real probe produced,
  or a probe that never reported, are tampering.

A determined attacker with the grader's source could still find ways around in-process tripwires;
that is why the checks also cross-check the probes' data against the notebook's source and why
hidden data are secret and perturbed (see SECURITY.md). The tripwires make the easy ways visible.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_EVENTS = 40  # distinct events sent; the wire is a pipe, never allowed to fill
_INSIDE = str(Path(__file__).resolve().parents[1])  # .../grader_inside
_SHIMS = os.path.join(_INSIDE, "shims")
_CTYPES = os.path.dirname(os.path.abspath(__import__("ctypes").__file__))
_OUR_MODULES = ("grader_inside", "grader_offline")
_WATCHED = frozenset({"import", "open", "object.__setattr__", "sys.addaudithook", "ctypes.dlopen",
                      "ctypes.dlsym", "ctypes.addressof", "gc.get_objects", "gc.get_referrers"})
_SUSPICIOUS = frozenset({"ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof", "gc.get_objects",
                         "gc.get_referrers"})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload: Any) -> str:
    """The digest of a probe's data as the harness recomputes it from what it received."""
    return digest(json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode())


class Wire:
    """The kernel's end of the harness's FIFO: one JSON line per record, never blocking."""

    def __init__(self, path: str) -> None:
        self.folder = os.path.dirname(os.path.abspath(path))
        self.fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        info = os.fstat(self.fd)
        self.identity = (info.st_dev, info.st_ino)
        self.sent: set[str] = set()
        self.lock = threading.Lock()

    def owns(self, path: Any) -> bool:
        """Whether opening `path` would reach this wire (its own path or a /proc fd link)."""
        try:
            info = os.stat(path)
        except (OSError, TypeError, ValueError):
            return False
        return (info.st_dev, info.st_ino) == self.identity

    def send(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str)
        with self.lock:
            if line in self.sent or len(self.sent) >= MAX_EVENTS and record.get("kind") == "event":
                return
            self.sent.add(line)
            try:
                os.write(self.fd, line.encode()[:1000] + b"\n")  # under PIPE_BUF: one atomic write
            except OSError:
                pass  # the harness reads after the run; a full or closed pipe is its evidence

    def seal_payload(self, kind: str, payload: Any) -> None:
        self.send({"kind": "seal", "what": kind, "sha256": payload_digest(payload)})

    def seal_file(self, path: Path, root: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            return
        self.send({"kind": "seal", "what": "file", "path": str(path.relative_to(root)), "sha256": digest(data)})


class Tripwire:
    """The audit hook: classifies each watched event by the code that caused it."""

    def __init__(self, wire: Wire, is_student_file: Callable[[str], bool], cell: Callable[[], int | None]) -> None:
        self.wire = wire
        self.is_student_file = is_student_file
        self.cell = cell
        self.busy = threading.local()

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _WATCHED or getattr(self.busy, "on", False):
            return
        self.busy.on = True
        try:
            self._check(event, args)
        finally:
            self.busy.on = False

    def _check(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path = args[0] if args else None
            if not isinstance(path, (str, bytes, os.PathLike)):
                return
            text = os.fsdecode(path)
            touches_wire = (text.startswith(("/proc/", "/dev/fd/", self.wire.folder))
                            or not text.startswith("/"))
            # the offline stand-ins (google.colab, kaggle ...) are there to be imported by notebooks
            ours = text.startswith(_INSIDE) and not text.startswith(_SHIMS)
            if not ours and not (touches_wire and self.wire.owns(path)):
                return
            if not self._by_student():
                return
            if not ours:
                self._report("wire", text)
                raise PermissionError(13, "the grader's channel is not for notebook code", text)
            self._report("read_grader_files", text)
            return
        if event == "import":
            name = str(args[0]) if args else ""
            if name.split(".")[0] not in _OUR_MODULES or not self._by_student():
                return
            self._report("import_grader", name)
            return
        if event == "object.__setattr__":
            target = args[0] if args else None
            module = str(getattr(target, "__module__", "") or "")
            if module.split(".")[0] not in _OUR_MODULES or not self._by_student():
                return
            self._report("patch_grader", f"{getattr(target, '__qualname__', type(target).__name__)}.{args[1]}")
            return
        if event in _SUSPICIOUS:
            # libraries use ctypes and gc for themselves (torch loads its libraries with ctypes):
            # only a call written in the student's own cell counts
            frame = sys._getframe(2)
            while frame is not None and frame.f_code.co_filename.startswith(_CTYPES):
                frame = frame.f_back  # ctypes.CDLL(...) calls dlopen from ctypes' own code
            if frame is not None and self.is_student_file(frame.f_code.co_filename):
                self._report(event, "", suspicious=True)
        elif self._by_student():
            self._report(event, "")

    def _by_student(self) -> bool:
        """Whether the nearest frame that is either a notebook cell or the grader's own code (the
        stand-ins included: google.colab importing its helpers is ours) is a cell: the student's
        code, directly or through a library (pathlib, importlib...)."""
        frame = sys._getframe(3)
        for _ in range(200):
            if frame is None:
                return False
            name = frame.f_code.co_filename
            if name.startswith(_INSIDE):
                return False
            if self.is_student_file(name):
                return True
            frame = frame.f_back
        return False

    def _report(self, what: str, detail: str, suspicious: bool = False) -> None:
        self.wire.send({"kind": "event", "what": what, "detail": detail[:300], "cell": self.cell(),
                        "suspicious": suspicious})


def install(wire_path: str, is_student_file: Callable[[str], bool], cell: Callable[[], int | None]) -> Wire | None:
    """Open the wire and add the audit hook (once per kernel). None when there is no wire
    (a kernel run outside the harness, as in some tests)."""
    if not wire_path:
        return None
    wire = Wire(wire_path)
    sys.addaudithook(Tripwire(wire, is_student_file, cell))
    return wire

