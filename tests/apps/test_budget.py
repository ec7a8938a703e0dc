"""An app's run stays within the rubric's time: one that never opens a port is given up after
`startup_timeout_s`, one that answers slowly is cut at `timeout_s` with what it answered so far."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app_support import app_rubric, grade_folder
from grader.apps.stage import SANDBOX_GRACE_S
from grader.models.setup import ModelsSetup
from grader.sandbox import Sandbox
from grader.i18n import text_of

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(120)]

SLOW = '''
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
time.sleep({delay})

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(1.0)
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{{"digit": 1}}')

HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
'''


def _grade(tmp_path: Path, box: Sandbox, setup: ModelsSetup, delay: float, startup_s: float, timeout_s: float):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "server.py").write_text(SLOW.format(delay=delay), encoding="utf-8")
    rubric = app_rubric(digits=100)
    checks = [c.model_copy(update={"params": {**c.params, "startup_timeout_s": startup_s, "timeout_s": timeout_s,
                                              "format_digits": 2}})
              for c in rubric.checks if c.kind == "app.api"]
    started = time.monotonic()
    result = grade_folder(folder, tmp_path / "out", rubric.model_copy(update={"checks": checks}), box, setup)
    return result, time.monotonic() - started


def test_an_app_that_never_listens_is_given_up(tmp_path: Path, bwrap_box: Sandbox, demo_setup: ModelsSetup) -> None:
    result, took = _grade(tmp_path, bwrap_box, demo_setup, delay=600, startup_s=5, timeout_s=30)
    assert took < 5 + SANDBOX_GRACE_S
    outcome = result.outcomes["app_api"]
    assert outcome.key == "start_failed" and "did not open a port within 5 s" in text_of(outcome.message, "en")


def test_a_slow_app_is_cut_at_the_time_limit(tmp_path: Path, bwrap_box: Sandbox, demo_setup: ModelsSetup) -> None:
    result, took = _grade(tmp_path, bwrap_box, demo_setup, delay=0, startup_s=10, timeout_s=12)
    assert took < 12 + SANDBOX_GRACE_S
    run = json.loads(result.report.read_text(encoding="utf-8"))["apps"]["api"]["run"]
    assert run["status"] == "deadline" and 0 < run["asked"] < 100
    outcome = result.outcomes["app_api"]
    assert f"Only {run['asked']} of 100 digits" in text_of(outcome.message, "en")
    assert outcome.metrics["latency_p50_ms"] >= 1000
