"""An app's run stays within the rubric's budgets, counted in CPU seconds of the app's processes:
one that never opens a port is given up when it has used `startup_timeout_s` of CPU, or as soon
as it has waited that long without using any; one that spends its CPU answering is cut at
`timeout_s` of CPU with what it answered so far; one that only answers slowly (waiting, not
computing) gets every question asked: how busy the machine is changes nothing."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app_support import app_rubric, grade_folder
from grader.families.apps.stage import SANDBOX_GRACE_S
from grader.i18n import text_of
from grader.families.models.setup import ModelsSetup
from grader.sandbox import Sandbox
from grader.i18n import text_of

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(120)]

SLOW = '''
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
start = time.process_time()
while time.process_time() - start < {startup_cpu}:
    pass
time.sleep({delay})

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        start = time.process_time()
        while time.process_time() - start < {answer_cpu}:
            pass
        time.sleep({answer_wait})
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{{"digit": 1}}')

HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
'''


def _grade(tmp_path: Path, box: Sandbox, setup: ModelsSetup, startup_s: float, timeout_s: float, *,
           delay: float = 0, startup_cpu: float = 0, answer_cpu: float = 0, answer_wait: float = 0, digits: int = 100):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "server.py").write_text(SLOW.format(delay=delay, startup_cpu=startup_cpu, answer_cpu=answer_cpu,
                                                  answer_wait=answer_wait), encoding="utf-8")
    rubric = app_rubric(digits=digits)
    checks = [c.model_copy(update={"params": {**c.params, "startup_timeout_s": startup_s, "timeout_s": timeout_s,
                                              "format_digits": 2}})
              for c in rubric.checks if c.kind == "app.api"]
    started = time.monotonic()
    result = grade_folder(folder, tmp_path / "out", rubric.model_copy(update={"checks": checks}), box, setup)
    return result, time.monotonic() - started


def test_an_app_that_waits_and_never_listens_is_given_up(tmp_path: Path, bwrap_box: Sandbox,
                                                         demo_setup: ModelsSetup) -> None:
    result, took = _grade(tmp_path, bwrap_box, demo_setup, startup_s=5, timeout_s=30, delay=600)
    assert took < 5 + SANDBOX_GRACE_S + 10
    outcome = result.outcomes["app_api"]
    assert outcome.key == "start_failed" and "used no CPU for 5 s and did not open a port" in text_of(outcome.message, "en")


def test_an_app_that_computes_and_never_listens_is_given_up_by_its_cpu(tmp_path: Path, bwrap_box: Sandbox,
                                                                      demo_setup: ModelsSetup) -> None:
    result, _ = _grade(tmp_path, bwrap_box, demo_setup, startup_s=3, timeout_s=30, startup_cpu=600)
    outcome = result.outcomes["app_api"]
    assert outcome.key == "start_failed" and "used the 3 s of CPU time it has to start" in text_of(outcome.message, "en")


def test_an_app_that_computes_its_answers_is_cut_at_its_cpu_budget(tmp_path: Path, bwrap_box: Sandbox,
                                                                    demo_setup: ModelsSetup) -> None:
    result, _ = _grade(tmp_path, bwrap_box, demo_setup, startup_s=10, timeout_s=12, answer_cpu=0.5)
    run = json.loads(result.report.read_text(encoding="utf-8"))["apps"]["api"]["run"]
    assert (run["status"], run["stopped"]) == ("deadline", "cpu") and 0 < run["asked"] < 100
    assert run["cpu_s"] >= 12
    assert f"used the 12 s of CPU time it has for answers after {run['asked']} of 100 digits" in \
        text_of(result.outcomes["app_api"].message, "en")


def test_an_app_that_answers_slowly_but_does_not_compute_gets_every_question(tmp_path: Path, bwrap_box: Sandbox,
                                                                             demo_setup: ModelsSetup) -> None:
    result, _ = _grade(tmp_path, bwrap_box, demo_setup, startup_s=10, timeout_s=3, answer_wait=0.3, digits=20)
    run = json.loads(result.report.read_text(encoding="utf-8"))["apps"]["api"]["run"]
    assert run["status"] == "ok" and run["asked"] == 20
    assert result.outcomes["app_api"].metrics["latency_p50_ms"] >= 300
