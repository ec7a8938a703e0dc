#!/usr/bin/env python
"""Benchmark: building the MNIST-sized demo set, and a batch's data folder on it.

    python benchmarks/bench_demo.py [--repeat 3] [--json figures.json]

Times, in one process, R rounds of:
    build    grader.data.demo.build_demo_arrays(): 60,000 + 10,000 images from scikit-learn's digits
             through seeded affine transforms and strokes (scikit-learn's import included in round 1)
    prepare  grader.data.prepare_mnist(None, <fresh folder>): what a batch on the demo data pays once
             (the demo folder with the batch's secret test images, the students' IDX files, the
             served hidden split)
    reuse    prepare_mnist again on the same folder (a resumed batch)
and prints the median of each with the load average. Exit status 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.data import prepare_mnist  # noqa: E402
from grader.data.demo import build_demo_arrays  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {"build": [], "prepare": [], "reuse": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        build_demo_arrays()
        times["build"].append(time.perf_counter() - start)
        folder = Path(tempfile.mkdtemp(prefix="bench_demo_"))
        try:
            start = time.perf_counter()
            prepare_mnist(None, folder)
            times["prepare"].append(time.perf_counter() - start)
            start = time.perf_counter()
            prepare_mnist(None, folder)
            times["reuse"].append(time.perf_counter() - start)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    figures = {k: statistics.median(v) for k, v in times.items()}
    figures.update(rounds=args.repeat, cpus=os.cpu_count(), load_before=load_before, load_after=os.getloadavg()[0])
    print(f"{args.repeat} rounds, {os.cpu_count()} CPUs, load average {load_before:.1f} -> {figures['load_after']:.1f}")
    print(f"build the demo arrays (70,000 images)   : {figures['build']:6.2f} s (median; rounds {times['build']})")
    print(f"prepare a batch's data folder on them   : {figures['prepare']:6.2f} s")
    print(f"prepare again (a resumed batch)         : {figures['reuse']:6.2f} s")
    if args.json:
        args.json.write_text(json.dumps({**figures, "rounds_s": times}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
