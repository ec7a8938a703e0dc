"""Batch-wide notices for the instructor (HW 3: pretrained weights files the --weights folder
lacks): named once above the class table and in `grader grade`'s last lines, while each affected
student's report keeps its own message. Canned run folders, no kernel."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader.report.batch import instructor_notices, render_batch
from grader.results import BatchResult, SubmissionResult

URL = "https://download.pytorch.org/models/"
OWN_ERROR = "Not fully graded: the grader has no pretrained weights file {f} ..."


def result(student: str, error: str | None = None) -> SubmissionResult:
    return SubmissionResult(student=student, submission="hw3.ipynb", sha256="ab" * 32,
                            status="error" if error else "graded", score=1.0, max_score=15.0, duration_s=3.0,
                            error=error, checks=(), sandbox="bubblewrap sandbox")


def batch_folder(out: Path, missing: dict[str, list[str]]) -> BatchResult:
    """An out folder as `grader grade` leaves it: .folders.json and each run's weights record."""
    folders = {name: f"s{i}" for i, name in enumerate(missing)}
    (out).mkdir(parents=True, exist_ok=True)
    (out / ".folders.json").write_text(json.dumps(folders, ensure_ascii=False), encoding="utf-8")
    for name, files in missing.items():
        run = out / folders[name] / "run"
        run.mkdir(parents=True)
        if files:
            (run / "weights_missing.txt").write_text("".join(f"{f}\t{URL}{f}\n" for f in files), encoding="utf-8")
    return BatchResult("hw3", "2026-11-27T10:00:00+00:00",
                       tuple(result(name, OWN_ERROR.format(f=", ".join(files)) if files else None)
                             for name, files in missing.items()),
                       sandbox="bubblewrap sandbox")


def notices_in(html: str) -> list[str]:
    return re.findall(r'<div class="errorbox instructor-notice"[^>]*>(.*?)</div>', html, flags=re.S)


def test_index_names_each_missing_file_once_above_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    batch = batch_folder(out, {"Волкова Мария": ["resnet50-11ad3fa6.pth"],
                               "Иванов Иван": ["resnet18-f37072fd.pth", "resnet50-11ad3fa6.pth"],
                               "Petrov Petr": []})
    index = render_batch(batch, out, title="HW 3", lang="en")
    html = index.read_text(encoding="utf-8")
    shown = notices_in(html)
    assert len(shown) == 1
    notice = shown[0]
    assert "resnet18-f37072fd.pth, resnet50-11ad3fa6.pth" in notice  # exact file names, each once
    assert notice.count("resnet50-11ad3fa6.pth") == 1
    assert "2 students" in notice and "Волкова Мария" in notice and "Иванов Иван" in notice
    assert "Petrov Petr" not in notice and "--weights" in notice and "Traceback" not in notice
    assert html.index("instructor-notice") < html.index('<table class="students')
    # each affected student's own report keeps its own plain message
    own = (out / "s0" / "report.html").read_text(encoding="utf-8")
    assert "Not fully graded: the grader has no pretrained weights file resnet50-11ad3fa6.pth" in own
    assert "instructor-notice" not in own


def test_no_notice_when_nothing_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    batch = batch_folder(out, {"Petrov Petr": [], "Anna": []})
    html = render_batch(batch, out, title="HW 3", lang="ru").read_text(encoding="utf-8")
    assert notices_in(html) == [] and instructor_notices(out, "ru") == []


def test_notice_in_russian_and_long_lists_shortened(tmp_path: Path) -> None:
    out = tmp_path / "out"
    batch_folder(out, {f"student{i:02d}": ["vgg16-397923af.pth"] for i in range(12)})
    (notice,) = instructor_notices(out, "ru")
    assert "vgg16-397923af.pth" in notice and "12" in notice and "student09" in notice
    assert "student10" not in notice and "student09 ...)" in notice


def test_grade_command_ends_with_the_same_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import _echo_notices

    out = tmp_path / "out"
    batch_folder(out, {"Anna": ["resnet18-f37072fd.pth"], "Oleg": ["resnet18-f37072fd.pth"]})
    _echo_notices(out, "en")
    err = capsys.readouterr().err
    assert err.count("resnet18-f37072fd.pth") == 1 and "Anna, Oleg" in err
    assert err.strip() == instructor_notices(out, "en")[0]
