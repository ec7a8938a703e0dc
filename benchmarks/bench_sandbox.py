"""Benchmark: the cost of the bubblewrap sandbox per submission, against the plain backend.

The same generated Task 1 notebooks are graded one at a time through the whole pipeline
(`grader.grading.grade_one`: scratch folder, cgroup, sandbox, harness, kernel, probes, checks),
once under bubblewrap and once under the plain backend, in alternating order so both see the
same machine load. The overhead per submission is the median of the paired differences
(bwrap - plain, same notebook, back to back). Target: under 0.3 s.

It also times the stages the sandbox adds or changes, each on its own, to show where the time
goes: the tmpfs scratch folder, the run's cgroup, starting bwrap (`true`), starting Python, and
importing the harness.

Usage:  python benchmarks/bench_sandbox.py --n 6 [--reps 15] [--json out.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_OVERHEAD_S = 0.3


def _load_task1_generator() -> Callable[[Path, int], list[Path]]:
    """bench_task1.generate: the same notebooks as the Task 1 benchmark."""
    spec = importlib.util.spec_from_file_location("bench_task1", Path(__file__).with_name("bench_task1.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate  # type: ignore[no-any-return]


def _median_s(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stage_times(reps: int, work: Path) -> dict[str, dict[str, float]]:
    """Median seconds of each stage, under bwrap and plain where it applies."""
    from grader.sandbox import MIB, BwrapSandbox, Limits, PlainSandbox, SandboxSpec
    from grader.sandbox.limits import RunCgroup, detect_cgroups, make_scratch, remove_scratch

    limits = Limits(memory_bytes=512 * MIB, wall_time_s=60, scratch_bytes=64 * MIB)
    outbox = work / "stage-outbox"
    outbox.mkdir(exist_ok=True)
    boxes = {"bwrap": BwrapSandbox(), "plain": PlainSandbox()}
    rows: dict[str, dict[str, float]] = {}

    rows["tmpfs scratch: make + remove"] = {
        "both": _median_s(lambda: remove_scratch(make_scratch(work, 64 * MIB)), reps)}
    support = detect_cgroups()
    if support.available:
        rows["run cgroup: create + remove"] = {
            "both": _median_s(lambda: RunCgroup(support, limits).remove(), reps)}

    def runner(box: object, argv: tuple[str, ...]) -> Callable[[], object]:
        scratch = work / "stage-scratch"
        scratch.mkdir(exist_ok=True)
        spec = SandboxSpec(argv=argv, scratch=scratch, outbox=outbox, limits=limits)

        def call() -> object:
            result = box.run(spec)  # type: ignore[attr-defined]
            if result.returncode != 0:
                raise RuntimeError(f"{argv} failed: {result.stderr[-500:]!r}")
            return result

        return call

    commands = {
        "start and end /usr/bin/true": ("/usr/bin/true",),
        "python -c pass": (sys.executable, "-c", "pass"),
        "python: import the harness": (sys.executable, "-c", "import grader_inside.harness"),
    }
    for label, argv in commands.items():
        calls = {name: runner(box, argv) for name, box in boxes.items()}
        times: dict[str, list[float]] = {name: [] for name in boxes}
        for _ in range(reps):  # interleaved, so load changes hit both alike
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
        rows[label] = {name: statistics.median(t) for name, t in times.items()}
    return rows


def pipeline_times(n: int, work: Path) -> list[tuple[float, float]]:
    """(bwrap s, plain s) per notebook, each graded through the whole pipeline."""
    from grader.grading import GradeOptions, grade_one
    from grader.intake import discover
    from grader.rubric import load_rubric
    from grader.sandbox import BwrapSandbox, PlainSandbox

    generate = _load_task1_generator()
    subs_dir = work / "submissions"
    generate(subs_dir, n)
    rubric = load_rubric("task1")
    subs = discover(subs_dir, patterns=tuple(rubric.entry.patterns), unpack_dir=work / "unpacked",
                    lang="en", entry_hints=tuple(rubric.entry.hints))
    boxes = {"bwrap": BwrapSandbox(), "plain": PlainSandbox()}
    # one untimed run each: warms the page cache and the lazily built caches of both backends
    warm = subs[0]
    for name, box in boxes.items():
        grade_one(warm, rubric, box, work / f"warm-{name}", "en", GradeOptions(out_dir=work))
    pairs: list[tuple[float, float]] = []
    for i, sub in enumerate(subs):
        order = ["bwrap", "plain"] if i % 2 == 0 else ["plain", "bwrap"]
        took: dict[str, float] = {}
        scores: dict[str, float] = {}
        for name in order:
            out = work / f"out-{name}"
            start = time.perf_counter()
            result = grade_one(sub, rubric, boxes[name], out, "en", GradeOptions(out_dir=out))
            took[name] = time.perf_counter() - start
            scores[name] = result.score
        if scores["bwrap"] != scores["plain"]:
            raise RuntimeError(f"{sub.student}: bwrap scored {scores['bwrap']}, plain {scores['plain']}")
        pairs.append((took["bwrap"], took["plain"]))
        print(f"  {sub.student}: bwrap {took['bwrap']:.3f} s, plain {took['plain']:.3f} s, "
              f"score {scores['bwrap']:g}", flush=True)
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=6, help="notebooks graded under each backend")
    ap.add_argument("--reps", type=int, default=15, help="repetitions of each stage timing")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args(argv)
    if args.n < 1 or args.reps < 1:
        ap.error("--n and --reps must be at least 1")
    sys.path.insert(0, str(REPO))
    from grader.sandbox.detect import bwrap_unavailable_reason

    reason = bwrap_unavailable_reason()
    if reason is not None:
        print(f"bubblewrap is not usable here ({reason}); nothing to compare")
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench_sandbox_"))
    try:
        print(f"stage timings, median of {args.reps}:", flush=True)
        stages = stage_times(args.reps, work)
        for label, values in stages.items():
            shown = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in values.items())
            print(f"  {label:<32} {shown}")
        print(f"\nwhole pipeline, {args.n} Task 1 notebooks, one at a time:", flush=True)
        pairs = pipeline_times(args.n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    diffs = [b - p for b, p in pairs]
    overhead = statistics.median(diffs)
    figures = {
        "n": args.n,
        "cpus": os.cpu_count(),
        "bwrap_median_s": round(statistics.median(b for b, _ in pairs), 3),
        "plain_median_s": round(statistics.median(p for _, p in pairs), 3),
        "overhead_median_s": round(overhead, 3),
        "overhead_mean_s": round(statistics.mean(diffs), 3),
        "stages_ms": {k: {b: round(v * 1000, 1) for b, v in d.items()} for k, d in stages.items()},
    }
    verdict = "ok" if overhead < TARGET_OVERHEAD_S else "MISSED"
    print(f"\nper submission: bwrap {figures['bwrap_median_s']:.3f} s, plain {figures['plain_median_s']:.3f} s "
          f"(medians)")
    print(f"sandbox overhead per submission: {overhead:.3f} s median of pairs "
          f"(mean {figures['overhead_mean_s']:.3f} s); target < {TARGET_OVERHEAD_S} s: {verdict}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
