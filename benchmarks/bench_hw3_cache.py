#!/usr/bin/env python
"""HW 3: evaluating many student models on one image folder, decode-once cache vs. per-model decoding.

    python benchmarks/bench_hw3_cache.py [--images 1500] [--models 20] [--arch small|resnet18]
                                         [--device auto|cpu|cuda] [--json figures.json] [--work DIR]

Makes a folder of `--images` photo-like JPEGs (`--side` x `--side`, quality 90, three visually
distinct classes: a disc, a square, a triangle on textured backgrounds, detail and file sizes of
real photographs) and `--models` untrained models (speed only; `small`: three-layer CNNs,
`resnet18`: torchvision's resnet18 with weights=None and 3 outputs, nothing downloaded). The
evaluation transform is the usual one: Resize(input*8/7) -> CenterCrop(input) -> ToTensor ->
Normalize. Then, in one run, every model on every image, three ways:

    per-model  each model decodes the folder itself: ImageFolder + DataLoader (`--workers`
               processes), batches moved to the device with `x.to(device)`, as a student's loop does
    cache      the folder decoded once (grader/data/cache.py, `--workers` threads, at
               `--cache-size`), then each model gets the array through the grader's tensor
               pipeline (grader_inside/probes/images.py) with the same transform, on the device
    forward    each model on ready-made input tensors already on the device: pure forward passes

Also measured on their own: D, one pass of the per-model loader without a model (decoding,
resizing, batching, the copy to the device); F, one model's forward passes; P, one model's pass
of the tensor pipeline over the cached array; C, the decode-once step. With M models the
per-model path costs about M(D+F) and the cached one C + M(P+F): the speed-up is bounded by
(D+F)/(F+D/M) (taking C = D, P = 0), and when forward passes dominate (big models on a CPU) no
cache helps. Both that bound and M(D+F)/(C+M(P+F)) are printed beside the measured speed-up
(the DataLoader's workers overlap decoding with the forward passes where there are cores to
spare, e.g. beside a GPU, which the sum M(D+F) does not count).
The photo-likeness of the JPEGs is shown beside real photographs (scikit-learn's sample images,
cropped to `--side` and saved the same way). Exit status 0 unless `--device cuda` has no GPU (2).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from hw3_data import shape_mask  # noqa: E402  (the sample data's three shapes)

CLASSES = ("cat", "dog", "wild")
SEED = 0
QUALITY = 90
POOL = 8  # texture tiles shared by the images (each image picks, rotates and mixes three)
_SHAPE_COLOURS = ((210, 90, 60), (80, 180, 80), (70, 90, 210))  # disc, square, triangle


# -- photo-like JPEGs ------------------------------------------------------------------------
def _noise(rng: np.random.Generator, cells: int, side: int, channels: int = 1) -> np.ndarray:
    """Smooth noise: a cells x cells grid of normal values upscaled (bicubic) to side x side."""
    from PIL import Image

    small = rng.normal(0.0, 1.0, (cells, cells, channels)).astype(np.float32)
    return np.stack([np.asarray(Image.fromarray(small[..., c], mode="F").resize((side, side), Image.Resampling.BICUBIC))
                     for c in range(channels)], axis=-1)


def texture_pool(side: int, count: int = POOL) -> list[tuple[np.ndarray, ...]]:
    """Luminance textures at three scales (coarse, mid, fine): together an image's fur, grass and
    grain, so that its JPEG has the coefficients, size and decoding cost of a photograph."""
    rng = np.random.default_rng([SEED, 1])
    return [(_noise(rng, 16, side)[..., 0], _noise(rng, 64, side)[..., 0],
             _noise(rng, 256, side)[..., 0] + 0.3 * rng.normal(0, 1, (side, side)).astype(np.float32))
            for _ in range(count)]


def photo_like(cls: int, rng: np.random.Generator, pool: list[tuple[np.ndarray, ...]], side: int) -> Any:
    """One side x side PIL image of class `cls`: a large textured disc, square or triangle (the
    "face") in the class's colour on a textured background of random colour, with a few strokes."""
    from PIL import Image, ImageDraw

    picks = rng.integers(len(pool), size=3)
    coarse, mid, fine = pool[picks[0]][0], pool[picks[1]][1], pool[picks[2]][2]
    detail = rng.uniform(0.3, 1.2)  # some photos are sharper than others: file sizes vary
    texture = np.rot90(28 * coarse + 12 * detail * mid + 4 * detail * fine, rng.integers(4))
    yy, xx = (a / side for a in np.ogrid[0:side, 0:side])
    r, (cy, cx) = rng.uniform(0.28, 0.4), rng.uniform(0.4, 0.6, 2)
    mask = shape_mask(cls, yy, xx, cy, cx, r)
    colour = np.array(_SHAPE_COLOURS[cls], np.float32) + rng.normal(0, 15, 3).astype(np.float32)
    background = rng.uniform(70, 180, 3).astype(np.float32)
    pixels = np.where(mask[..., None], colour, background) + 30 * _noise(rng, 4, side, 3) + texture[..., None]
    img = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        draw.line(tuple(rng.uniform(0, side, 4).tolist()), fill=tuple(int(v) for v in rng.integers(0, 255, 3)),
                  width=int(rng.integers(1, 4)))
    return img


def make_folder(root: Path, n: int, side: int, workers: int) -> list[Path]:
    """`root`/val/<class>/*.jpg; kept and reused when `root` already holds the same set."""
    stamp = root / "made.json"
    params = {"images": n, "side": side, "quality": QUALITY, "seed": SEED, "generator": 2}
    files = [root / "val" / CLASSES[i % len(CLASSES)] / f"{i:05d}.jpg" for i in range(n)]
    try:
        if json.loads(stamp.read_text(encoding="utf-8")) == params and all(f.is_file() for f in files):
            return files
    except (OSError, ValueError):
        pass
    shutil.rmtree(root / "val", ignore_errors=True)
    for cls in CLASSES:
        (root / "val" / cls).mkdir(parents=True, exist_ok=True)
    pool = texture_pool(side)

    def one(i: int) -> None:
        photo_like(i % len(CLASSES), np.random.default_rng([SEED, 2, i]), pool, side).save(files[i], quality=QUALITY)

    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(one, range(n)))
    stamp.write_text(json.dumps(params), encoding="utf-8")
    return files


def decode_ms(blobs: list[bytes], rounds: int = 3) -> float:
    """Milliseconds to decode one of these JPEGs to RGB, one thread (best of `rounds` passes)."""
    from PIL import Image

    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for blob in blobs:
            with Image.open(io.BytesIO(blob)) as img:
                img.convert("RGB")
        best = min(best, (time.perf_counter() - start) / len(blobs))
    return best * 1e3


def real_photos(side: int) -> dict[str, dict[str, float]]:
    """scikit-learn's two sample photographs, centre square at side x side, saved at QUALITY."""
    from PIL import Image

    try:
        from sklearn.datasets import load_sample_image
    except ImportError:
        return {}
    out = {}
    for name in ("china.jpg", "flower.jpg"):
        img = Image.fromarray(load_sample_image(name))
        w, h = img.size
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize(
            (side, side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=QUALITY)
        out[name] = {"kb": len(buf.getvalue()) / 1024, "decode_ms": decode_ms([buf.getvalue()] * 20)}
    return out


# -- models ----------------------------------------------------------------------------------
def make_models(arch: str, count: int, device: Any) -> list[Any]:
    import torch

    models = []
    for seed in range(count):
        torch.manual_seed(seed)
        if arch == "resnet18":
            from torchvision.models import resnet18

            model = resnet18(weights=None, num_classes=len(CLASSES))
        else:
            width = 16 + 8 * (seed % 3)
            model = torch.nn.Sequential(
                torch.nn.Conv2d(3, width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(width, 2 * width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(2 * width, 4 * width, 3, padding=1), torch.nn.ReLU(),
                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4 * width, len(CLASSES)))
        models.append(model.to(device).eval())
    return models


def pick_device(wanted: str) -> str:
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        print("bench_hw3_cache: --device cuda, but torch sees no CUDA GPU here "
              f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); use --device cpu", file=sys.stderr)
        raise SystemExit(2)
    return "cuda" if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()) else "cpu"


# -- the three paths -------------------------------------------------------------------------
class Timer:
    """Wall time of a block, the GPU's queued work included."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.seconds = 0.0

    def _sync(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def __enter__(self) -> Timer:
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sync()
        self.seconds = time.perf_counter() - self.start


def predict(model: Any, x: Any) -> Any:
    return model(x).argmax(1).cpu()  # class indices back on the host, as a grading loop needs them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--arch", choices=("small", "resnet18"), default="small")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--side", type=int, default=512, help="the JPEGs' side (AFHQ: 512)")
    parser.add_argument("--input", type=int, default=None,
                        help="the models' input side, the transform's CenterCrop (default: 128 small, 224 resnet18)")
    parser.add_argument("--cache-size", type=int, default=256, help="the decoded side in the cache (rubric image_size)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                        help="DataLoader processes in the per-model path and decoding threads in the cached one "
                             "(default: min(8, cores), the cache's own default)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the forward passes and the tensor pipeline (default: torch's own; "
                             "on a shared, loaded machine 1 avoids threads waiting on each other)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the generated JPEGs here and reuse them next time (default: a temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    import torch
    from torchvision import datasets, transforms

    from grader.data.cache import decode_once
    from grader_inside.probes import images as probe_images

    device = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    size = args.input or (224 if args.arch == "resnet18" else 128)
    load_before = os.getloadavg()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_hw3_"))
    work.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(tempfile.mkdtemp(prefix="cache_", dir=work))  # always decoded afresh
    try:
        t0 = time.perf_counter()
        files = make_folder(work / "afhq", args.images, args.side, args.workers)
        made_s = time.perf_counter() - t0
        sample = [f.read_bytes() for f in files[:60]]
        kb = float(np.mean([f.stat().st_size for f in files])) / 1024
        jpeg = {"mean_kb": kb, "min_kb": min(f.stat().st_size for f in files) / 1024,
                "max_kb": max(f.stat().st_size for f in files) / 1024, "decode_ms": decode_ms(sample)}
        photos = real_photos(args.side)
        models = make_models(args.arch, args.models, device)
        tf = transforms.Compose([transforms.Resize(round(size * 8 / 7)), transforms.CenterCrop(size),
                                 transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406],
                                                                             [0.229, 0.224, 0.225])])
        pipe = probe_images.tensor_pipeline("bench", tf, device)
        print(f"{len(files)} JPEGs {args.side}x{args.side} q{QUALITY} ({made_s:.1f} s, {work}): "
              f"{jpeg['mean_kb']:.0f} KB mean ({jpeg['min_kb']:.0f}-{jpeg['max_kb']:.0f}), "
              f"decode {jpeg['decode_ms']:.2f} ms each (1 thread)")
        for name, p in photos.items():
            print(f"  real photo {name} at {args.side}x{args.side} q{QUALITY}: {p['kb']:.0f} KB, "
                  f"decode {p['decode_ms']:.2f} ms")

        def loader() -> Any:
            ds = datasets.ImageFolder(str(work / "afhq" / "val"), transform=tf)
            return torch.utils.data.DataLoader(ds, batch_size=args.batch, num_workers=args.workers)

        with torch.inference_mode():
            # one-off costs (CUDA context, kernel choice, oneDNN set-up per batch shape) paid here
            for count in {min(args.batch, args.images), args.images % args.batch} - {0}:
                warm = pipe.fn(np.zeros((count, args.cache_size, args.cache_size, 3), np.uint8))
                for model in models:
                    predict(model, warm)

            # D: one model's decoding of the folder, no model
            with Timer(device) as d:
                for x, _ in loader():
                    x.to(device)
            # per model: ImageFolder + DataLoader, decoding every JPEG again
            with Timer(device) as per_model:
                for model in models:
                    for x, _ in loader():
                        predict(model, x.to(device))

            # decode once, then each model through the grader's tensor pipeline
            with Timer(device) as cached:
                with Timer(device) as c:
                    array = decode_once(files, args.cache_size, cache_dir, workers=args.workers).load()
                with Timer(device) as cached_eval:
                    for model in models:  # the probe's own loop: the next batch prepared during this one
                        for _, x in probe_images.prepared(pipe, array, args.batch):
                            predict(model, x)
            # P: the tensor pipeline alone over the array, once
            with Timer(device) as p:
                ready = [pipe.fn(array[i:i + args.batch]) for i in range(0, len(array), args.batch)]
            # pure forward passes on ready tensors on the device
            with Timer(device) as forward:
                for model in models:
                    for x in ready:
                        predict(model, x)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    m, n = args.models, args.images * args.models
    f_s = forward.seconds / m
    bound = (d.seconds + f_s) / (f_s + d.seconds / m)
    expected = m * (d.seconds + f_s) / (c.seconds + m * (p.seconds + f_s))
    speedup = per_model.seconds / cached.seconds
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else None
    figures: dict[str, Any] = {
        "arch": args.arch, "device": device, "gpu": gpu, "images": args.images, "models": m, "side": args.side,
        "input": size, "cache_size": args.cache_size, "batch": args.batch, "workers": args.workers,
        "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "torch": torch.__version__, "jpeg": jpeg, "real_photos": photos,
        "load_avg_before": load_before[0], "load_avg_after": load_after[0],
        "per_model_s": per_model.seconds, "cached_s": cached.seconds, "decode_once_s": c.seconds,
        "cached_eval_s": cached_eval.seconds, "forward_s": forward.seconds,
        "D_s": d.seconds, "F_s": f_s, "P_s": p.seconds, "bound": bound, "expected": expected, "speedup": speedup,
        "forward_ratio_eval": forward.seconds / cached_eval.seconds,
        "forward_ratio_total": forward.seconds / cached.seconds, "target_speedup": 5.0, "target_forward_ratio": 0.9}
    where = f"{device}" + (f" ({gpu})" if gpu else "")
    print(f"{m} {args.arch} models x {args.images} images, input {size}x{size} from a {args.cache_size} cache, "
          f"batch {args.batch}, {args.workers} workers, {torch.get_num_threads()} threads, {where}, "
          f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"per-model ImageFolder+DataLoader : {per_model.seconds:8.1f} s  ({n / per_model.seconds:8.0f} images/s)")
    print(f"decode once ({c.seconds:5.1f} s) + cached : {cached.seconds:8.1f} s  ({n / cached.seconds:8.0f} images/s)")
    print(f"pure forward passes              : {forward.seconds:8.1f} s  ({n / forward.seconds:8.0f} images/s)")
    print(f"per model: D (decode the folder) {d.seconds:.2f} s, F (forward passes) {f_s:.2f} s, "
          f"P (tensor pipeline on the cache) {p.seconds:.2f} s; C (decode once) {c.seconds:.2f} s")
    print(f"speed-up {speedup:.2f}x (target 5x); bound (D+F)/(F+D/M) = {bound:.2f}x; "
          f"from the parts M(D+F)/(C+M(P+F)) = {expected:.2f}x")
    print(f"cached evaluation at {figures['forward_ratio_eval']:.2f}x of pure forward-pass throughput "
          f"(tensor pipeline included; target 0.9x), {figures['forward_ratio_total']:.2f}x with the decoding")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
