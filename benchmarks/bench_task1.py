"""Benchmark: grading Task 1 notebooks against running them plainly.

Generates N small Task 1 notebooks (gradient descent on
f(x) = 3x^2 - sin(x) + e^x - 5) in a temporary folder, one sub-folder per
student, and measures in one run:

  (a) plain   - each notebook executed with nbclient, one after another;
  (b) grade1  - ``grader grade ... --workers 1 --force``;
  (c) grade2  - ``grader grade ... --workers 2 --force``;
  (d) plain1  - ``grader grade ... --sandbox plain --workers 1 --force``.

Figures reported: (b)/(a) (target <= 1.3), (b)/(c) (target >= 1.6) and the
sandbox overhead per submission (b - d)/N (target < 0.3 s).

Usage:  python benchmarks/bench_task1.py --n 8 [--json out.json] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
GRADER = Path(sys.executable).parent / "grader"

REQUIRED = ("function", "gradient", "steps", "plot", "stop_rule")  # each generated notebook earns these in full

TARGETS = {
    "ratio_grade1_plain": ("<=", 1.3),
    "speedup_workers2": (">=", 1.6),
    "sandbox_overhead_s": ("<", 0.3),
}

CELLS = [
    ("markdown", "# Задание 1. Градиентный спуск\n\nf(x) = 3x^2 - sin(x) + e^x - 5"),
    ("code", "import numpy as np\nimport matplotlib.pyplot as plt"),
    ("code",
     "def f(x):\n"
     "    return 3 * x**2 - np.sin(x) + np.exp(x) - 5\n"
     "\n"
     "def df(x):\n"
     "    return 6 * x - np.cos(x) + np.exp(x)"),
    ("code",
     "x0 = {x0}\n"
     "lr = {lr}\n"
     "x = x0\n"
     "xs = [x]\n"
     "for i in range(50):\n"
     "    x = x - lr * df(x)\n"
     "    xs.append(x)\n"
     "print(xs[-1], f(xs[-1]))"),
    ("code",
     "grid = np.linspace(-3, 3, 400)\n"
     "plt.plot(grid, f(grid), label='f(x)')\n"
     "xs_arr = np.array(xs)\n"
     "plt.scatter(xs_arr, f(xs_arr), color='red', label='шаги')\n"
     "plt.legend()\n"
     "plt.show()"),
    ("code",
     "x = x0\n"
     "for i in range(10000):\n"
     "    x_new = x - lr * df(x)\n"
     "    if abs(f(x_new) - f(x)) < 1e-6:\n"
     "        x = x_new\n"
     "        break\n"
     "    x = x_new\n"
     "print('steps:', i + 1, 'x* =', x)"),
]


def make_notebook(x0: float, lr: float) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for kind, src in CELLS:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src.format(x0=x0, lr=lr)))
    return nb


def generate(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        x0 = round(-2.0 + 4.0 * i / max(n - 1, 1), 3)
        lr = (0.01, 0.02, 0.05)[i % 3]
        student = folder / f"student_{i:02d}"
        student.mkdir(parents=True)
        path = student / "task1_gd.ipynb"
        nbformat.write(make_notebook(x0, lr), path)
        paths.append(path)
    return paths


def cpu_seconds() -> float:
    """User + system CPU of this process and of its waited-for children so far."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_plain(paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of running the notebooks one after another."""
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"  # as a headless grader would
    try:
        t0, c0 = time.perf_counter(), cpu_seconds()
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, kernel_name="python3", timeout=60,
                           resources={"metadata": {"path": str(path.parent)}}
                           ).execute()
        return time.perf_counter() - t0, cpu_seconds() - c0
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backend


def run_grade(folder: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one `grader grade` run (CPU: the command and all it started)."""
    cmd = [str(GRADER), "grade", str(folder), "-a", "task1", "-o", str(out),
           "--force", *extra]
    t0, c0 = time.perf_counter(), cpu_seconds()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if proc.returncode != 0:
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(cmd)}\n")
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(1)
    check_full_marks(out / "results.json")
    return elapsed, cpu


def check_full_marks(results: Path) -> None:
    """Every generated notebook must earn the required checks in full: otherwise the benchmark
    times a grader that goes wrong, not the grading of correct work."""
    wrong = []
    for student in json.loads(results.read_text(encoding="utf-8"))["students"]:
        for check in student["checks"]:
            if check["id"] in REQUIRED and check["points"] < check["max_points"]:
                wrong.append(f"{student['student']} {check['id']}: {check['message']}")
    if wrong:
        sys.stderr.write("generated notebooks did not get full marks:\n" + "\n".join(wrong) + "\n")
        raise SystemExit(1)


def verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = {"<=": value <= target, ">=": value >= target, "<": value < target}[op]
    return f"{op} {target:<5} {'ok' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8, help="number of notebooks")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of (a)-(d), interleaved; each figure is the median of its rounds")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    if not GRADER.exists():
        ap.error(f"grader command not found at {GRADER}")

    tmp = Path(tempfile.mkdtemp(prefix="bench_task1_"))
    try:
        subs = tmp / "submissions"
        paths = generate(subs, args.n)
        print(f"{args.n} notebooks in {subs}", flush=True)

        # Interleaved rounds: a load spike on a shared machine hits one round of every
        # configuration, not all rounds of one; the median of each then drops it.
        rounds: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
        cpu: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
        for r in range(max(1, args.repeat)):
            for key, (wall, used) in (
                    ("a", run_plain(paths)),
                    ("b", run_grade(subs, tmp / f"out_w1_{r}", "--workers", "1")),
                    ("c", run_grade(subs, tmp / f"out_w2_{r}", "--workers", "2")),
                    ("d", run_grade(subs, tmp / f"out_plain_{r}", "--sandbox", "plain", "--workers", "1"))):
                rounds[key].append(wall)
                cpu[key].append(used)
            print(f"round {r + 1}: " + ", ".join(f"({k}) {v[-1]:.2f} s [{cpu[k][-1]:.1f} s CPU]"
                                                 for k, v in rounds.items()), flush=True)
        a, b, c, d = (statistics.median(rounds[k]) for k in "abcd")
        cpu_a, cpu_b = (statistics.median(cpu[k]) for k in "ab")
        # the same figures paired within each round (its four runs saw the same machine)
        paired_ratio = statistics.median(rb / ra for ra, rb in zip(rounds["a"], rounds["b"]))
        paired_speedup = statistics.median(rb / rc for rb, rc in zip(rounds["b"], rounds["c"]))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    figures = {
        "n": args.n,
        "repeat": max(1, args.repeat),
        "cpus": os.cpu_count(),
        "plain_serial_s": round(a, 3),
        "grade_workers1_s": round(b, 3),
        "grade_workers2_s": round(c, 3),
        "grade_sandbox_plain_workers1_s": round(d, 3),
        "ratio_grade1_plain": round(b / a, 3),
        "speedup_workers2": round(b / c, 3),
        "sandbox_overhead_s": round((b - d) / args.n, 3),
        "ratio_grade1_plain_paired": round(paired_ratio, 3),
        "speedup_workers2_paired": round(paired_speedup, 3),
        "plain_cpu_per_notebook_s": round(cpu_a / args.n, 3),
        "grade1_cpu_per_notebook_s": round(cpu_b / args.n, 3),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }

    print()
    print(f"{'measure':<36}{'value':>9}  target")
    print("-" * 60)
    rows = [
        ("(a) plain serial, s", a, ""),
        ("(b) grade --workers 1, s", b, ""),
        ("(c) grade --workers 2, s", c, ""),
        ("(d) grade --sandbox plain -w 1, s", d, ""),
        ("(b)/(a) ratio", figures["ratio_grade1_plain"],
         verdict("ratio_grade1_plain", figures["ratio_grade1_plain"])),
        ("(b)/(c) speed-up", figures["speedup_workers2"],
         verdict("speedup_workers2", figures["speedup_workers2"])),
        ("(b)/(a), median of rounds", figures["ratio_grade1_plain_paired"], ""),
        ("(b)/(c), median of rounds", figures["speedup_workers2_paired"], ""),
        ("sandbox overhead (b-d)/N, s", figures["sandbox_overhead_s"],
         verdict("sandbox_overhead_s", figures["sandbox_overhead_s"])),
        ("CPU per notebook (a), s", figures["plain_cpu_per_notebook_s"], ""),
        ("CPU per notebook (b), s", figures["grade1_cpu_per_notebook_s"], ""),
    ]
    for label, value, target in rows:
        print(f"{label:<36}{value:>9.3f}  {target}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
