"""The shipped app samples, started for real in the bubblewrap sandbox and asked for hidden digits:
grades as in submissions/task2_apps/EXPECTED.yaml, measured accuracy and latency, plain messages."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from app_support import SAMPLES, Graded, app_rubric, grade_folder
from grader.families.models.setup import ModelsSetup
from grader.sandbox import Sandbox
from grader.i18n import text_of
from requires import installed

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.torch, pytest.mark.timeout(120),
              installed("gradio", "gradio_client", "fastapi", "uvicorn", "torch")]  # the `apps` and `models` extras
EXPECTED = yaml.safe_load((SAMPLES / "EXPECTED.yaml").read_text(encoding="utf-8"))
DIGITS = 40
_graded: dict[str, Graded] = {}


@pytest.fixture
def graded(sample: Callable[[str], Path], bwrap_box: Sandbox, demo_setup: ModelsSetup,
           tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Graded]:
    """Each sample is run once per session; later tests reuse what it said."""

    def grade(name: str) -> Graded:
        if name not in _graded:
            out = tmp_path_factory.mktemp(name)
            _graded[name] = grade_folder(sample(name), out, app_rubric(DIGITS), bwrap_box, demo_setup)
        return _graded[name]

    return grade


def _run(graded: Graded, kind: str) -> dict:
    return json.loads(graded.report.read_text(encoding="utf-8"))["apps"][kind]["run"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_grades(graded, name: str) -> None:
    result = graded(name)
    for check_id, share in EXPECTED[name]["checks"].items():
        assert result.shares[check_id] == pytest.approx(share), f"{name}/{check_id}: {result.outcomes[check_id]}"


def test_gradio6_app_is_scored_on_hidden_digits_on_our_port(graded) -> None:
    result = graded("belova_gradio6")
    web = result.outcomes["app_web"]
    assert web.metrics["accuracy"] >= 0.9 and web.metrics["digits"] == DIGITS
    assert 0 < web.metrics["start_s"] <= web.metrics["first_answer_s"] < 60
    assert 0 < web.metrics["latency_p50_ms"] <= web.metrics["latency_p95_ms"] < 2000
    run = _run(result, "web")
    assert run["port"] == run["port_requested"] == 17860  # the app asked for 0.0.0.0:7860
    assert run["launch"]["requested"] == [{"server_name": "'0.0.0.0'", "server_port": "7860"}]
    assert "not verified" in text_of(result.outcomes["docker_web"].message, "en").lower()


def test_sketchpad_gets_a_drawing_and_share_debug_are_neutralised(graded) -> None:
    result = graded("orlov_sketchpad")
    web = result.outcomes["app_web"]
    assert web.key == "ok" and web.metrics["accuracy"] >= 0.9
    run = _run(result, "web")
    assert run["endpoint"]["endpoint"] == "/recognize" and run["form"].startswith("ink")
    assert {"share": "True", "debug": "True"} in run["launch"]["requested"]


def test_fastapi_server_answers_and_its_health_page_too(graded) -> None:
    result = graded("petrov_fastapi")
    api = result.outcomes["app_api"]
    assert api.key == "ok" and api.metrics["accuracy"] >= 0.9
    assert "POST /predict" in text_of(api.message, "en") and "Health check GET /: 200" in text_of(api.message, "en")


def test_gradio2_app_gets_one_sentence(graded) -> None:
    web = graded("sidorov_gradio2").outcomes["app_web"]
    assert web.key == "old_gradio" and "written for Gradio 2.x" in text_of(web.message, "en")
    assert "Traceback" not in text_of(web.message, "en") and text_of(web.message, "en").count(". ") <= 2


def test_missing_model_is_named(graded) -> None:
    web = graded("egorova_no_model").outcomes["app_web"]
    assert web.key == "model_missing" and "mnist_cnn.pth" in text_of(web.message, "en") and ".gitignore" in text_of(web.message, "en")
