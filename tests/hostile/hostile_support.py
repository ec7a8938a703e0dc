"""Shared helpers of the hostile corpus tests: one batch per backend holding every case and two
good students, graded through the whole pipeline (intake, sandbox, harness, checks, results,
HTML reports), and the same good students graded alone as the baseline."""
from __future__ import annotations

import json
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from grader.grading import GradeOptions, grade_batch
from grader.i18n import catalogue
from grader.report.batch import render_batch
from grader.results import BatchResult, SubmissionResult
from grader.rubric import Rubric, load_rubric
from grader.sandbox import get_sandbox
from grader.sandbox.detect import bwrap_unavailable_reason
from hostile_corpus import CASES, GOOD, World, build_class, new_marker

ROOT = Path(__file__).resolve().parents[2]
LANG = "ru"
# Short limits: every attack ends within seconds, and 0.5 GiB / 64 processes / 64 MB are what a
# broken sandbox would let loose at worst.
LIMITS = {"timeout_s": 20, "cell_timeout_s": 4, "memory_gb": 0.5, "max_processes": 64,
          "output_mb": 1, "scratch_mb": 64}


def hostile_rubric(folder: Path) -> Rubric:
    """The Task 1 rubric with the short limits above."""
    data = yaml.safe_load((ROOT / "rubrics" / "task1.yaml").read_text(encoding="utf-8"))
    data["assignment"] = "hostile"
    data["lang"] = LANG
    data["limits"] = LIMITS
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_rubric(path)


class CountingServer:
    """A TCP server on the host's 127.0.0.1 that counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.sendall(b"host secret")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@dataclass(frozen=True)
class Graded:
    """A graded hostile batch and the same good students graded alone (the baseline)."""

    world: World
    batch: BatchResult
    baseline: dict[str, SubmissionResult]
    folders: dict[str, str]  # student -> report folder
    server_connections: int
    cgroups_left: list[str]

    def result(self, name: str) -> SubmissionResult:
        for r in self.batch.students:
            if r.student == name:
                return r
        raise AssertionError(f"{name} is not in the batch: {[r.student for r in self.batch.students]}")

    def folder(self, name: str) -> Path:
        return self.world.out / self.folders[name]

    def run_record(self, name: str) -> dict:
        return json.loads((self.folder(name) / "run" / "run.json").read_text(encoding="utf-8"))

    def cell_status(self, name: str) -> dict[int, str]:
        return {c["number"]: c["status"] for c in self.run_record(name)["cells"]}

    def executed_text(self, name: str) -> str:
        return (self.folder(name) / "run" / "executed.ipynb").read_text(encoding="utf-8")

    def report(self, name: str) -> str:
        return (self.folder(name) / "report.html").read_text(encoding="utf-8")

    def everything_written_for(self, name: str) -> str:
        """Every file the grader wrote for this student, as text (to look for leaked secrets)."""
        chunks = []
        for path in sorted(self.folder(name).rglob("*")):
            if path.is_file() and not path.is_symlink():
                chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
        return "\n".join(chunks)


def comparable(result: SubmissionResult) -> tuple:
    """What must not change for a good student, whatever the neighbours do."""
    return (result.status, result.score, result.error, result.notes, result.cell_errors,
            tuple((c.id, c.status, c.points, c.message) for c in result.checks))


def own_cgroups_left() -> list[str]:
    """Run cgroups this process made and did not remove (their processes would still live)."""
    left = []
    for base in (Path("/sys/fs/cgroup"), *Path("/sys/fs/cgroup").glob("*")):
        try:
            left += [str(p) for p in base.rglob(f"grader-{os.getpid()}-*") if p.is_dir()]
        except OSError:
            continue
    return left


def alive_with(marker: str) -> list[int]:
    """Processes with `marker` in their command line."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return [p for p in found if p != os.getpid()]


def grade_hostile(backend: str, tmp: Path) -> Graded:
    if backend == "bwrap":
        reason = bwrap_unavailable_reason()
        if reason is not None:
            pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    names = [n for n, case in CASES.items() if backend in case.backends]
    server = CountingServer()
    token_var = f"GRADER_HOSTILE_TOKEN_{uuid.uuid4().hex[:8].upper()}"
    world = World(root=tmp / "class", out=tmp / "out", secret_file=tmp / "secret.txt",
                  secret=f"SECRET-{uuid.uuid4().hex}", token_var=token_var,
                  token=f"tok-{uuid.uuid4().hex}", port=server.port, marker=new_marker(),
                  backend=backend)
    world.secret_file.write_text(world.secret, encoding="utf-8")
    build_class(world.root, world, names)
    rubric = hostile_rubric(tmp)
    box = get_sandbox(backend)  # type: ignore[arg-type]
    os.environ[token_var] = world.token  # a secret of the grader's own environment
    try:
        batch = grade_batch(world.root, rubric, GradeOptions(out_dir=world.out, workers=2), sandbox=box)
        render_batch(batch, world.out, title="hostile", lang=LANG, check_ids=[c.id for c in rubric.checks])
        base_root = tmp / "baseline"
        for good in GOOD:
            build_class(base_root, world, [])
        base = grade_batch(base_root, rubric, GradeOptions(out_dir=tmp / "baseline_out", workers=2), sandbox=box)
    finally:
        del os.environ[token_var]
        server.close()
    folders = json.loads((world.out / ".folders.json").read_text(encoding="utf-8"))
    return Graded(world=world, batch=batch, baseline={r.student: r for r in base.students},
                  folders=folders, server_connections=server.accepted, cgroups_left=own_cgroups_left())


def template(key: str, lang: str = LANG) -> re.Pattern[str]:
    """The catalogue message `key` as a pattern: each {field} (a plural with its branches too)
    matches any text."""
    text = catalogue()[key][lang]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                parts.append(text[start:i])
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                start = i + 1
    parts.append(text[start:])
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def has_message(text: str | None, key: str) -> bool:
    return text is not None and template(key).search(text) is not None


def full_marks(graded: Graded, name: str) -> bool:
    """The student got what the good students get (the hostile part cost nothing else)."""
    return graded.result(name).score == graded.result(GOOD[0]).score


def assert_others_intact(graded: Graded, name: str) -> None:
    """The good students of the batch got exactly what they get alone, and every hostile
    neighbour has a result of its own."""
    for good in GOOD:
        assert comparable(graded.result(good)) == comparable(graded.baseline[good]), (
            f"{good} was graded differently next to {name}")
        assert graded.result(good).status == "graded" and graded.result(good).error is None
        assert graded.result(good).score >= graded.result(good).max_score
    students = [r.student for r in graded.batch.students]
    assert len(students) == len(set(students))
    assert name in students
    for r in graded.batch.students:
        assert (graded.folder(r.student) / "result.json").is_file()
        assert (graded.folder(r.student) / "report.html").is_file()
