"""Gradebook CSV from canned results."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.report.gradebook import write_gradebook_csv
from grader.results import BatchResult, CheckResult, SubmissionResult


def check(cid: str, status: str, points: float) -> CheckResult:
    return CheckResult(id=cid, title=cid, status=status, points=points, max_points=2.0, message="")  # type: ignore[arg-type]


def submission(student: str, checks: tuple[CheckResult, ...], **kw: object) -> SubmissionResult:
    defaults: dict[str, object] = dict(
        submission=f"{student}.ipynb", sha256="", status="graded", score=sum(c.points for c in checks),
        max_score=6.0, duration_s=1.0, error=None, checks=checks,
    )
    defaults.update(kw)
    return SubmissionResult(student=student, **defaults)  # type: ignore[arg-type]


BATCH = BatchResult(
    assignment="hw1",
    graded_at="2024-10-01T12:00:00",
    students=(
        submission("Яковлев", (check("gd", "pass", 2.0), check("lr", "partial", 1.25), check("essay", "manual", 0.0))),
        submission("Андреев", (check("gd", "fail", 0.0), check("lr", "pass", 2.0), check("essay", "pass", 2.0))),
        submission("Борисова", (), status="error", score=0.0, error="Kernel died\nexit code 137"),
    ),
)


def read(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_header_bom_and_values(tmp_path: Path) -> None:
    path = write_gradebook_csv(BATCH, tmp_path / "gradebook.csv")
    raw, rows = read(path)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == ["student", "submission", "status", "score", "max_score", "gd", "lr", "essay", "error"]
    assert rows[1] == ["Андреев", "Андреев.ipynb", "graded", "4", "6", "0", "2", "2", ""]
    assert rows[2] == ["Борисова", "Борисова.ipynb", "error", "0", "6", "", "", "", "Kernel died | exit code 137"]
    # a check awaiting review has no points yet: the cell stays empty
    assert rows[3] == ["Яковлев", "Яковлев.ipynb", "graded", "3.25", "6", "2", "1.25", "", ""]
    assert len(rows) == 4


def test_explicit_rubric_order(tmp_path: Path) -> None:
    _, rows = read(write_gradebook_csv(BATCH, tmp_path / "g.csv", check_ids=["essay", "lr", "gd"]))
    assert rows[0][5:8] == ["essay", "lr", "gd"]
    assert rows[1][5:8] == ["2", "2", "0"]


def test_stable_output(tmp_path: Path) -> None:
    reversed_batch = BatchResult(BATCH.assignment, BATCH.graded_at, tuple(reversed(BATCH.students)))
    a = write_gradebook_csv(BATCH, tmp_path / "a.csv").read_bytes()
    b = write_gradebook_csv(reversed_batch, tmp_path / "b.csv").read_bytes()
    assert a == b
