"""A toy family, used only by tests and by README's "Adding an assignment": one check kind, one
probe, one message. It shows all an assignment family needs: this folder and its line in the
table (grader/families/__init__.py).

The probe (probe.py) runs in the student's kernel after the last cell and reports whether the
notebook left a variable `answer` and what it holds; the check (checks.py) compares it with the
rubric's `expected`.
"""
from __future__ import annotations

from grader.family import CheckKind, Family
from grader.rubric.params import StrictParams


class AnswerParams(StrictParams):
    expected: int = 42


FAMILY = Family(
    name="toy",
    package=__name__,
    kinds={"toy.answer": CheckKind("checks:check_answer", AnswerParams, frozenset({"ok", "wrong", "missing"}),
                                   run_evidence=True)},
    probes={"toy": "probe.py"},
)
