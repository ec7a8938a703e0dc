"""GitHub Classroom: grade the repository a workflow runs in, and write that workflow.

``grader ci`` produces what the Classroom grading reporter
(``classroom-resources/autograding-grading-reporter@v1``) reads from a runner step: a step
output named ``result`` holding base64 of the JSON that Classroom's own runners write
(``autograding-command-grader``)::

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": 8,
     "tests": [{"name": ..., "status": "pass" | "fail" | "error", "score": 1.5, "message": ...,
                "test_code": "", "filename": ..., "line_no": 0, "duration": 0}, ...]}

The reporter reads it from the environment variable ``<RUNNER ID>_RESULTS`` (the id upper-cased),
adds up the tests' scores against ``max_score`` (so partial credit stays fractional), posts
``Points X/Y`` to Classroom and fails the job when a runner's status is ``fail`` or ``error``.
So ``grader ci`` exits 0 whenever it wrote a result, as Classroom's runners do, and leaves
failing to the reporter; it exits 2 only when it could not write one.

Checks a student may not see yet keep their points (Classroom needs the total) but lose their
names and messages: the Actions log is readable by the student.
"""
from __future__ import annotations

import base64
import json
import logging
import shlex
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grader
from grader.errors import GraderError, IntakeError
from grader.grading import GradeOptions, grade_one
from grader.i18n import tr
from grader.intake import discover
from grader.late import SubmissionClock
from grader.report.html import format_number, format_points
from grader.results import SubmissionResult
from grader.rubric.schema import Rubric, text
from grader.sandbox.detect import SandboxKind, get_sandbox
from grader.selfcheck import shown_to_students

logger = logging.getLogger(__name__)

RUNNER_ID = "grader"
RESULT_VERSION = 1
MAX_MESSAGE_CHARS = 2000  # GitHub caps a step's outputs at 1 MB in all
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
WORKFLOW_PATH = Path(".github/workflows/classroom.yml")
RUBRIC_DIR = Path(".github/classroom")
_STATUS = {"pass": "pass", "partial": "fail", "fail": "fail", "error": "error", "manual": "fail"}


@dataclass(frozen=True)
class CiOutcome:
    payload: dict[str, Any]
    summary: str  # Markdown for $GITHUB_STEP_SUMMARY
    points_line: str  # "Points 7.5/8"


# --- the result ---------------------------------------------------------------------------------


def classroom_payload(result: SubmissionResult, rubric: Rubric, lang: str, now: datetime) -> dict[str, Any]:
    """The reporter's JSON for one graded repository (see the module docstring)."""
    specs = {c.id: c for c in rubric.checks}
    tests: list[dict[str, Any]] = []
    hidden_number = 0
    required_ok = True
    for check in result.checks:
        spec = specs.get(check.id)
        shown = shown_to_students(check.visibility, rubric.due, now)
        if shown:
            name = check.title
            message = tr(lang, "ci.manual") if check.status == "manual" else check.message
            message = f"{format_points(check.points)}/{format_points(check.max_points)}: {message}"
        else:
            hidden_number += 1
            name = tr(lang, "ci.hidden_name", number=hidden_number)
            message = tr(lang, "ci.hidden_message")
        if spec is not None and not spec.bonus and check.status not in ("pass", "manual"):
            required_ok = False
        tests.append(_test(name, _STATUS.get(check.status, "error"), check.points, message, result.submission))
    if result.penalty:
        note = tr(lang, "ci.late_message", time=result.submitted_at or "?", days=result.late_days,
                  penalty=format_points(result.penalty))
        tests.append(_test(tr(lang, "ci.late_name"), "fail", -result.penalty, note, result.submission))
    if result.status != "graded":
        status = "error"
        tests.insert(0, _test(result.submission, "error", 0.0,
                              tr(lang, "ci.not_run", error=result.error or result.status), result.submission))
    else:
        status = "pass" if required_ok else "fail"
    return {"version": RESULT_VERSION, "status": status, "max_score": _number(rubric.max_score), "tests": tests}


def error_payload(message: str) -> dict[str, Any]:
    """The reporter's JSON when the grader could not grade at all (bad rubric, no notebook...)."""
    return {"version": RESULT_VERSION, "status": "error", "max_score": 0,
            "tests": [_test("grader", "error", 0.0, message, "")]}


def _test(name: str, status: str, score: float, message: str, filename: str) -> dict[str, Any]:
    return {"name": name, "status": status, "score": _number(score), "message": message[:MAX_MESSAGE_CHARS],
            "test_code": "", "filename": filename, "line_no": 0, "duration": 0}


def _number(value: float) -> float | int:
    value = round(float(value), 4)
    return int(value) if value == int(value) else value


def encode_payload(payload: dict[str, Any]) -> str:
    """base64 of the compact UTF-8 JSON, on one line, as the reporter decodes it."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode_payload(encoded: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(encoded).decode("utf-8"))  # type: ignore[no-any-return]


def points_line(payload: dict[str, Any]) -> str:
    """``Points X/Y`` as the reporter posts it to Classroom (sum of test scores / max_score)."""
    total = sum(float(t.get("score") or 0) for t in payload.get("tests", []))
    return f"Points {format_number(round(total, 4))}/{format_number(float(payload.get('max_score') or 0))}"


def summary_markdown(payload: dict[str, Any], title: str, lang: str, footer: str) -> str:
    """A Markdown table of the tests for the job summary page."""
    total = sum(float(t.get("score") or 0) for t in payload["tests"])
    if payload["status"] == "error" and not payload["max_score"]:
        heading = tr(lang, "ci.error_title")
    else:
        heading = tr(lang, "ci.summary_title", title=title, points=format_number(round(total, 4)),
                     max=format_number(float(payload["max_score"])))
    icons = {"pass": "✅", "fail": "❌", "error": "⚠️"}
    rows = [f"## {heading}", "",
            f"| | {tr(lang, 'selfcheck.col.check')} | {tr(lang, 'selfcheck.col.points')} | "
            f"{tr(lang, 'selfcheck.col.message')} |",
            "|---|---|---|---|"]
    for t in payload["tests"]:
        rows.append(f"| {icons.get(t['status'], '')} | {_cell(t['name'])} | {format_number(float(t['score']))} | "
                    f"{_cell(t['message'])} |")
    rows += ["", f"> {footer}", ""]
    return "\n".join(rows)


def _cell(value: str) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def write_step_output(path: Path, name: str, value: str) -> None:
    """Append ``name`` to a $GITHUB_OUTPUT file; a multi-line value uses the delimiter form."""
    with path.open("a", encoding="utf-8") as fh:
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            fh.write(f"{name}={value}\n")


def append_summary(path: Path, markdown: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown + "\n")


# --- grading the repository ---------------------------------------------------------------------


def grade_repository(repo: Path, rubric: Rubric, *, lang: str, sandbox: SandboxKind = "auto",
                     out_dir: Path | None = None, now: datetime | None = None) -> CiOutcome:
    """Grade the student's repository at ``repo`` and build the reporter's result.

    Raises GraderError when the grader cannot work at all (the caller writes an error result).
    """
    now = now or datetime.now(timezone.utc)
    work = Path(tempfile.mkdtemp(prefix="grader-ci-")) if out_dir is None else out_dir
    work.mkdir(parents=True, exist_ok=True)
    try:
        subs = discover(repo, patterns=tuple(rubric.entry.patterns), unpack_dir=work / ".unpacked",
                        lang=lang, entry_hints=tuple(rubric.entry.hints), single=True)
        if len(subs) != 1:
            raise IntakeError(tr(lang, "selfcheck.one_submission", path=str(repo), count=len(subs)))
        sub = subs[0]
        when = None
        if rubric.due is not None:
            when = SubmissionClock(zone=rubric.due.tzinfo).time_of(sub, lang)
        result = grade_one(sub, rubric, get_sandbox(sandbox, fallback=True), work, lang,
                           GradeOptions(out_dir=work, lang=lang, force=True), when=when)
    finally:
        if out_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    payload = classroom_payload(result, rubric, lang, now)
    footer = tr(lang, "selfcheck.may_differ")
    return CiOutcome(payload, summary_markdown(payload, text(rubric.title, lang), lang, footer), points_line(payload))


def failed_outcome(message: str, lang: str) -> CiOutcome:
    payload = error_payload(message)
    return CiOutcome(payload, summary_markdown(payload, "", lang, message), points_line(payload))


# --- the workflow -------------------------------------------------------------------------------


def default_grader_spec() -> str | None:
    """``grader[students] @ git+<origin>@<commit>`` when the grader runs from a git checkout
    with an ``origin`` remote (our own repository, trusted); None otherwise."""
    checkout = Path(grader.__file__).resolve().parent.parent
    git = shutil.which("git")
    if git is None or not (checkout / ".git").exists():
        return None
    try:
        url = subprocess.run([git, "-C", str(checkout), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        rev = subprocess.run([git, "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or not rev:
        return None
    if url.startswith("git@github.com:"):
        url = "https://github.com/" + url.removeprefix("git@github.com:")
    return f"grader[students] @ git+{url}@{rev}"


def workflow_text(rubric_arg: str, grader_spec: str, python: str, assignment: str) -> str:
    """The GitHub Actions workflow for a student template repository."""
    return f"""\
# Written by `grader init-classroom -a {assignment}` (grader {grader.__version__}).
# GitHub Classroom runs it on every push: the grader grades this repository and the
# reporter sends the points to Classroom.
name: Autograding Tests
'on':
  - push
  - repository_dispatch
  - workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: '{python}'
      - name: Install the grader
        run: |
          python -m pip install --quiet {shlex.quote(grader_spec)}
          if [ -f requirements.txt ]; then python -m pip install --quiet -r requirements.txt; fi
      - name: Grade
        id: {RUNNER_ID}
        run: grader ci -a {shlex.quote(rubric_arg)}
      - name: Autograding Reporter
        uses: {REPORTER}
        env:
          {RUNNER_ID.upper()}_RESULTS: "${{{{ steps.{RUNNER_ID}.outputs.result }}}}"
        with:
          runners: {RUNNER_ID}
"""


def write_classroom_files(repo: Path, rubric: Rubric, *, grader_spec: str, python: str = "3.11",
                          force: bool = False, lang: str = "ru") -> list[Path]:
    """Write the workflow and a copy of the rubric into the template repository ``repo``.

    Refuses (GraderError) to overwrite either file unless ``force``.
    """
    source = rubric.source_path
    if source is None:
        raise GraderError("the rubric was not loaded from a file, so it cannot be copied")
    rubric_rel = RUBRIC_DIR / f"{rubric.assignment}{source.suffix or '.yaml'}"
    targets = [repo / WORKFLOW_PATH, repo / rubric_rel]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise GraderError(tr(lang, "classroom.exists", paths=", ".join(existing)))
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
    targets[1].write_bytes(source.read_bytes())
    targets[0].write_text(workflow_text(rubric_rel.as_posix(), grader_spec, python, rubric.assignment),
                          encoding="utf-8")
    return targets
