"""Benchmark: hidden-split evaluation through the grader against a plain in-process loop.

One run, the same data, the same model, the same batch size:

  (a) plain   - in this process: the hidden images as one float tensor (already scaled), then
                `model(x[i:i+b]).argmax(1)` over the batches under `torch.inference_mode()`;
  (b) grader  - a notebook that builds the same model (same seed, so the same weights) runs in
                the sandbox; the models probe finds it, works out its input format on the
                validation split and predicts the hidden images; its timed loop (uint8 images
                in, conversion and scaling per batch included) gives images/second.

Reported: images/s of both, their ratio (b)/(a) (target >= 0.8), and the probe's whole time
(discovery + format search + hidden predictions) next to the time of the prediction loop alone.
The data is Debian's Fashion-MNIST (10,000 hidden images) when installed, else the demo set (10,000
hidden images too); either is served as a batch serves it (secret order and noise).

Usage:  python benchmarks/bench_eval.py [--model cnn|mlp] [--batch 500] [--repeat 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.data import prepare_mnist  # noqa: E402
from grader.family import AfterProbe  # noqa: E402
from grader.run.runner import RunRequest, run_submission  # noqa: E402
from grader.sandbox.detect import get_sandbox  # noqa: E402

FASHION = Path("/usr/share/datasets/fashion-mnist")
TARGET = 0.8
SEED = 7
MODELS = {
    "cnn": """
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.head = torch.nn.Linear(64 * 5 * 5, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))
""",
    "mlp": """
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                        torch.nn.Linear(256, 10))

    def forward(self, x):
        return self.body(x)
""",
}


def build(kind: str) -> torch.nn.Module:
    ns: dict = {"torch": torch}
    exec(MODELS[kind], ns)  # the benchmark's own model source, shared with the notebook
    torch.manual_seed(SEED)
    return ns["Net"]()


def plain_loop(model: torch.nn.Module, images: np.ndarray, batch: int) -> float:
    """Images per second of a plain loop over pre-scaled tensors (the best case)."""
    x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
    model.eval()
    with torch.inference_mode():
        model(x[:batch])  # warm-up, as the probe's format search warms the model up
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            model(x[i:i + batch]).argmax(1)
        seconds = time.perf_counter() - start
    return len(x) / seconds


def grader_run(kind: str, prepared, batch: int, work: Path) -> dict:
    source = f"import torch\n{MODELS[kind]}\ntorch.manual_seed({SEED})\nmodel = Net()\n"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    entry = work / "sub" / "bench.ipynb"
    entry.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(entry))
    req = RunRequest(entry=entry, timeout_s=120, cell_timeout_s=110, mounts=prepared.mounts(),
                     env=prepared.sandbox_env(),
                     after=AfterProbe("grader_inside.probes.models",
                                      {"data_dir": str(prepared.student_dir), "hidden_images": str(prepared.hidden_images),
                                       "device": "cpu", "batch_size": batch, "format_images": 1000, "timeout_s": 300},
                                      300, "models"))
    start = time.perf_counter()
    run = run_submission(req, get_sandbox("auto", fallback=True), work / "out")
    wall = time.perf_counter() - start
    report = json.loads((work / "out" / "models" / "models.json").read_text(encoding="utf-8"))
    model = report["models"][0]
    return {"images_per_s": prepared.n_hidden / model["inference_s"], "inference_s": model["inference_s"],
            "probe_s": report["duration_s"], "run_wall_s": wall, "format": f"{model['shape']} {model['scale']}",
            "status": run.status}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="cnn")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        work = Path(tmp)
        source = FASHION if FASHION.is_dir() else None
        prepared = prepare_mnist(source, work / "cache")
        hidden = np.load(prepared.hidden_images, allow_pickle=False)
        model = build(args.model)
        plain, through = [], []
        for k in range(args.repeat):  # interleaved, so load changes hit both alike
            plain.append(plain_loop(model, hidden, args.batch))
            through.append(grader_run(args.model, prepared, args.batch, work / f"run{k}"))
    plain_ips = statistics.median(plain)
    grader_ips = statistics.median(r["images_per_s"] for r in through)
    figures = {
        "data": "fashion-mnist" if source else "demo digits", "hidden_images": int(len(hidden)),
        "model": args.model, "batch": args.batch, "torch_threads": torch.get_num_threads(),
        "plain_images_per_s": round(plain_ips, 1), "grader_images_per_s": round(grader_ips, 1),
        "ratio": round(grader_ips / plain_ips, 3), "target": TARGET,
        "probe_total_s": round(statistics.median(r["probe_s"] for r in through), 3),
        "prediction_loop_s": round(statistics.median(r["inference_s"] for r in through), 3),
        "run_wall_s": round(statistics.median(r["run_wall_s"] for r in through), 2),
        "format": through[0]["format"], "runs": through,
    }
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0 if figures["ratio"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
