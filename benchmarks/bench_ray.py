"""Benchmark: grading on a local 2-CPU Ray cluster against grading locally with two workers.

Starts a Ray head on this machine (`ray start --head --num-cpus 2`, loopback, its own token),
writes N Task 1 notebooks (those of bench_task1.py) and times, in interleaved rounds:

  (a) local - ``grader grade ... --workers 2 --force``;
  (b) ray   - ``grader grade ... --executor ray --address 127.0.0.1:PORT --force``.

Both must grade every notebook in full and give the same scores. The figure is (b)/(a), target
<= 1.15 (the median of rounds, and the median of the per-round ratios). The cluster's start is
not timed (a cluster is started once, not per batch); each (b) pays what every batch on a
cluster pays: connecting, the check of a worker's code and sandbox, worker processes for the job.
Those are also timed alone, in this process, beside the rounds.

Usage:  python benchmarks/bench_ray.py --n 16 [--repeat 3] [--json out.json] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_task1 import GRADER, REPO, check_full_marks, generate

TARGET = 1.15
RAY = Path(sys.executable).parent / "ray"


def start_head(log: Path, cpus: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with log.open("wb") as sink:
        head = subprocess.Popen([str(RAY), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                                 "--num-cpus", str(cpus), "--num-gpus", "0", "--include-dashboard", "false",
                                 "--disable-usage-stats", "--block"],
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while b"Ray runtime started" not in log.read_bytes():
        if head.poll() is not None or time.monotonic() > deadline:
            stop_head(head)
            raise SystemExit(f"the Ray head did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    return head, f"127.0.0.1:{port}"


def stop_head(head: subprocess.Popen[bytes]) -> None:
    if head.poll() is None:
        head.terminate()  # `ray start --block` stops what it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)


def grade(folder: Path, out: Path, *extra: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of one `grader grade`, and each student's score."""
    cmd = [str(GRADER), "grade", str(folder), "-a", "task1", "-o", str(out), "--force", "--workers", "2", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
        raise SystemExit(1)
    check_full_marks(out / "results.json")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return elapsed, {s["student"]: s["score"] for s in results["students"]}


def connect_cost(address: str, out: Path) -> float:
    """Seconds to connect to the cluster and check a worker (what a batch pays before its runs)."""
    from grader.executors import open_executor
    from grader.grading import GradeOptions

    t0 = time.perf_counter()
    executor = open_executor(GradeOptions(out_dir=out, executor="ray", address=address))
    elapsed = time.perf_counter() - t0
    executor.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=16, help="number of notebooks")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds of (a) and (b)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the Ray head (and workers of the local run: 2)")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)
    # Ray reads these when it is imported: the head, the `grader` runs and this process share them
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
                       "RAY_USAGE_STATS_ENABLED": "0"})
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    head, address = start_head(tmp / "head.log", args.cpus)
    try:
        subs = tmp / "submissions"
        generate(subs, args.n)
        print(f"{args.n} notebooks; Ray head at {address} with {args.cpus} CPUs", flush=True)
        local: list[float] = []
        ray: list[float] = []
        for r in range(max(1, args.repeat)):
            order = ("a", "b") if r % 2 == 0 else ("b", "a")  # neither always runs on a warmer machine
            for key in order:
                if key == "a":
                    wall, scores_a = grade(subs, tmp / f"local_{r}")
                    local.append(wall)
                else:
                    wall, scores_b = grade(subs, tmp / f"ray_{r}", "--executor", "ray", "--address", address)
                    ray.append(wall)
            if scores_a != scores_b:
                raise SystemExit(f"round {r + 1}: Ray and local scores differ: {scores_a} != {scores_b}")
            print(f"round {r + 1}: (a) local {local[-1]:.2f} s, (b) ray {ray[-1]:.2f} s, "
                  f"(b)/(a) {ray[-1] / local[-1]:.3f}; load {os.getloadavg()[0]:.2f}", flush=True)
        connect = [connect_cost(address, tmp / "connect") for _ in range(3)]
    finally:
        stop_head(head)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    a, b = statistics.median(local), statistics.median(ray)
    paired = statistics.median(rb / ra for ra, rb in zip(local, ray))
    figures = {
        "n": args.n, "repeat": len(local), "cpus": os.cpu_count(), "ray_cpus": args.cpus,
        "local_workers2_s": round(a, 3), "ray_s": round(b, 3), "ratio": round(b / a, 3),
        "ratio_paired": round(paired, 3), "connect_and_check_s": round(statistics.median(connect), 3),
        "local_per_submission_s": round(a / args.n, 3), "ray_per_submission_s": round(b / args.n, 3),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    verdict = "ok" if b / a <= TARGET else "MISSED"
    print(f"\n(a) local --workers 2: {a:.2f} s   (b) Ray, {args.cpus} CPUs: {b:.2f} s   "
          f"(b)/(a) {b / a:.3f} (median of rounds {paired:.3f}), target <= {TARGET}: {verdict}")
    print(f"connecting and checking a worker: {figures['connect_and_check_s']:.2f} s (median of 3, in-process)")
    print(f"load average before {figures['load_average_before']}, after {figures['load_average_after']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
