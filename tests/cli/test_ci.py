"""`grader ci` in an emulated GitHub Actions step, and `grader init-classroom`.

The runner's environment is imitated with temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files;
the `result` output is decoded exactly as the Classroom reporter does (base64 of JSON). Grading
itself is replaced by canned results where running a notebook is not the point.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from grader import classroom, hosted
from grader.cli import main
from grader.late import apply_lateness
from grader.results import CheckResult, SubmissionResult
from grader.rubric.schema import Rubric, text

RUBRIC = """\
assignment: t1
title: {ru: "Задание", en: "Task"}
lang: en
due: 2000-01-01T00:00:00+03:00
checks:
  - {id: func, title: "Function", points: 1, kind: gd.function}
  - {id: steps, title: "Steps", points: 2, kind: gd.steps}
  - {id: secret, title: "SECRET-TITLE", points: 2, kind: gd.plot, visibility: hidden}
  - {id: later, title: "After the deadline", points: 1, kind: gd.stop_rule, visibility: after_due}
  - {id: extra, title: "Bonus", points: 1, kind: gd.momentum, bonus: true}
"""
SHARES = {"func": 1.0, "steps": 0.75, "secret": 0.5, "later": 1.0, "extra": 0.0}


def canned(shares: dict[str, float]):  # type: ignore[no-untyped-def]
    """A stand-in for grading.grade_one: points = share * check points, one message per check."""

    def fake(sub, rubric: Rubric, box, out, lang, options, when=None, **kw) -> SubmissionResult:  # type: ignore[no-untyped-def]
        checks = []
        for spec in rubric.checks:
            share = shares[spec.id]
            status = "pass" if share == 1 else ("fail" if share == 0 else "partial")
            checks.append(CheckResult(spec.id, text(spec.title, lang), status, spec.points * share,  # type: ignore[arg-type]
                                      spec.points, f"MESSAGE-{spec.id.upper()}", visibility=spec.visibility))
        score = sum(c.points for c in checks)
        result = SubmissionResult(sub.student, "hw.ipynb", sub.sha256, "graded", score, rubric.max_score, 0.1,
                                  None, tuple(checks))
        return apply_lateness(result, when, rubric, lang)

    return fake


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "task1-ivanov"
    path.mkdir()
    (path / "hw.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                   encoding="utf-8")
    (path / "rubric.yaml").write_text(RUBRIC, encoding="utf-8")
    return path


@pytest.fixture
def actions(tmp_path: Path) -> dict[str, str]:
    """The variables a GitHub-hosted runner sets for a step (files start with another step's output)."""
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n", encoding="utf-8")
    summary = tmp_path / "step_summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_REPOSITORY": "course/task1-ivanov",
            "GITHUB_ACTOR": "ivanov", "GITHUB_RUN_ID": "42", "RUNNER_TEMP": str(tmp_path)}


def step_outputs(path: Path) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file the way the runner does (name=value and name<<DELIMITER)."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
    return outputs


def run_ci(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Result:
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, ["ci", *args], env=env, catch_exceptions=False)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["ci", *args], env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


WORKFLOW = yaml.safe_load(classroom.workflow_text("rubric.yaml", "grader", "3.11", "t1", 6))
REPORTER_STEP = WORKFLOW["jobs"]["run-autograding-tests"]["steps"][-1]


def reporter_view(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What the reporter gets, wired as the workflow wires it: for each runner in `runners`, the
    env variable <RUNNER>_RESULTS, set from `${{ steps.grader.outputs.NAME }}`, base64 JSON."""
    outputs = step_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["earlier"] == "1"  # appended, not overwritten
    view = {}
    for runner in REPORTER_STEP["with"]["runners"].split(","):
        expression = REPORTER_STEP["env"][f"{runner.strip().upper()}_RESULTS"]
        name = re.fullmatch(r"\$\{\{ steps\.grader\.outputs\.(\w+) \}\}", expression).group(1)  # type: ignore[union-attr]
        view[runner] = json.loads(base64.b64decode(outputs[name]).decode("utf-8"))
    return view


def checks_of(view: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return view["grader"]


def test_ci_writes_the_reporter_result_with_fractional_scores(monkeypatch, repo: Path, actions: dict[str, str]) -> None:
    monkeypatch.setattr(hosted, "grade_one", canned(SHARES))
    out = run_ci(["-a", "rubric.yaml", "--sandbox", "plain"], actions, cwd=repo)
    assert out.exit_code == 0, out.output
    view = reporter_view(actions)
    payload = checks_of(view)
    assert set(payload) == {"version", "status", "max_score", "tests"}
    assert payload["version"] == 1 and payload["max_score"] == 0 and payload["status"] == "fail"
    tests = payload["tests"]
    assert [t["name"] for t in tests] == ["Function", "Steps", "Hidden check 1", "After the deadline", "Bonus"]
    assert all(set(t) >= {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
               for t in tests)
    assert [t["score"] for t in tests] == [1, 1.5, 1, 1, 0]  # 0.75 of 2 stays 1.5
    assert [t["status"] for t in tests] == ["pass", "fail", "fail", "pass", "fail"]
    assert tests[1]["message"] == "1.5/2: MESSAGE-STEPS"
    assert classroom.reporter_points(view) == classroom.reporter_log(view) == (4.5, 6)  # Classroom and the log
    assert "Points 4.5/6" in out.output
    summary = Path(actions["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("# Earlier step\n") and "Task: 4.5 of 6" in summary and "| Steps | 1.5 |" in summary
    for shown in (json.dumps(view, ensure_ascii=False), summary, out.output):
        assert "SECRET-TITLE" not in shown and "MESSAGE-SECRET" not in shown
    legacy = json.loads(base64.b64decode(step_outputs(Path(actions["GITHUB_OUTPUT"]))["result"]))
    assert legacy["max_score"] == 6 and legacy["tests"] == tests  # what older workflows read


def test_ci_passes_when_every_required_check_passes(monkeypatch, repo: Path, actions: dict[str, str]) -> None:
    monkeypatch.setattr(hosted, "grade_one", canned({**{k: 1.0 for k in SHARES}, "extra": 0.0}))
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"], actions)
    assert out.exit_code == 0
    view = reporter_view(actions)
    assert checks_of(view)["status"] == "pass"  # a missed bonus does not fail the run
    assert all(p["status"] == "pass" for p in view.values())
    assert classroom.reporter_points(view) == classroom.reporter_log(view) == (6, 6)
    assert "Points 6/6" in out.output


def test_after_due_checks_stay_hidden_before_the_deadline(monkeypatch, repo: Path, actions: dict[str, str]) -> None:
    (repo / "rubric.yaml").write_text(RUBRIC.replace("2000-01-01", "2999-01-01"), encoding="utf-8")
    monkeypatch.setattr(hosted, "grade_one", canned(SHARES))
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"], actions)
    names = [t["name"] for t in checks_of(reporter_view(actions))["tests"]]
    assert names == ["Function", "Steps", "Hidden check 1", "Hidden check 2", "Bonus"]
    assert "After the deadline" not in out.output + Path(actions["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


def test_a_missing_rubric_is_a_failing_result_classroom_sees(repo: Path, actions: dict[str, str]) -> None:
    out = run_ci(["-a", str(repo / "missing.yaml"), "--path", str(repo), "--max-score", "6", "--lang", "en"], actions)
    assert out.exit_code == 0
    view = reporter_view(actions)
    payload = checks_of(view)
    assert payload["status"] == "error"  # the reporter fails the job
    assert payload["tests"][0]["status"] == "error" and "missing.yaml" in payload["tests"][0]["message"]
    assert payload["tests"][0]["name"] == "The grader"
    # the reporter posts nothing when the maxima add up to 0: here Classroom gets 0 of 6
    assert classroom.reporter_points(view) == classroom.reporter_log(view) == (0, 6)
    assert "Points 0/6" in out.output
    unknown = run_ci(["-a", str(repo / "missing.yaml"), "--path", str(repo)], actions)
    assert "Points 0/1" in unknown.output  # no --max-score: still a failing 0 Classroom sees


def test_a_repository_without_a_notebook_is_an_error_result(repo: Path, actions: dict[str, str]) -> None:
    (repo / "hw.ipynb").unlink()
    (repo / "notes.txt").write_text("nothing to grade", encoding="utf-8")
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"], actions)
    assert out.exit_code == 0
    view = reporter_view(actions)
    payload = checks_of(view)
    assert payload["status"] == "error"
    assert payload["tests"][0]["status"] == "error" and payload["tests"][0]["name"] == "Running the work"
    assert all(t["name"] not in ("", ".") for t in payload["tests"])
    assert classroom.reporter_points(view) == (0, 6)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_late_commit_costs_points_in_the_result(monkeypatch, repo: Path, actions: dict[str, str]) -> None:
    late_rubric = RUBRIC.replace("due: 2000-01-01T00:00:00+03:00",
                                 "due: 2025-03-03T23:59:00+03:00\nlate: {per_day: 0.1, max_days: 7}")
    (repo / "rubric.yaml").write_text(late_rubric, encoding="utf-8")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2025-03-05T10:00:00+03:00", "GIT_CONFIG_GLOBAL": os.devnull}
    for argv in (["init", "-q"], ["add", "hw.ipynb"], ["-c", "user.name=s", "-c", "user.email=s@x", "commit", "-qm", "hw"]):
        subprocess.run(["git", *argv], cwd=repo, env=env, check=True)
    monkeypatch.setattr(hosted, "grade_one", canned({k: 1.0 for k in SHARES}))
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"], actions)
    view = reporter_view(actions)
    tests = checks_of(view)["tests"]
    assert tests[-1]["name"] == "Late penalty" and tests[-1]["score"] == -1.4  # 2 days x 10% of 7 points
    assert classroom.reporter_points(view) == classroom.reporter_log(view) == (5.6, 6)  # exactly, not 5.6000000001
    assert "Points 5.6/6" in out.output


def test_without_github_output_the_result_is_printed(monkeypatch, repo: Path) -> None:
    monkeypatch.setattr(hosted, "grade_one", canned(SHARES))
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"],
                 {"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""})
    assert out.exit_code == 0
    line = next(l for l in out.output.splitlines() if l.startswith("REMAINING_RESULTS="))
    assert json.loads(base64.b64decode(line.split("=", 1)[1]))["max_score"] == 1.5


def test_unwritable_github_output_exits_2(monkeypatch, repo: Path, actions: dict[str, str], tmp_path: Path) -> None:
    monkeypatch.setattr(hosted, "grade_one", canned(SHARES))
    out = run_ci(["-a", str(repo / "rubric.yaml"), "--path", str(repo), "--sandbox", "plain"],
                 {**actions, "GITHUB_OUTPUT": str(tmp_path)})
    assert out.exit_code == 2


def test_step_output_uses_the_delimiter_form_for_multiline_values(tmp_path: Path) -> None:
    path = tmp_path / "out"
    classroom.write_step_output(path, "one", "abc")
    classroom.write_step_output(path, "many", "a\nb=c\nd")
    assert step_outputs(path) == {"one": "abc", "many": "a\nb=c\nd"}


def test_partial_result_status_mapping() -> None:
    result = SubmissionResult("s", "hw.ipynb", "", "graded", 0.5, 1.0, 0.0, None,
                              (CheckResult("a", "A", "manual", 0.0, 1.0, "later"),
                               CheckResult("b", "B", "error", 0.0, 1.0, "boom")))
    rubric = Rubric.model_validate({"assignment": "x", "title": "X", "checks": [
        {"id": "a", "title": "A", "points": 1, "kind": "k"}, {"id": "b", "title": "B", "points": 1, "kind": "k"}]})
    tests, status = classroom.check_tests(result, rubric, "en", datetime.now(timezone.utc))
    assert [t["status"] for t in tests] == ["fail", "error"]
    assert tests[0]["message"].endswith("Awaiting the instructor's review.")
    assert status == "fail"


# --- init-classroom -----------------------------------------------------------------------------


def test_init_classroom_writes_the_workflow_and_refuses_to_overwrite(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    spec = "grader[students] @ git+https://example.org/course/grader.git@v0.1.0"
    runner = CliRunner()
    args = ["init-classroom", "-a", "task1", "--path", str(template), "--grader-spec", spec]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    workflow_path = template / ".github" / "workflows" / "classroom.yml"
    flow = yaml.safe_load(workflow_path.read_text(encoding="utf-8"))
    assert set(flow["on"]) >= {"push"} and flow["permissions"]["checks"] == "write"
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert spec in install["run"]
    grade = next(s for s in steps if s.get("id") == "grader")
    assert grade["run"] == "grader ci -a .github/classroom/task1.yaml --max-score 8"
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == "grader,earned,remaining"
    assert reporter["env"] == {"GRADER_RESULTS": "${{ steps.grader.outputs.checks }}",
                               "EARNED_RESULTS": "${{ steps.grader.outputs.earned }}",
                               "REMAINING_RESULTS": "${{ steps.grader.outputs.remaining }}"}
    copy = template / ".github" / "classroom" / "task1.yaml"
    assert copy.read_bytes() == (Path(__file__).resolve().parents[2] / "rubrics" / "task1.yaml").read_bytes()

    workflow_path.write_text("# edited by hand\n", encoding="utf-8")
    again = runner.invoke(main, args)
    assert again.exit_code != 0 and "--force" in again.output
    assert workflow_path.read_text(encoding="utf-8") == "# edited by hand\n"
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0 and "classroom-resources" in workflow_path.read_text(encoding="utf-8")
