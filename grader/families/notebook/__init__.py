"""What a notebook's source and run show: augmentation, a pretrained network, learning curves,
saving and loading a model, written answers to the course's questions.

checks.py grades; source.py reads the student's code as syntax trees (never runs it);
answers.py finds the answers in markdown cells. The probe (grader_inside/probes/notebook.py)
records training histories and the variables that hold curves.
"""
from __future__ import annotations

from grader.family import CheckKind, Family
from grader.families.notebook.params import AnswersParams
from grader.rubric.params import NoParams

CURVES = ("ok", "not_run", "train_only", "missing")
PRETRAINED = ("ok", "offline", "not_run", "untrained", "not_pretrained", "missing")

FAMILY = Family(
    name="notebook",
    package=__name__,
    kinds={
        "notebook.augmentation": CheckKind("checks:check_augmentation", NoParams, frozenset(
            {"ok", "test_too", "not_run", "test_only", "unused", "missing"})),
        "notebook.pretrained": CheckKind("checks:check_pretrained", NoParams, frozenset(PRETRAINED)),
        "notebook.curves": CheckKind("checks:check_curves", NoParams, frozenset(CURVES), run_evidence=True),
        "notebook.save_load": CheckKind("checks:check_save_load", NoParams, frozenset(
            {"ok", "no_prediction", "not_run", "save_only", "load_only", "missing"})),
        "notebook.answers": CheckKind("answers:check_answers", AnswersParams, frozenset(
            {"ok", "most", "half", "few", "missing"})),
    },
    probes={"notebook": "grader_inside.probes.notebook"},
)
