"""The harness's side of the run's integrity: the wire, the end of every other process, the records.

The kernel runs as the harness's own user, so the outbox folder is writable by the student's code
for the whole run. The harness therefore writes its records (run.json, executed.ipynb, probe.json,
figures.json) only after it, the sandbox's init, has killed every other process of the run, and
replaces whatever was put at those names. What the kernel wrote (figure PNGs, the models probe's
files) stays the kernel's: the grader trusts it as far as the seals the probes sent on the wire
match it.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from grader_inside.probes.tripwire import MAX_EVENTS, digest, payload_digest

logger = logging.getLogger("grader.harness")

MAX_WIRE_BYTES = 256 * 1024
MAX_SEALED_FILE_BYTES = 256 * 1024 * 1024


class WireReader:
    """The harness's end of the FIFO the kernel's tripwires and probes write to."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.data = bytearray()
        self.overflow = False
        if path:
            try:
                self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                logger.warning("no wire: %s", exc)

    def drain(self) -> None:
        """Read what is there (the kernel never blocks on a full pipe: this keeps it empty)."""
        while self.fd is not None:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            room = MAX_WIRE_BYTES - len(self.data)
            self.data += chunk[:max(room, 0)]
            self.overflow = self.overflow or len(chunk) > room

    def records(self) -> list[dict[str, Any]]:
        found = []
        for line in bytes(self.data).splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found


def end_other_processes(client: Any = None) -> None:
    """Kill the kernel and, as the sandbox's init, every other process in it; reap them all.

    Outside a PID namespace of our own (the plain backend) only the kernel can be named; the
    plain backend isolates nothing and is for trusted code only."""
    km = getattr(client, "km", client)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        try:  # the kernel leads a process group of its own (jupyter_client starts it so)
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
        except OSError:
            process.kill()
        process.wait(timeout=5)
    if os.getpid() != 1:
        return
    for _ in range(500):
        try:
            os.kill(-1, signal.SIGKILL)  # from the namespace's init: everyone but us
        except ProcessLookupError:
            pass
        _reap()
        if not _others_alive():
            return
        time.sleep(0.01)
    logger.warning("processes survived the end of the run")


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _others_alive() -> bool:
    me = os.getpid()
    return any(entry.isdigit() and int(entry) != me for entry in os.listdir("/proc"))


def write_record(outbox: Path, name: str, text: str) -> None:
    """Write one of the harness's records, first removing whatever the run left at that name
    (a file, a folder, a link or a FIFO planted by the student's code)."""
    path = outbox / name
    if path.is_symlink() or path.is_file() or path.exists() and not path.is_dir():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.write_text(text, encoding="utf-8")


def integrity(wire: WireReader, payload: dict[str, Any] | None, outbox: Path) -> dict[str, Any]:
    """What the tripwires reported, and whether the probes' data and files carry their seals."""
    records = wire.records()
    events = [r for r in records if r.get("kind") == "event"][:MAX_EVENTS]
    seals = [r for r in records if r.get("kind") == "seal"]
    probe_seals = {str(r.get("sha256")) for r in seals if r.get("what") == "probe"}
    report: dict[str, Any] = {"wire": wire.fd is not None, "events": events, "overflow": wire.overflow}
    if payload is not None:  # data that no real probe sealed were put in its place
        report["probe"] = "sealed" if payload_digest(payload) in probe_seals else "unsealed"
    else:  # sealed data that never reached the harness were held back; none at all: no probe ran
        report["probe"] = "missing" if probe_seals else "none"
    report["files"] = _check_files(seals, outbox)
    return report


def _check_files(seals: list[dict[str, Any]], outbox: Path) -> dict[str, str]:
    """path -> "sealed" | "changed" | "missing" for every file a probe sealed."""
    latest = {str(s.get("path", "")): str(s.get("sha256")) for s in seals if s.get("what") == "file"}
    found: dict[str, str] = {}
    root = outbox.resolve()
    for rel, sha in latest.items():
        path = outbox / rel
        if not path.resolve().is_relative_to(root):
            continue
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SEALED_FILE_BYTES:
                found[rel] = "missing"
                continue
            found[rel] = "sealed" if digest(path.read_bytes()) == sha else "changed"
        except OSError:
            found[rel] = "missing"
    return found
