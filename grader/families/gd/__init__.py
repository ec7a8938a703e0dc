"""Task 1: gradient descent, momentum and Nesterov on a function of one variable.

The in-kernel probe (grader_inside/probes/gd.py) records the student's functions and step
sequences; the checks (checks.py) fit them against reference/gd.py. analysis, fit, handsteps,
inline, stoprule and evidence read the student's source and the traced steps.
"""
from __future__ import annotations

from grader.family import Family, run_kind
from grader.families.gd.params import PlotParams, StepsParams
from grader.rubric.params import NoParams


FAMILY = Family(
    name="gd",
    package=__name__,
    kinds={
        "gd.function": run_kind("check_function", NoParams, "ok", "simple", "missing"),
        "gd.gradient": run_kind("check_gradient", NoParams, "ok", "wrong", "missing"),
        "gd.steps": run_kind("check_steps", StepsParams, "ok", "too_few", "wrong_gradient", "variable_lr",
                             "momentum_only", "library", "not_gd", "unverified", "missing"),
        "gd.plot": run_kind("check_plot", PlotParams, "ok", "no_steps", "wrong_function", "missing"),
        "gd.stop_rule": run_kind("check_stop_rule", NoParams, "delta_f", "delta_x", "grad_norm", "not_converged",
                                 "diverged", "fixed_steps", "missing"),
        "gd.momentum": run_kind("check_momentum", NoParams, "ok", "library", "unverified", "missing"),
        "gd.nesterov": run_kind("check_nesterov", NoParams, "ok", "library", "current_point", "unverified", "missing"),
    },
    probes={"gd": "grader_inside.probes.gd"},
)
