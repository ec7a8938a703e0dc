"""HW 3's benchmark and GPU check script: photo-like JPEGs that cost what photographs cost, the
figures a tiny run writes, and the GPU script's syntax and its clear refusal without a GPU."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_hw3_cache.py"
GPU_SCRIPT = ROOT / "benchmarks" / "gpu_check_hw3.sh"


def _bench():  # the benchmark is a script, not a package module
    spec = importlib.util.spec_from_file_location("bench_hw3_cache", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_jpegs_are_photo_sized_and_the_classes_differ() -> None:
    from PIL import Image

    bench = _bench()
    pool = bench.texture_pool(512, count=2)
    sizes, centres = [], []
    for i in range(6):
        img = bench.photo_like(i % 3, np.random.default_rng([0, i]), pool, 512)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=bench.QUALITY)
        sizes.append(len(buf.getvalue()) / 1024)
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=float)
        centres.append(decoded[200:312, 200:312].mean(axis=(0, 1)))  # the shape covers the centre
    assert all(30 <= kb <= 80 for kb in sizes), sizes  # AFHQ's photos at quality 90: tens of KB
    # the disc is reddish, the square greenish, the triangle bluish: the dominant channel says which
    assert [int(np.argmax(c)) for c in centres] == [0, 1, 2, 0, 1, 2]


@pytest.mark.torch
@pytest.mark.slow
def test_tiny_run_writes_the_figures(tmp_path: Path) -> None:
    pytest.importorskip("torchvision")
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(BENCH), "--images", "12", "--models", "2", "--side", "96",
                           "--input", "32", "--cache-size", "48", "--batch", "5", "--workers", "1",
                           "--device", "cpu", "--work", str(tmp_path / "work"), "--json", str(out)],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    fig = json.loads(out.read_text(encoding="utf-8"))
    assert fig["device"] == "cpu" and fig["models"] == 2 and fig["images"] == 12
    d, f, m = fig["D_s"], fig["F_s"], fig["models"]
    assert fig["bound"] == pytest.approx((d + f) / (f + d / m))
    assert fig["speedup"] == pytest.approx(fig["per_model_s"] / fig["cached_s"])
    assert fig["forward_ratio_eval"] == pytest.approx(fig["forward_s"] / fig["cached_eval_s"])
    assert "bound (D+F)/(F+D/M)" in done.stdout and "forward-pass throughput" in done.stdout
    assert (tmp_path / "work" / "afhq" / "val" / "wild").is_dir()  # --work keeps the JPEGs
    assert not list((tmp_path / "work").glob("cache_*"))  # the decoded cache never outlives a run


def test_cuda_refused_clearly_without_a_gpu(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    done = subprocess.run([sys.executable, str(BENCH), "--device", "cuda", "--images", "3", "--models", "1",
                           "--work", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "no CUDA GPU" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "afhq").exists()  # refused before making anything


def test_gpu_script_parses() -> None:
    done = subprocess.run(["bash", "-n", str(GPU_SCRIPT)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def _gpu_script(tmp_path: Path, python: str) -> tuple[subprocess.CompletedProcess[str], str]:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": python, "OUT": str(out)}
    done = subprocess.run(["bash", str(GPU_SCRIPT)], capture_output=True, text=True, timeout=120, env=env)
    return done, (out / "summary.txt").read_text(encoding="utf-8")


def test_gpu_script_stops_at_once_without_cuda(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    done, summary = _gpu_script(tmp_path, sys.executable)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "FAILED: no CUDA GPU here" in summary and "device tool" in summary and "Traceback" not in summary
    assert not (tmp_path / "out" / "bench.log").exists()  # nothing ran after the refusal


def test_gpu_script_names_a_python_without_torch(tmp_path: Path) -> None:
    bare = tmp_path / "python-without-site"
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S -I \"$@\"\n", encoding="utf-8")
    bare.chmod(0o755)
    done, summary = _gpu_script(tmp_path, str(bare))
    assert done.returncode == 3
    assert "cannot import torch (ModuleNotFoundError: No module named 'torch')" in summary
    assert "Traceback" not in summary
