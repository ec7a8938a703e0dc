"""Gradescope: the autograder bundle (``grader init-gradescope``) and what runs inside it
(``grader gradescope-run``).

Gradescope's autograder specification (gradescope/autograder_samples, docs/specs.md) and what
this module does for each point:

- The zip holds ``setup.sh`` and ``run_autograder`` at its root. ``setup.sh`` runs once, as
  root, on Gradescope's Ubuntu image while the image is built: ours installs Python, bubblewrap
  and git with apt, and the grader into a virtual environment (``VENV``).
- ``/autograder/source`` is the unpacked zip (ours adds the rubric and, when given, a wheel of
  the grader); ``run_autograder`` is copied to ``/autograder/run_autograder`` and run for each
  submission with ``/autograder`` as the working folder.
- The student's files are in ``/autograder/submission``; ``/autograder/submission_metadata.json``
  (docs/submission_metadata.md) says when they were submitted (``created_at``), which is the
  time the rubric's late policy uses: Gradescope sets it, not the student.
- The result must be written to ``/autograder/results/results.json`` (``score``, ``tests[]``,
  ``output``...; :func:`grader.report.exports.gradescope_result`). Ours always is: a rubric that
  cannot be read or a folder without work still gives the student a failing result with the
  reason, never a silent "autograder failed".

The ``/autograder`` folder, the virtual environment and the interpreter are read from
``GRADER_AUTOGRADER_ROOT``, ``GRADER_VENV`` and ``GRADER_PYTHON`` when set, so that the bundle
can be run against a fake tree (the tests do).
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grader
from grader.errors import GraderError
from grader.hosted import grade_folder
from grader.i18n import error_text, tr
from grader.late import SubmissionTime
from grader.report.exports import GRADESCOPE_TEXT, gradescope_result
from grader.report.html import round_points
from grader.results import write_json_atomic
from grader.rubric import load_rubric
from grader.rubric.schema import Rubric
from grader.sandbox.detect import SandboxKind

logger = logging.getLogger(__name__)

ROOT = Path("/autograder")
ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
PYTHON_ENV = "GRADER_PYTHON"
VENV_ENV = "GRADER_VENV"
VENV = "/opt/grader-venv"
RESULTS = Path("results") / "results.json"
METADATA = "submission_metadata.json"
MAX_METADATA_BYTES = 5_000_000  # previous submissions' results are in it too
_EXECUTABLE = 0o755
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same bundle bytes for the same inputs


@dataclass(frozen=True)
class Bundle:
    """What goes into the autograder zip: file name -> (bytes, executable)."""

    files: dict[str, tuple[bytes, bool]]

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, (data, executable) in sorted(self.files.items()):
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.external_attr = ((_EXECUTABLE if executable else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        tmp.replace(path)
        return path


def setup_script(rubric: Rubric, install: str) -> str:
    """``setup.sh``: Gradescope runs it once, as root, on its Ubuntu image."""
    return f"""\
#!/usr/bin/env bash
# Written by `grader init-gradescope -a {rubric.assignment}` (grader {grader.__version__}).
# Gradescope runs this once, as root, on its Ubuntu image when it builds the autograder.
set -euo pipefail
VENV="${{{VENV_ENV}:-{VENV}}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap isolates each student's code; git lets pip install the grader from a repository
apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap git
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet {shlex.quote(install)}
"""


def run_script(rubric_name: str, lang: str, sandbox: SandboxKind) -> str:
    """``run_autograder``: Gradescope runs it for every submission, in ``/autograder``."""
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json under the
# autograder folder. {ROOT_ENV} and {PYTHON_ENV} override the two paths (for tests).
set -uo pipefail
ROOT="${{{ROOT_ENV}:-{ROOT}}}"
PYTHON="${{{PYTHON_ENV}:-${{{VENV_ENV}:-{VENV}}}/bin/python}}"
exec "$PYTHON" -m grader gradescope-run --root "$ROOT" -a "$ROOT/source/{rubric_name}" \\
    --lang {lang} --sandbox {sandbox}
"""


def build_bundle(rubric: Rubric, *, grader_spec: str, lang: str | None = None,
                 sandbox: SandboxKind = "auto") -> Bundle:
    """The autograder zip's files. ``grader_spec`` is what pip installs (a requirement such as
    ``grader[students] @ git+https://...@v0.1.0``) or the path of a grader wheel, which is put
    in the zip and installed from there."""
    source = rubric.source_path
    if source is None:
        raise GraderError("the rubric was not loaded from a file, so it cannot be bundled")
    rubric_name = f"{rubric.assignment}{source.suffix or '.yaml'}"
    files: dict[str, tuple[bytes, bool]] = {rubric_name: (source.read_bytes(), False)}
    install = grader_spec
    wheel = Path(grader_spec).expanduser()
    if wheel.suffix == ".whl" and wheel.is_file():
        files[wheel.name] = (wheel.read_bytes(), False)
        install = f"grader[students] @ file://{ROOT / 'source' / wheel.name}"
    files["setup.sh"] = (setup_script(rubric, install).encode(), True)
    files["run_autograder"] = (run_script(rubric_name, lang or rubric.lang, sandbox).encode(), True)
    return Bundle(files)


# --- inside Gradescope --------------------------------------------------------------------------


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or ROOT)


def submission_time(root: Path) -> SubmissionTime | None:
    """``created_at`` from Gradescope's submission_metadata.json, or None when it is not there."""
    path = root / METADATA
    try:
        if not path.is_file() or path.stat().st_size > MAX_METADATA_BYTES:
            return None
        created = json.loads(path.read_text(encoding="utf-8")).get("created_at")
        at = datetime.fromisoformat(str(created))
    except (OSError, ValueError, AttributeError):
        logger.warning("no submission time in %s", path)
        return None
    return SubmissionTime(at, "gradescope") if at.tzinfo is not None else None


def failed_result(message: str, lang: str, max_score: float | None) -> dict[str, Any]:
    """results.json when the grader could not grade at all: 0 points and the reason, shown."""
    test: dict[str, Any] = {"name": tr(lang, "ci.grader_name"), "score": 0, "status": "failed",
                            "output": message, "visibility": "visible"}
    if max_score is not None:
        test["max_score"] = round_points(max_score)
    return {"score": 0, "output": tr(lang, "gradescope.failed", error=message), **GRADESCOPE_TEXT,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [test]}


def run_autograder(root: Path, assignment: str, *, lang: str | None = None,
                   sandbox: SandboxKind = "auto") -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; returns what was written."""
    shown = lang or "ru"
    rubric: Rubric | None = None
    try:
        rubric = load_rubric(assignment)
        shown = lang or rubric.lang
        result = grade_folder(root / "submission", rubric, lang=shown, sandbox=sandbox,
                              submitted=submission_time(root) if rubric.due is not None else None)
        data = gradescope_result(result, shown)
    except GraderError as exc:
        data = failed_result(error_text(exc, shown), shown, rubric.max_score if rubric else None)
    except Exception as exc:  # the student gets a result whatever happened; the log keeps the rest
        logger.exception("the grader failed")
        data = failed_result(tr(shown, "grader.internal_error", error=f"{type(exc).__name__}: {exc}"), shown,
                             rubric.max_score if rubric else None)
    write_json_atomic(root / RESULTS, data)
    return data
