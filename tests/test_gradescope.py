"""The Gradescope bundle, run as Gradescope runs it, against a fake /autograder tree.

Gradescope's autograder specification (gradescope/autograder_samples docs/specs.md): the zip
holds setup.sh and run_autograder at its root; /autograder/source is the unpacked zip;
run_autograder runs in /autograder with the student's files in /autograder/submission and must
write /autograder/results/results.json. The tree here is a temporary folder named by
GRADER_AUTOGRADER_ROOT; GRADER_PYTHON is this test's interpreter (setup.sh's virtual
environment stands in for it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import main

REPO = Path(__file__).resolve().parents[1]
SPEC = "grader[students] @ git+https://example.org/course/grader.git@v0.1.0"
RESULT_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
               "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def bundle(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "autograder.zip"
    out = CliRunner().invoke(main, ["init-gradescope", "-a", "task1", "-o", str(path), "--grader-spec", SPEC, *args])
    assert out.exit_code == 0, out.output
    return path


def fake_root(tmp_path: Path, zip_path: Path, work: Path | None) -> Path:
    """/autograder as Gradescope lays it out: source/ (the zip), run_autograder, submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the mode bits; Gradescope keeps them
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    if work is not None:
        shutil.copytree(work, root / "submission", dirs_exist_ok=True)
    (root / "results").mkdir()
    return root


def run_autograder(root: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    results = root / "results" / "results.json"
    assert results.is_file(), done.stdout + done.stderr
    return done, json.loads(results.read_text(encoding="utf-8"))


def assert_gradescope_format(data: dict[str, Any]) -> None:
    """Only the specification's keys and values."""
    assert set(data) <= RESULT_KEYS and isinstance(data["score"], (int, float))
    assert data["output_format"] == "text"  # a traceback's "<module>" is not eaten as HTML
    assert data["visibility"] in VISIBILITY and data["stdout_visibility"] in VISIBILITY
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS and test["name"]
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert test.get("output_format", "text") in FORMATS


def test_the_zip_has_what_gradescope_needs(tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle(tmp_path, "--lang", "en")) as archive:
        names = {i.filename: i for i in archive.infolist()}
        assert set(names) == {"setup.sh", "run_autograder", "task1.yaml"}  # at the root, no folder
        for script in ("setup.sh", "run_autograder"):
            assert names[script].external_attr >> 16 & 0o111, script  # executable
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert archive.read("task1.yaml") == (REPO / "rubrics" / "task1.yaml").read_bytes()
        assert b"--lang en --sandbox auto" in archive.read("run_autograder")
    again = CliRunner().invoke(main, ["init-gradescope", "-a", "task1", "-o", str(tmp_path / "autograder.zip"),
                                      "--grader-spec", SPEC])
    assert again.exit_code != 0 and "--force" in again.output


def test_setup_sh_installs_the_grader_on_ubuntu(tmp_path: Path) -> None:
    """setup.sh run by bash with apt-get and python3 replaced by recorders."""
    root = fake_root(tmp_path, bundle(tmp_path), None)
    stubs, log = tmp_path / "stubs", tmp_path / "calls.log"
    stubs.mkdir()
    recorder = f'#!/usr/bin/env bash\necho "$(basename "$0") $*" >> {log}\n'
    (stubs / "apt-get").write_text(recorder, encoding="utf-8")
    (stubs / "python3").write_text(recorder + 'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; '
                                   f'cp "$0" "$3/bin/python"; fi\n', encoding="utf-8")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "GRADER_VENV": str(tmp_path / "venv")}
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install") and {"python3-venv", "bubblewrap", "git"} <= set(calls[1].split())
    assert calls[2] == f"python3 -m venv {tmp_path / 'venv'}"
    assert calls[-1] == f"python -m pip install --quiet {SPEC}"


def test_a_wheel_goes_into_the_zip(tmp_path: Path) -> None:
    wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip is enough to be copied
    path = tmp_path / "w.zip"
    out = CliRunner().invoke(main, ["init-gradescope", "-a", "task1", "-o", str(path), "--grader-spec", str(wheel)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(path) as archive:
        assert archive.read(wheel.name) == wheel.read_bytes()
        assert f"'grader[students] @ file:///autograder/source/{wheel.name}'" in archive.read("setup.sh").decode()


@pytest.mark.kernel
def test_run_autograder_grades_a_sample_as_gradescope_runs_it(tmp_path: Path) -> None:
    root = fake_root(tmp_path, bundle(tmp_path, "--lang", "en"), REPO / "submissions" / "task1" / "ivanov_ivan")
    (root / "submission_metadata.json").write_text(json.dumps({"created_at": "2025-03-01T12:00:00.000000+03:00",
                                                               "users": [{"name": "Ivan Ivanov"}]}), encoding="utf-8")
    done, data = run_autograder(root)
    assert done.returncode == 0, done.stderr
    assert_gradescope_format(data)
    expected = yaml.safe_load((REPO / "submissions" / "task1" / "EXPECTED.yaml").read_text(encoding="utf-8"))
    rubric = yaml.safe_load((REPO / "rubrics" / "task1.yaml").read_text(encoding="utf-8"))
    points = {c["id"]: c["points"] for c in rubric["checks"]}
    shares = expected["ivanov_ivan"]["checks"]
    assert data["score"] == pytest.approx(sum(points[c] * share for c, share in shares.items()))
    assert [t["extra_data"]["check_id"] for t in data["tests"]] == [c["id"] for c in rubric["checks"]]
    assert all(t["status"] == "passed" for t in data["tests"])
    assert "score" in done.stdout and "sandbox:" in done.stdout  # the instructor's log


def test_a_submission_without_a_notebook_gets_a_result_that_says_why(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("I will send it later", encoding="utf-8")
    root = fake_root(tmp_path, bundle(tmp_path, "--lang", "en"), work)
    done, data = run_autograder(root)
    assert done.returncode == 0
    assert_gradescope_format(data)
    assert data["score"] == 0 and data["output"]
    assert any(t["status"] == "failed" for t in data["tests"])


def test_an_unreadable_rubric_still_writes_a_failing_result(tmp_path: Path) -> None:
    root = fake_root(tmp_path, bundle(tmp_path, "--lang", "en"), None)
    (root / "source" / "task1.yaml").write_text("assignment: [unclosed\n", encoding="utf-8")
    done, data = run_autograder(root)
    assert done.returncode == 0
    assert_gradescope_format(data)
    assert data["score"] == 0 and data["tests"][0]["name"] == "The grader" and "task1.yaml" in data["tests"][0]["output"]


def test_the_submission_time_is_gradescopes(tmp_path: Path) -> None:
    from grader.gradescope import submission_time

    assert submission_time(tmp_path) is None  # no metadata: no time, no penalty
    (tmp_path / "submission_metadata.json").write_text(
        json.dumps({"created_at": "2018-07-01T14:22:32.365935-07:00", "previous_submissions": []}), encoding="utf-8")
    when = submission_time(tmp_path)
    assert when is not None and when.source == "gradescope" and when.at.isoformat() == "2018-07-01T14:22:32.365935-07:00"
    (tmp_path / "submission_metadata.json").write_text('{"created_at": "yesterday"}', encoding="utf-8")
    assert submission_time(tmp_path) is None
