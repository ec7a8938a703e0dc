"""Kernel shims for old and blocking idioms: Keras 2 calls on Keras 3, apps launched in a notebook.

Each case runs in a fresh interpreter with the shims installed the way the harness installs them.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from requires import installed

from grader_inside.prepare import SHIMS  # noqa: E402


def _run(code: str, tmp_path: Path, serve_apps: bool = False) -> tuple[str, str]:
    prelude = ("import grader_offline\n"
               f"grader_offline.install({str(tmp_path)!r}, serve_apps={serve_apps!r})\n")
    env = {**os.environ, "PYTHONPATH": f"{SHIMS}:{os.environ.get('PYTHONPATH', '')}", "KERAS_BACKEND": "torch"}
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = tmp_path / "shims.log"
    return proc.stdout, log.read_text(encoding="utf-8") if log.exists() else ""


@installed("keras")
@pytest.mark.torch
def test_keras2_optimizer_arguments_and_generators_run_on_keras3(tmp_path: Path) -> None:
    out, log = _run("""
        import numpy as np
        from keras.models import Sequential
        from keras.layers import Dense, Input
        from keras.optimizers import SGD
        from keras.utils import np_utils
        opt = SGD(lr=0.05, decay=1e-6, momentum=0.9)
        print("lr", round(float(opt.learning_rate), 4))
        y = np_utils.to_categorical(np.array([0, 1, 2, 1]), 3)
        model = Sequential([Input((4,)), Dense(3, activation="softmax")])
        model.compile(optimizer=opt, loss="categorical_crossentropy")
        def batches():
            while True:
                yield np.ones((4, 4), dtype="float32"), y
        model.fit_generator(batches(), steps_per_epoch=2, epochs=1, verbose=0, workers=4)
        print("fitted", y.shape)
    """, tmp_path)
    assert "lr 0.05" in out and "fitted (4, 3)" in out
    assert "lr= read as learning_rate=" in log and "fit_generator" in log and "decay= ignored" in log


@installed("gradio")
def test_gradio_launch_in_a_notebook_returns_at_once(tmp_path: Path) -> None:
    code = """
        import time, gradio as gr
        demo = gr.Interface(fn=lambda s: s, inputs="text", outputs="text")
        start = time.monotonic()
        print("launch", demo.launch(share=True, debug=True), round(time.monotonic() - start))
        print("patched", getattr(gr.Blocks.launch, "_grader", False))
    """
    out, log = _run(code, tmp_path)
    assert "launch None 0" in out and "patched True" in out
    assert "gradio launch() inside the notebook was not started" in log
    # the app grader starts apps itself: there launch() must stay gradio's own
    out, _ = _run(code.replace('print("launch"', '# print("launch"'), tmp_path, serve_apps=True)
    assert "patched False" in out
