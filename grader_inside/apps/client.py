"""The trusted client inside the app's sandbox (started by grader.run.runner.inside_command).

It starts the student's app through `grader_inside.apps.launch` on the port the grader chose, waits until
the port answers (bounded), finds the prediction endpoint, works out the input form on a few
validation digits (whose labels the sandbox may see), then sends the hidden digits one by one and
writes what came back, with the times, to `<outbox>/result.json`. The hidden labels are not here:
the grader scores the predictions. The app runs as the client's own user, so the client, the
sandbox's init, ends every other process before it writes result.json (replacing whatever the
app put there), and is not dumpable meanwhile (the app cannot read its memory or descriptors).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from grader_inside.apps.answers import read_digit
from grader_inside.apps.digits import Form
from grader_inside.cpuclock import student_cpu_s

RESULT = "result.json"
LOG_TAIL = 4000
OTHER_PORT_GRACE_S = 3.0  # a port other than ours must stay open this long before it is used
CONSECUTIVE_ERRORS = 3  # a form whose first requests all fail is given up
GOOD_ENOUGH = 0.75  # share of validation digits right at which the search for a better form stops
WALL_FACTOR = 4.0  # the startup's wall-clock backstop: this many times its CPU budget (as in the harness)


class Target(Protocol):
    kind: str
    forms: tuple[Form, ...]

    def ask(self, digit: np.ndarray, form: Form) -> Any: ...

    def describe(self) -> dict[str, Any]: ...


def listening_ports() -> set[int]:
    """Ports something listens on in this network namespace (the sandbox's own)."""
    ports: set[int] = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class App:
    """The student's app process (its own process group) and its files."""

    def __init__(self, spec: dict[str, Any], work: Path) -> None:
        self.status_path = work / "launch.json"
        self.log_path = work / "app.log"
        cfg = {"app": spec["app"], "port": spec["port"], "host": "127.0.0.1", "status": str(self.status_path)}
        cfg_path = work / "launch-config.json"
        cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
        env = {**os.environ, "GRADIO_SERVER_PORT": str(spec["port"]), "GRADIO_SERVER_NAME": "127.0.0.1",
               "GRADIO_SHARE": "False", "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_DEBUG": "0",
               "GRADIO_TEMP_DIR": str(work / "gradio"), "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "grader_inside.apps.launch", str(cfg_path)],
                                         cwd=os.path.dirname(spec["app"]), env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    def status(self) -> dict[str, Any]:
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def log_tail(self) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(max(0, self.log_path.stat().st_size - LOG_TAIL))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                self.proc.wait(timeout=3)
                if sig == signal.SIGTERM:
                    continue
            except subprocess.TimeoutExpired:
                continue


class Budget:
    """One phase's limit: the CPU the app's processes use decides (the same app gets the same verdict
    on a busy machine); an app that uses no CPU for `idle_s` is waiting for something that will not
    come; the wall clock only stops what hangs."""

    def __init__(self, cpu_s: float, idle_s: float, wall_s: float) -> None:
        self.cpu_s, self.idle_s, self.wall_s = cpu_s, idle_s, wall_s
        self.start_cpu = self.last_cpu = student_cpu_s()
        self.start = self.last_progress = time.monotonic()
        self.stopped: str | None = None  # "cpu" | "idle" | "wall" once spent

    def used_cpu(self) -> float:
        return max(0.0, student_cpu_s() - self.start_cpu)

    def spent(self) -> bool:
        now, cpu = time.monotonic(), student_cpu_s()
        if cpu - self.last_cpu > 0.02:
            self.last_cpu, self.last_progress = cpu, now
        if cpu - self.start_cpu >= self.cpu_s:
            self.stopped = "cpu"
        elif now - self.last_progress >= self.idle_s:
            self.stopped = "idle"
        elif now - self.start >= self.wall_s:
            self.stopped = "wall"
        return self.stopped is not None


def wait_for_port(app: App, port: int, budget: Budget, before: set[int]) -> int | None:
    """Our port once it accepts connections; a port the app opened instead, if only that one opens
    (`before`: ports already listening when the app started, never the app's)."""
    others: dict[int, float] = {}
    while not budget.spent():
        if app.proc.poll() is not None:
            return None
        if port_open(port):
            return port
        now = time.monotonic()
        for other in listening_ports() - before - {port}:
            if now - others.setdefault(other, now) >= OTHER_PORT_GRACE_S and port_open(other):
                return other
        time.sleep(0.1)
    return None


def connect(kind: str, url: str, spec: dict[str, Any], budget: Budget) -> Target:
    """The target, retried while the app is still starting its routes (until the budget is spent)."""
    from grader_inside.apps.gradio_api import GradioTarget
    from grader_inside.apps.gradio_api import NoEndpoint as NoGradioEndpoint
    from grader_inside.apps.http_api import HttpTarget
    from grader_inside.apps.http_api import NoEndpoint as NoHttpEndpoint

    timeout = float(spec.get("request_timeout_s", 10))
    while True:
        try:
            return GradioTarget(url, timeout) if kind == "gradio" else HttpTarget(url, timeout)
        except (NoGradioEndpoint, NoHttpEndpoint):
            raise
        except Exception:
            if budget.spent():
                raise
            time.sleep(0.5)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def choose_form(target: Target, images: np.ndarray, labels: np.ndarray, budget: Budget,
                clock: dict[str, float]) -> tuple[Form | None, dict[str, Any]]:
    """The form that the app recognises best on validation digits, and every form's tally."""
    scores: dict[str, Any] = {}
    best: tuple[int, int, int] | None = None
    chosen: Form | None = None
    for rank, form in enumerate(target.forms):
        correct = answered = errors = 0
        first_error = ""
        for image, label in zip(images, labels):
            if budget.spent():
                break
            try:
                raw = target.ask(image, form)
            except Exception as exc:  # the student's endpoint failed: counted, not fatal
                errors += 1
                first_error = first_error or _error_text(exc)
                if errors >= CONSECUTIVE_ERRORS and answered == 0:
                    break
                continue
            clock.setdefault("first_answer", time.monotonic())
            digit = read_digit(raw)
            answered += digit is not None
            correct += digit == int(label)
        scores[form.name] = {"correct": correct, "answered": answered, "errors": errors, "error": first_error}
        key = (correct, answered, -rank)
        if answered and (best is None or key > best):
            best, chosen = key, form
        if correct >= GOOD_ENOUGH * len(labels):  # this form works: the others cannot do much better
            break
    return chosen, scores


def ask_hidden(target: Target, form: Form, images: np.ndarray, budget: Budget) -> dict[str, Any]:
    predictions: list[int] = []
    latencies: list[float] = []
    samples: list[str] = []
    errors = 0
    first_error = ""
    for image in images:
        if budget.spent():
            break
        started = time.perf_counter()
        try:
            raw = target.ask(image, form)
        except Exception as exc:  # one failed request is one wrong answer
            errors += 1
            first_error = first_error or _error_text(exc)
            predictions.append(-1)
            continue
        latencies.append((time.perf_counter() - started) * 1000.0)
        digit = read_digit(raw)
        predictions.append(-1 if digit is None else digit)
        if len(samples) < 3:
            samples.append(repr(raw)[:200])
    return {"predictions": predictions, "latencies_ms": latencies, "errors": errors, "error": first_error,
            "samples": samples, "asked": len(predictions)}


def run(spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Start the app, find its endpoint and input form, ask the hidden digits. Two budgets in CPU
    seconds of the app's processes: `startup_timeout_s` until it listens and answers its API,
    `deadline_s` for every question after that (each request has `request_timeout_s` of its own)."""
    started = time.monotonic()
    startup_s, answer_s, request_s = (float(spec[k]) for k in ("startup_timeout_s", "deadline_s", "request_timeout_s"))
    n_questions = len(spec["indices"]) + 4 * int(spec.get("format_digits", 20))
    startup = Budget(startup_s, idle_s=startup_s, wall_s=startup_s * WALL_FACTOR + 30)
    result: dict[str, Any] = {"status": "start_failed", "port_requested": spec["port"], "port": None}
    before = listening_ports()
    app = App(spec, work)
    clock: dict[str, float] = {}
    try:
        port = wait_for_port(app, int(spec["port"]), startup, before)
        if port is None:
            result["status"] = "exited" if app.proc.poll() is not None else "no_port"
            result.update(exit_code=app.proc.poll(), stopped=startup.stopped, cpu_s=round(startup.used_cpu(), 2))
            return result
        result.update(port=port, start_s=round(time.monotonic() - started, 3))
        try:
            target = connect(spec["kind"], f"http://127.0.0.1:{port}/", spec, startup)
        except Exception as exc:  # no endpoint, or the app never answered its API description
            result.update(status="no_endpoint", error=_error_text(exc))
            return result
        result["endpoint"] = target.describe()
        val = np.load(spec["validation_images"], allow_pickle=False)
        val_labels = np.load(spec["validation_labels"], allow_pickle=False)
        answering = Budget(answer_s, idle_s=2 * request_s, wall_s=n_questions * request_s + 30)
        form, scores = choose_form(target, val, val_labels, answering, clock)
        result["forms"] = scores
        if form is None:
            result["status"] = "no_answer"
            return result
        result["form"] = form.name
        hidden = np.load(spec["hidden_images"], mmap_mode="r", allow_pickle=False)
        images = np.asarray(hidden[np.asarray(spec["indices"], dtype=np.int64)])
        answers = ask_hidden(target, form, images, answering)
        result.update(answers, status="ok" if answers["asked"] == len(images) else "deadline",
                      stopped=answering.stopped, cpu_s=round(answering.used_cpu(), 2))
        return result
    except Exception as exc:  # our own failure: reported as such, the run still ends cleanly
        result.update(status="client_error", error=_error_text(exc))
        return result
    finally:
        if "first_answer" in clock:
            result["first_answer_s"] = round(clock["first_answer"] - started, 3)
        result["launch"] = app.status()
        app.stop()
        result["log_tail"] = app.log_tail()
        result["duration_s"] = round(time.monotonic() - started, 3)


def main(argv: list[str]) -> int:
    from grader_inside.prepare import prepare_process
    from grader_inside.records import end_other_processes, write_record

    prepare_process()
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    outbox = Path(spec["outbox"])
    work = Path(tempfile.mkdtemp(prefix="app-"))
    result = run(spec, work)
    end_other_processes()
    write_record(outbox, RESULT, json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
