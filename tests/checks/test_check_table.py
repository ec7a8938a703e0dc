"""The table of check kinds: every entry resolves, and only the checks of the families a rubric uses load."""
from __future__ import annotations

import subprocess
import sys

from grader.families import CHECKS


def test_every_kind_resolves_to_a_check_function() -> None:
    for kind in CHECKS:
        assert callable(CHECKS[kind]), kind


def test_task1_checks_do_not_load_the_other_families() -> None:
    code = ("import sys\nfrom grader.families import CHECKS\nCHECKS['gd.steps']\n"
            "print(sorted(m for m in sys.modules if m.startswith(('grader.families.apps.', 'grader.families.models.', "
            "'grader.families.transfer.', 'grader.families.notebook.', 'grader.families.manual.')) "
            "and not m.endswith(('.params', '.sections'))))")  # the families' declarations (kinds' parameters,
    # rubric sections) load, their checks and set-up do not
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
