"""A student's app reaches nothing outside its sandbox, and nothing it starts outlives grading.

The app is a bare http.server (no extra packages): on start it tries the grader machine's own
loopback, where this test listens, forks a detached daemon, and serves on a port of its own choosing
(not the grader's), which the client finds by itself.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app_support import app_rubric, grade_folder
from grader.families.models.setup import ModelsSetup
from grader.sandbox import Sandbox
from grader.i18n import text_of

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(120)]

APP = '''
import os, sys, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
try:
    urllib.request.urlopen("http://127.0.0.1:{port}/", timeout=3)
    print("REACHED the grader's machine", flush=True)
except Exception as exc:
    print("UNREACHABLE", type(exc).__name__, flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
    os._exit(0)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{{"digit": 3}}')

HTTPServer(("127.0.0.1", 8080), Handler).serve_forever()
'''


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _alive_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_app_is_cut_off_and_its_daemon_dies(tmp_path: Path, bwrap_box: Sandbox, demo_setup: ModelsSetup) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    marker = f"grader-app-daemon-{uuid.uuid4().hex}"
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "server.py").write_text(APP.format(port=server.server_address[1], marker=marker), encoding="utf-8")
    rubric = app_rubric(digits=10)
    rubric = rubric.model_copy(update={"checks": [c for c in rubric.checks if c.kind == "app.api"]})
    try:
        result = grade_folder(folder, tmp_path / "out", rubric, bwrap_box, demo_setup)
    finally:
        server.shutdown()
    run = json.loads(result.report.read_text(encoding="utf-8"))["apps"]["api"]["run"]
    assert _Counter.hits == 0
    assert "UNREACHABLE" in run["log_tail"] and "REACHED" not in run["log_tail"]
    time.sleep(0.2)
    assert _alive_with(marker) == []
    outcome = result.outcomes["app_api"]  # answers 3 to everything: measured, not trusted
    assert outcome.key == "low" and outcome.metrics["accuracy"] < 0.5
    assert "did not take the grader's port 18000 and listened on 8080" in text_of(outcome.message, "en")
