"""`grader review OUT`: prints an address on 127.0.0.1 with a fresh token and serves it; a broken
overrides file stops it before it serves anything."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")

from review_support import make_batch  # noqa: E402

from grader.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _start(out: Path, rubric: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "grader", "review", str(out), "-a", str(rubric), "--lang", "en"],
                            cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.match(r"Review page: (http://127\.0\.0\.1:\d+/([A-Za-z0-9_-]{32})/)$", line.strip())
    assert match, line
    return proc, match.group(1)


def test_the_printed_address_works_and_nothing_else_does(tmp_path: Path) -> None:
    out, rubric = make_batch(tmp_path)
    proc, url = _start(out, rubric)
    other, other_url = _start(out, rubric)
    try:
        assert url != other_url  # a new token every time
        page = urllib.request.urlopen(url, timeout=20).read().decode()  # noqa: S310 (127.0.0.1)
        assert "Alice Smith" in page and "Left to review in the class: 5" in page
        base = url.rsplit("/", 2)[0]
        for wrong in (base + "/", other_url.replace(other_url.rsplit("/", 2)[0], base)):
            if wrong == url:
                continue
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(wrong, timeout=20)  # noqa: S310
            assert info.value.code == 403
    finally:
        for p in (proc, other):
            p.send_signal(signal.SIGINT)
            p.wait(timeout=20)


def test_a_broken_overrides_file_is_explained_before_serving(tmp_path: Path) -> None:
    out, rubric = make_batch(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {student: Nobody, check: conclusions, points: 1}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["review", str(out), "-a", str(rubric), "--overrides", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1: student 'Nobody' is not in this batch" in result.output and "Traceback" not in result.output
