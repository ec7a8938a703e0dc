"""GitHub Classroom: grade the repository a workflow runs in, and write that workflow.

``grader ci`` produces what the Classroom grading reporter
(``classroom-resources/autograding-grading-reporter@v1``) reads from runner steps: for each
runner id listed in its ``runners`` input, base64 of the JSON that Classroom's own runners write
(``autograding-command-grader``), in the environment variable ``<RUNNER ID>_RESULTS``::

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": 8,
     "tests": [{"name": ..., "status": "pass" | "fail" | "error", "score": 1.5, "message": ...,
                "test_code": "", "filename": ..., "line_no": 0, "duration": 0}, ...]}

What the reporter does with them (its source, src/notify-classroom.js and
src/helpers/test-helpers.js): Classroom gets ``Points X/Y`` where X adds up every test's
``score`` and Y every ``max_score``, over the runners whose ``max_score`` is not 0; its log
prints, per runner, ``passed tests / all tests x max_score`` and a table totalling those. The two
agree only when every runner's tests all pass or all fail. So one graded repository is three
runners, all written by one step (``GRADER_STEP``):

- ``grader`` (output ``checks``): one test per check, with its points and message, and
  ``max_score`` 0: the reporter lists it and counts none of it;
- ``earned`` (output ``earned``): one passing test worth the score (net of late penalties),
  ``max_score`` = the score;
- ``remaining`` (output ``remaining``): one failing test worth 0, ``max_score`` = the rubric's
  maximum minus the score (negative when bonus points carry the score above the maximum: the
  maximum Classroom shows stays the rubric's).

Log and Classroom then both say e.g. ``4.5/6``. Scores are rounded to hundredths, as every
report gives them. The job fails (the reporter fails it for a runner whose status is ``fail`` or
``error``) when the ``grader`` runner says so. When the grader cannot grade at all (no rubric,
no notebook), the ``remaining`` runner still carries the maximum (``--max-score``, written into
the workflow), so Classroom shows 0 points rather than nothing. The step output ``result`` keeps
the one-runner form that workflows written by earlier versions read.
``grader ci`` exits 0 whenever it wrote a result, as Classroom's runners do, and leaves failing
to the reporter; it exits 2 only when it could not write one.

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
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grader
from grader.errors import GraderError
from grader.hosted import grade_folder
from grader.i18n import tr
from grader.report.html import format_number, round_points, shown_points
from grader.results import SubmissionResult
from grader.rubric.schema import Rubric, text
from grader.sandbox.detect import SandboxKind
from grader.selfcheck import shown_to_students

logger = logging.getLogger(__name__)

GRADER_STEP = "grader"  # the workflow step's id
RUNNERS = {"grader": "checks", "earned": "earned", "remaining": "remaining"}  # runner id -> step output
LEGACY_OUTPUT = "result"  # the one-runner payload of workflows written before the three runners
RESULT_VERSION = 1
MAX_MESSAGE_CHARS = 2000  # GitHub caps a step's outputs at 1 MB in all
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
WORKFLOW_PATH = Path(".github/workflows/classroom.yml")
RUBRIC_DIR = Path(".github/classroom")
_STATUS = {"pass": "pass", "partial": "fail", "fail": "fail", "error": "error", "manual": "fail"}


@dataclass(frozen=True)
class CiOutcome:
    runners: dict[str, dict[str, Any]]  # runner id -> the reporter's JSON for it
    legacy: dict[str, Any]  # the one-runner form, step output ``result``
    summary: str  # Markdown for $GITHUB_STEP_SUMMARY
    points_line: str  # "Points 7.5/8", as Classroom gets it

    def outputs(self) -> dict[str, str]:
        """Step output name -> encoded value."""
        encoded = {RUNNERS[runner]: encode_payload(payload) for runner, payload in self.runners.items()}
        return {**encoded, LEGACY_OUTPUT: encode_payload(self.legacy)}


# --- the result ---------------------------------------------------------------------------------


def check_tests(result: SubmissionResult, rubric: Rubric, lang: str, now: datetime) -> tuple[list[dict[str, Any]], str]:
    """One reporter test per check (hidden ones anonymous), the late penalty, and the status."""
    specs = {c.id: c for c in rubric.checks}
    tests: list[dict[str, Any]] = []
    hidden_number = 0
    required_ok = True
    for check in result.checks:
        spec = specs.get(check.id)
        if shown_to_students(check.visibility, rubric.due, now):
            name = check.title
            message = tr(lang, "ci.manual") if check.status == "manual" else check.message
            message = f"{shown_points(check.points, lang)}/{shown_points(check.max_points, lang)}: {message}"
        else:
            hidden_number += 1
            name = tr(lang, "ci.hidden_name", number=hidden_number)
            message = tr(lang, "ci.hidden_message")
        if spec is not None and not spec.bonus and check.status not in ("pass", "manual"):
            required_ok = False
        tests.append(_test(name, _STATUS.get(check.status, "error"), check.points, message, result.submission))
    if result.penalty:
        note = tr(lang, "ci.late_message", time=result.submitted_at or "?", days=result.late_days,
                  penalty=round_points(result.penalty))
        tests.append(_test(tr(lang, "ci.late_name"), "fail", -result.penalty, note, result.submission))
    if result.status != "graded":
        tests.insert(0, _test(tr(lang, "ci.not_run_name"), "error", 0.0,
                              tr(lang, "ci.not_run", error=result.error or result.status), result.submission))
        return tests, "error"
    return tests, "pass" if required_ok else "fail"


def classroom_outcome(result: SubmissionResult, rubric: Rubric, lang: str, now: datetime) -> CiOutcome:
    """The reporter's three runners (and the legacy one) for one graded repository."""
    tests, status = check_tests(result, rubric, lang, now)
    footer = tr(lang, "selfcheck.may_differ")
    return _outcome(tests, status, result.score, rubric.max_score, text(rubric.title, lang), lang, footer)


def failed_outcome(message: str, lang: str, max_score: float | None = None) -> CiOutcome:
    """When the grader could not grade at all (bad rubric, no notebook...): an error Classroom
    sees, 0 of the rubric's maximum (``max_score``; 1 when even that is unknown)."""
    tests = [_test(tr(lang, "ci.grader_name"), "error", 0.0, message, "")]
    return _outcome(tests, "error", 0.0, max_score or 1.0, "", lang, message)


def _outcome(tests: list[dict[str, Any]], status: str, score: float, max_score: float, title: str,
             lang: str, footer: str) -> CiOutcome:
    total, maximum = round_points(score), round_points(max_score)
    rest = round_points(maximum - total)
    earned = _test(tr(lang, "ci.earned_name"), "pass" if total > 0 else "fail", total,
                   tr(lang, "ci.earned_message", points=total, max=maximum), "")
    if rest >= 0:
        remaining = _test(tr(lang, "ci.remaining_name"), "fail", 0.0,
                          tr(lang, "ci.remaining_message", points=rest), "")
    else:
        remaining = _test(tr(lang, "ci.bonus_name"), "fail", 0.0,
                          tr(lang, "ci.bonus_message", points=-rest, max=maximum), "")
    runners = {
        "grader": _payload(status, 0, tests),
        "earned": _payload("pass", total, [earned]),
        "remaining": _payload("pass", rest, [remaining]),
    }
    legacy = _payload(status, maximum, tests)
    summary = summary_markdown(tests, status, total, maximum, title, lang, footer)
    return CiOutcome(runners, legacy, summary, points_line(runners))


def _payload(status: str, max_score: float, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": RESULT_VERSION, "status": status, "max_score": _number(max_score), "tests": tests}


def _test(name: str, status: str, score: float, message: str, filename: str) -> dict[str, Any]:
    return {"name": name, "status": status, "score": _number(score), "message": message[:MAX_MESSAGE_CHARS],
            "test_code": "", "filename": "" if filename == "." else filename, "line_no": 0, "duration": 0}


def _number(value: float) -> float | int:
    value = round_points(value)
    return int(value) if value == int(value) else value


def encode_payload(payload: dict[str, Any]) -> str:
    """base64 of the compact UTF-8 JSON, on one line, as the reporter decodes it."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode_payload(encoded: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(encoded).decode("utf-8"))  # type: ignore[no-any-return]


def reporter_points(runners: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """(total, maximum) as the reporter sends them to Classroom: src/notify-classroom.js adds,
    in the runners' order and in doubles, every test's score and every max_score of the runners
    whose max_score is not 0."""
    total, maximum = 0.0, 0.0
    for payload in runners.values():
        if not payload.get("max_score"):
            continue
        maximum += payload["max_score"]
        for test in payload.get("tests", []):
            total += test.get("score", 0)
    return total, maximum


def reporter_log(runners: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """(total, maximum) of the reporter's log table (src/aggregate-results.js with
    src/helpers/test-helpers.js getTestScore: passed tests / all tests x max_score per runner)."""
    total, maximum = 0.0, 0.0
    for payload in runners.values():
        tests = payload.get("tests", [])
        runner_max = payload.get("max_score") or 0
        passed = sum(1 for t in tests if t.get("status") == "pass")
        total += passed / len(tests) * runner_max if tests else float("nan")
        maximum += runner_max
    return total, maximum


def js_number(value: float) -> str:
    """A number as JavaScript prints it in a template string (shortest round-trip digits)."""
    return str(int(value)) if value == int(value) else repr(value)


def points_line(runners: dict[str, dict[str, Any]]) -> str:
    """``Points X/Y`` exactly as the reporter posts it to Classroom."""
    total, maximum = reporter_points(runners)
    return f"Points {js_number(total)}/{js_number(maximum)}"


def summary_markdown(tests: list[dict[str, Any]], status: str, total: float, maximum: float, title: str,
                     lang: str, footer: str) -> str:
    """A Markdown table of the tests for the job summary page."""
    if status == "error" and not title:
        heading = tr(lang, "ci.error_title")
    else:
        heading = tr(lang, "ci.summary_title", title=title, points=total, max=maximum)
    icons = {"pass": "✅", "fail": "❌", "error": "⚠️"}
    rows = [f"## {heading}", "",
            f"| | {tr(lang, 'selfcheck.col.check')} | {tr(lang, 'selfcheck.col.points')} | "
            f"{tr(lang, 'selfcheck.col.message')} |",
            "|---|---|---|---|"]
    for t in tests:
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
    """Grade the student's repository at ``repo`` and build the reporter's runners.

    Raises GraderError when the grader cannot work at all (the caller writes an error result).
    """
    result = grade_folder(repo, rubric, lang=lang, sandbox=sandbox, out_dir=out_dir)
    return classroom_outcome(result, rubric, lang, now or datetime.now(timezone.utc))


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


def workflow_text(rubric_arg: str, grader_spec: str, python: str, assignment: str, max_score: float) -> str:
    """The GitHub Actions workflow for a student template repository."""
    env = "\n".join(f"          {runner.upper()}_RESULTS: \"${{{{ steps.{GRADER_STEP}.outputs.{output} }}}}\""
                     for runner, output in RUNNERS.items())
    return f"""\
# Written by `grader init-classroom -a {assignment}` (grader {grader.__version__}).
# GitHub Classroom runs it on every push: the grader grades this repository and the
# reporter sends the points to Classroom. The three runners keep the reporter's log and
# Classroom's points equal (see grader/classroom.py).
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
        id: {GRADER_STEP}
        run: grader ci -a {shlex.quote(rubric_arg)} --max-score {format_number(max_score)}
      - name: Autograding Reporter
        uses: {REPORTER}
        env:
{env}
        with:
          runners: {",".join(RUNNERS)}
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
    targets[0].write_text(workflow_text(rubric_rel.as_posix(), grader_spec, python, rubric.assignment,
                                        rubric.max_score), encoding="utf-8")
    return targets
