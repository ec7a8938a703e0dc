"""The web/API checks on canned apps.json files: scoring against the hidden labels, one plain sentence
for each way an app fails to start, and the figures in metrics."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.families.apps.checks import check_api, check_web
from grader.artifacts import CheckContext
from grader.errors import GraderError
from grader.families.models.setup import ModelsSetup
from grader.results import write_json_atomic
from grader.i18n import text_of

SOURCE = {"rel": "app.py", "kind": "web", "framework": "gradio", "old_gradio": [], "gradio_target": None,
          "models": [{"name": "model.pth", "state": "present"}], "host": None, "port": None}


def _ctx(tmp_path: Path, demo_setup: ModelsSetup | None, kind: str, source: dict[str, Any] | None,
         run: dict[str, Any] | None, lang: str = "en") -> CheckContext:
    write_json_atomic(tmp_path / "apps" / "apps.json", {"gradio": "6.31.0", "data": True,
                                                        "apps": {kind: {"source": source, "run": run}}})
    return CheckContext(lang=lang, cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path, data=demo_setup)


def _answers(demo_setup: ModelsSetup, right: int, n: int = 20) -> dict[str, Any]:
    indices = list(range(0, 2 * n, 2))
    labels = demo_setup.mnist.hidden_labels()[indices]
    predictions = [int(lab) if i < right else int((lab + 1) % 10) for i, lab in enumerate(labels)]
    return {"status": "ok", "indices": indices, "predictions": predictions, "port": 17860, "port_requested": 17860,
            "latencies_ms": [10.0 + i for i in range(n)], "start_s": 3.5, "first_answer_s": 4.0, "form": "mnist@28",
            "endpoint": {"endpoint": "/predict", "input": "Image", "health": {"status": 200}},
            "launch": {"launched_by": "app", "ignored_options": ["enable_queue"], "dropped_options": ["auth"]}}


def test_accuracy_and_latency_are_measured(tmp_path: Path, demo_setup: ModelsSetup) -> None:
    outcome = check_web(_ctx(tmp_path, demo_setup, "web", SOURCE, _answers(demo_setup, 18)), {})
    assert outcome.key == "ok"
    assert outcome.metrics["accuracy"] == pytest.approx(0.9)
    assert outcome.metrics["latency_p50_ms"] == pytest.approx(float(np.percentile(np.arange(10, 30), 50)))
    assert outcome.metrics["start_s"] == 3.5 and outcome.metrics["first_answer_s"] == 4.0
    assert "90.0% of 20 hidden digits" in text_of(outcome.message, "en") and "p95" in text_of(outcome.message, "en")
    assert "enable_queue" in text_of(outcome.message, "en") and "Switched off for grading: auth" in text_of(outcome.message, "en")


def test_low_accuracy_and_unhealthy_api(tmp_path: Path, demo_setup: ModelsSetup) -> None:
    low = check_web(_ctx(tmp_path, demo_setup, "web", SOURCE, _answers(demo_setup, 4)), {"min_accuracy": 0.5})
    assert low.key == "low" and "below the required 50%" in text_of(low.message, "en")
    run = _answers(demo_setup, 20)
    run["endpoint"]["health"] = {"status": 404}
    api = check_api(_ctx(tmp_path, demo_setup, "api", {**SOURCE, "kind": "api"}, run), {})
    assert api.key == "no_health" and "did not answer with 2xx (404)" in text_of(api.message, "en")


def test_unanswered_digits_count_as_wrong(tmp_path: Path, demo_setup: ModelsSetup) -> None:
    run = _answers(demo_setup, 20)
    run.update(status="deadline", predictions=run["predictions"][:10])
    outcome = check_web(_ctx(tmp_path, demo_setup, "web", SOURCE, run), {})
    assert outcome.metrics["accuracy"] == pytest.approx(0.5) and "Only 10 of 20" in text_of(outcome.message, "en")


@pytest.mark.parametrize("source, launch, key, words", [
    ({**SOURCE, "old_gradio": ["gr.inputs", "capture_session"], "gradio_target": "2"},
     {"error": {"type": "AttributeError", "message": "module 'gradio' has no attribute 'inputs'", "line": 9}},
     "old_gradio", ["written for Gradio 2.x (gr.inputs, capture_session)", "6.31.0 no longer has"]),
    ({**SOURCE, "models": [{"name": "cnn.pth", "state": "gitignored"}]}, {}, "model_missing",
     ["cnn.pth", ".gitignore"]),
    ({**SOURCE, "models": [{"name": "cnn.pth", "state": "lfs_pointer"}]}, {}, "model_missing",
     ["Git LFS pointer", "git lfs pull"]),
    (SOURCE, {"error": {"type": "FileNotFoundError", "message": "No such file", "line": 3,
                        "missing_file": "model.pth"}}, "model_missing", ["model.pth", "not in the submission"]),
    (SOURCE, {"error": {"type": "NameError", "message": "name 'x' is not defined", "line": 12}}, "start_failed",
     ["stopped while starting: NameError: name 'x' is not defined (line 12)"]),
])
def test_a_start_failure_gets_one_plain_sentence(tmp_path: Path, demo_setup: ModelsSetup, source: dict[str, Any],
                                                 launch: dict[str, Any], key: str, words: list[str]) -> None:
    run = {"status": "exited", "port": None, "port_requested": 17860, "exit_code": 3, "launch": launch,
           "log_tail": "Traceback (most recent call last):\n  File ...", "indices": []}
    outcome = check_web(_ctx(tmp_path, demo_setup, "web", source, run), {})
    assert outcome.key == key
    for word in words:
        assert word in text_of(outcome.message, "en")
    assert "Traceback" not in text_of(outcome.message, "en")


def test_no_port_and_no_app(tmp_path: Path, demo_setup: ModelsSetup) -> None:
    run = {"status": "no_port", "port": None, "port_requested": 17860, "launch": {}, "log_tail": "loading...\n"}
    outcome = check_web(_ctx(tmp_path, demo_setup, "web", SOURCE, run), {"startup_timeout_s": 30})
    assert outcome.key == "start_failed" and "did not open a port within 30 s" in text_of(outcome.message, "en")
    missing = check_api(_ctx(tmp_path, demo_setup, "api", None, None, lang="ru"), {})
    assert missing.key == "missing" and "Сервер API не найден" in text_of(missing.message, "ru")


def test_without_the_stage_the_check_says_so(tmp_path: Path) -> None:
    ctx = CheckContext(lang="en", cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path)
    with pytest.raises(GraderError, match="app stage did not run"):
        check_web(ctx, {})
