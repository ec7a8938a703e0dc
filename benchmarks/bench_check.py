"""How long a student's `grader check` takes on a Task 1 notebook, and where the time goes.

    .venv/bin/python benchmarks/bench_check.py [SAMPLE ...] [--all-samples] [--repeat 3]
        [--sandbox auto|bwrap|plain] [--json figures.json]

For each sample (default: submissions/task1/ivanov_ivan) it runs the real command a student runs,
`grader check SAMPLE -a task1`, REPEAT times as a subprocess and reports the median wall time
against the 10 s target. One more in-process run keeps the run folder and splits the time:
sandbox detection (the bubblewrap trial run); inside the sandboxed run, the harness's own cells
(kernel setup, probe: from run.json), the student's cells, and harness process + kernel start-up;
outside it, intake and the checks. A bare nbclient run of a one-cell notebook is timed beside it
as the floor. Exit status 0 even when the target is missed; 1 when a `grader check` run fails
with status 2 (a grader error).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT / "submissions" / "task1" / "ivanov_ivan"
TARGET_S = 10.0
GRADER = Path(sys.executable).with_name("grader")


def time_cli(sample: Path, sandbox: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([str(GRADER), "check", str(sample), "-a", "task1", "--sandbox", sandbox],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start, done.returncode


def time_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import grader.cli, grader.selfcheck"], check=True)
    return time.perf_counter() - start


KERNEL_ONLY = """
import nbclient, nbformat
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell("1 + 1"))
nbclient.NotebookClient(nb, kernel_name="python3", timeout=60).execute()
"""


def time_bare_kernel() -> float:
    """The floor under any notebook run: start Python, import nbclient, start and stop a kernel."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", KERNEL_ONLY], check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    return time.perf_counter() - start


def breakdown(sample: Path, sandbox: str) -> dict[str, float]:
    """One in-process self-check with its run folder kept, split into phases."""
    from grader import grading
    from grader.rubric import load_rubric
    from grader.sandbox.detect import get_sandbox
    from grader.selfcheck import run_self_check

    rubric = load_rubric("task1")
    start = time.perf_counter()
    get_sandbox(sandbox)  # type: ignore[arg-type]
    detect = time.perf_counter() - start
    spent: list[float] = []
    real_run = grading.run_submission

    def timed_run(*a: Any, **kw: Any) -> Any:
        begin = time.perf_counter()
        try:
            return real_run(*a, **kw)
        finally:
            spent.append(time.perf_counter() - begin)

    grading.run_submission = timed_run  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
            start = time.perf_counter()
            result = run_self_check(sample, rubric, lang="en", sandbox=sandbox, out_dir=Path(tmp))  # type: ignore[arg-type]
            total = time.perf_counter() - start
            runs = list(Path(tmp).glob("*/run/run.json"))
            report: dict[str, Any] = json.loads(runs[0].read_text(encoding="utf-8")) if runs else {}
    finally:
        grading.run_submission = real_run  # type: ignore[assignment]
    cells = report.get("grader_cells_s") or {}
    student = sum(float(c.get("duration_s") or 0) for c in report.get("cells", []))
    setup = float(cells.get("grader-setup", 0.0))
    probe = float(cells.get("grader-probe", 0.0))
    sandboxed = sum(spent)
    return {
        "self_check_in_process_s": total,
        "sandbox_detection_s": detect,
        "harness_setup_cell_s": setup,
        "student_cells_s": student,
        "probe_cell_s": probe,
        "sandboxed_run_s": sandboxed,
        "harness_start_and_kernel_s": max(0.0, sandboxed - setup - student - probe),
        "checks_and_intake_s": max(0.0, total - detect - sandboxed),
        "bare_kernel_run_s": time_bare_kernel(),
        "passed": float(result.passed),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", nargs="*", type=Path)
    parser.add_argument("--all-samples", action="store_true", help="every folder in submissions/task1")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "plain"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    samples = args.samples or [DEFAULT_SAMPLE]
    if args.all_samples:
        samples = sorted(p for p in (ROOT / "submissions" / "task1").iterdir() if p.is_dir())

    figures: dict[str, Any] = {"target_s": TARGET_S, "import_s": time_import(), "samples": {}}
    failed = False
    print(f"python start-up + imports: {figures['import_s']:.2f} s")
    print(f"{'sample':<48} {'median':>8} {'max':>8}  verdict")
    for sample in samples:
        times, codes = [], []
        for _ in range(max(1, args.repeat)):
            seconds, code = time_cli(sample, args.sandbox)
            times.append(seconds)
            codes.append(code)
        failed |= 2 in codes
        median = statistics.median(times)
        verdict = "ok" if median <= TARGET_S else "MISSED"
        print(f"{sample.name[:48]:<48} {median:8.2f} {max(times):8.2f}  {verdict} (exit {sorted(set(codes))})")
        figures["samples"][sample.name] = {"runs_s": times, "median_s": median, "exit_codes": codes}

    parts = breakdown(samples[0], args.sandbox)
    figures["breakdown"] = {"sample": samples[0].name, **parts}
    print(f"\nwhere the time goes ({samples[0].name}, one in-process run):")
    for key, value in parts.items():
        if key != "passed":
            print(f"  {key:<26} {value:6.2f} s")
    inside = ("sandbox_detection_s", "harness_setup_cell_s", "student_cells_s", "probe_cell_s",
              "harness_start_and_kernel_s", "checks_and_intake_s")
    slowest = max(inside, key=lambda k: parts[k])
    print(f"largest part: {slowest} (a bare nbclient run of a one-cell notebook takes "
          f"{parts['bare_kernel_run_s']:.2f} s here)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
