"""How the launcher starts apps that do not start themselves the grader's way: a FastAPI app left for
`uvicorn main:app`, and a Gradio app calling launch() with options of an older Gradio and a login."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app_support import app_rubric, grade_folder
from grader.families.models.setup import ModelsSetup
from grader.sandbox import Sandbox
from grader.i18n import text_of

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(120)]

FASTAPI_APP = '''
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()

class Pixels(BaseModel):
    pixels: list[list[float]]

@app.post("/api/classify")
def classify(body: Pixels):
    rows = [sum(r) for r in body.pixels]
    return {"prediction": 1 if max(rows) > 0 else 0}
'''

GRADIO_APP = '''
import gradio as gr

def guess(img):
    return "3"

demo = gr.Interface(guess, gr.Image(type="numpy"), "text")
demo.launch(enable_queue=True, auth=("admin", "secret"), server_port=7861)
'''


def _run(tmp_path: Path, box: Sandbox, setup: ModelsSetup, name: str, source: str, kind: str) -> tuple[dict, object]:
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / name).write_text(source, encoding="utf-8")
    rubric = app_rubric(digits=10)
    rubric = rubric.model_copy(update={"checks": [c for c in rubric.checks if c.kind == f"app.{kind}"]})
    result = grade_folder(folder, tmp_path / "out", rubric, box, setup)
    run = json.loads(result.report.read_text(encoding="utf-8"))["apps"][kind]["run"]
    return run, result.outcomes[f"app_{kind}"]


def test_fastapi_app_left_for_uvicorn_gets_pixels(tmp_path: Path, bwrap_box: Sandbox, demo_setup: ModelsSetup) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    run, outcome = _run(tmp_path, bwrap_box, demo_setup, "main.py", FASTAPI_APP, "api")
    assert run["launch"]["launched_by"] == "grader"
    assert run["endpoint"]["endpoint"] == "POST /api/classify" and run["endpoint"]["nested"] is True
    assert set(run["predictions"]) == {1}
    assert "the grader started the app it defines" in text_of(outcome.message, "en")  # type: ignore[attr-defined]
    assert "did not answer with 2xx (404)" in text_of(outcome.message, "en")  # type: ignore[attr-defined]


def test_old_launch_options_and_login_are_set_aside(tmp_path: Path, bwrap_box: Sandbox,
                                                    demo_setup: ModelsSetup) -> None:
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    run, outcome = _run(tmp_path, bwrap_box, demo_setup, "app.py", GRADIO_APP, "web")
    assert run["status"] == "ok" and run["port"] == 17860
    assert run["launch"]["ignored_options"] == ["enable_queue"] and run["launch"]["dropped_options"] == ["auth"]
    assert set(run["predictions"]) == {3}
    assert "enable_queue" in text_of(outcome.message, "en") and "auth" in text_of(outcome.message, "en")  # type: ignore[attr-defined]
