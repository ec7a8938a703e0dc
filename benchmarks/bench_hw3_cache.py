#!/usr/bin/env python
"""HW 3: evaluating many student models on one image folder, decode-once cache vs. per-model decoding.

    python benchmarks/bench_hw3_cache.py [--images 1500] [--models 20] [--side 512] [--input 128]

Makes a folder of `--images` JPEGs (`--side` x `--side`, three classes, tools/hw3_data.py's
shapes scaled up) and `--models` small CNNs (seeded, untrained: speed only). Then, in one run:

    per-model  each model decodes the folder itself: ImageFolder + DataLoader (Resize, ToTensor,
               Normalize), as a student's own evaluation loop does
    cache      the folder decoded once (grader/data/cache.py, at `--cache-size`), then each model
               gets the array through the grader's tensor pipeline (grader/probes/images.py) with
               the same transform
    forward    each model on ready-made input tensors: pure forward-pass throughput

and prints the totals, the speed-up and the cache path's throughput against pure forward passes.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def make_folder(root: Path, n: int, side: int) -> list[Path]:
    from PIL import Image

    from hw3_data import CLASSES, shape_image

    rng = np.random.default_rng(0)
    files = []
    for i in range(n):
        k = i % len(CLASSES)
        folder = root / "val" / CLASSES[k]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:05d}.jpg"
        img = Image.fromarray(shape_image(k, rng, 64)).resize((side, side), Image.Resampling.BILINEAR)
        img.save(path, quality=90)
        files.append(path)
    return files


def make_models(count: int) -> list:
    import torch

    models = []
    for seed in range(count):
        torch.manual_seed(seed)
        width = 16 + 8 * (seed % 3)
        models.append(torch.nn.Sequential(
            torch.nn.Conv2d(3, width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(width, 2 * width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(2 * width, 4 * width, 3, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4 * width, 3)).eval())
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--input", type=int, default=128, help="the models' input side (the transform's Resize)")
    parser.add_argument("--cache-size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers in the per-model path")
    args = parser.parse_args()

    import torch
    from torchvision import datasets, transforms

    from grader.data.cache import decode_once
    from grader.probes import images as probe_images

    torch.set_num_threads(max(1, torch.get_num_threads()))
    work = Path(tempfile.mkdtemp(prefix="bench_hw3_"))
    t0 = time.perf_counter()
    files = make_folder(work / "afhq", args.images, args.side)
    print(f"made {len(files)} JPEGs of {args.side}x{args.side} in {time.perf_counter() - t0:.1f} s ({work})")
    models = make_models(args.models)
    tf = transforms.Compose([transforms.Resize(args.input), transforms.CenterCrop(args.input), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    # per model: ImageFolder + DataLoader, decoding every JPEG again
    t0 = time.perf_counter()
    for model in models:
        ds = datasets.ImageFolder(str(work / "afhq" / "val"), transform=tf)
        loader = torch.utils.data.DataLoader(ds, batch_size=args.batch, num_workers=args.workers)
        with torch.inference_mode():
            for x, _ in loader:
                model(x).argmax(1)
    per_model = time.perf_counter() - t0

    # decode once, then each model through the grader's tensor pipeline
    t0 = time.perf_counter()
    decoded = decode_once(files, args.cache_size, work / "cache")
    decode_s = time.perf_counter() - t0
    array = decoded.load()
    pipe = probe_images.tensor_pipeline("bench", tf, "cpu")
    t1 = time.perf_counter()
    for model in models:
        with torch.inference_mode():
            for i in range(0, len(array), args.batch):
                model(pipe.fn(array[i:i + args.batch])).argmax(1)
    cached_eval = time.perf_counter() - t1
    cached = time.perf_counter() - t0

    # pure forward passes on ready tensors
    ready = [pipe.fn(array[i:i + args.batch]) for i in range(0, len(array), args.batch)]
    t0 = time.perf_counter()
    for model in models:
        with torch.inference_mode():
            for x in ready:
                model(x).argmax(1)
    forward = time.perf_counter() - t0

    n = args.images * args.models
    print(f"{args.models} models x {args.images} images, input {args.input}x{args.input}, "
          f"{torch.get_num_threads()} threads")
    print(f"per-model ImageFolder+DataLoader : {per_model:8.1f} s  ({n / per_model:8.0f} images/s)")
    print(f"decode once ({decode_s:5.1f} s) + cached : {cached:8.1f} s  ({n / cached:8.0f} images/s)")
    print(f"pure forward passes              : {forward:8.1f} s  ({n / forward:8.0f} images/s)")
    print(f"speed-up {per_model / cached:.1f}x; cached evaluation at {forward / cached_eval:.2f}x of pure "
          f"forward-pass throughput (transform on tensors included), {forward / cached:.2f}x with the decoding")


if __name__ == "__main__":
    main()
