"""Reading apps as text: framework, old Gradio APIs, model files handed in or not, host and port."""
from __future__ import annotations

from pathlib import Path

from grader.families.apps.source import find_apps, pick

from app_support import SAMPLES


def _apps(folder: Path):
    files = [p for p in folder.rglob("*") if p.is_file()]
    return find_apps(folder, files)


def test_samples_are_found_with_their_framework_port_and_host() -> None:
    web = pick(_apps(SAMPLES / "belova_gradio6"), "web")
    assert web is not None and web.framework == "gradio" and (web.host, web.port) == ("0.0.0.0", 7860)
    api = pick(_apps(SAMPLES / "petrov_fastapi"), "api")
    assert api is not None and api.framework == "fastapi" and api.port == 8000 and api.uploads
    both = _apps(SAMPLES / "zaitseva_compose")
    assert {a.rel for a in both} == {"web/app.py", "api/main.py"}


def test_gradio2_markers_name_the_version() -> None:
    app = pick(_apps(SAMPLES / "sidorov_gradio2"), "web")
    assert app is not None and app.gradio_target == "2"
    assert {"capture_session", "gr.inputs", "gr.outputs"} <= set(app.old_gradio)
    assert pick(_apps(SAMPLES / "belova_gradio6"), "web").old_gradio == ()  # type: ignore[union-attr]


def test_model_files_present_gitignored_lfs_or_missing(tmp_path: Path) -> None:
    app = pick(_apps(SAMPLES / "egorova_no_model"), "web")
    assert app is not None and [(m.name, m.state) for m in app.models] == [("mnist_cnn.pth", "gitignored")]
    (tmp_path / "app.py").write_text(
        "import gradio as gr\nimport torch\nfrom tensorflow import keras\n"
        "a = torch.load('weights/cnn.pt')\nb = keras.models.load_model('model.h5')\n"
        "c = torch.load('gone.pth')\ntorch.save(a, 'out.pth')\n", encoding="utf-8")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "cnn.pt").write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n")
    app = pick(_apps(tmp_path), "web")
    assert app is not None
    assert {m.name: m.state for m in app.models} == {"weights/cnn.pt": "lfs_pointer", "model.h5": "present",
                                                     "gone.pth": "missing"}


def test_files_that_are_no_app_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import torch\nprint(1)\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("import gradio as gr\ndef (:\n", encoding="utf-8")
    (tmp_path / "server.py").write_text("from http.server import HTTPServer\n", encoding="utf-8")
    apps = _apps(tmp_path)
    assert [(a.rel, a.kind, a.framework) for a in apps] == [("server.py", "api", "http.server")]
