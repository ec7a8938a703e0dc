"""Check families. `CHECKS` maps a rubric `kind` to its function (an explicit table)."""
from __future__ import annotations

from grader.checks import app, gd, manual, models, notebook, notebook_answers, transfer
from grader.checks.base import CheckContext, CheckFn, Outcome

CHECKS: dict[str, CheckFn] = {
    "gd.function": gd.check_function,
    "gd.gradient": gd.check_gradient,
    "gd.steps": gd.check_steps,
    "gd.plot": gd.check_plot,
    "gd.stop_rule": gd.check_stop_rule,
    "gd.momentum": gd.check_momentum,
    "gd.nesterov": gd.check_nesterov,
    "models.inventory": models.check_inventory,
    "models.accuracy": models.check_accuracy,
    "models.beats_example": models.check_beats_example,
    "models.convolutional": models.check_convolutional,
    "models.retrained": models.check_retrained,
    "notebook.augmentation": notebook.check_augmentation,
    "notebook.pretrained": notebook.check_pretrained,
    "notebook.curves": notebook.check_curves,
    "notebook.save_load": notebook.check_save_load,
    "notebook.answers": notebook_answers.check_answers,
    "manual": manual.check_manual,
    "transfer.transfer_learning": transfer.check_transfer_learning,
    "transfer.layers": transfer.check_layers,
    "transfer.overfitting": transfer.check_overfitting,
    "transfer.retrained": transfer.check_retrained,
    "app.web": app.check_web,
    "app.api": app.check_api,
    "app.docker": app.check_docker,
    "app.compose": app.check_compose,
}

# Checks that judge what the notebook's run left behind (values, figures, models): when one of
# them finds nothing (these outcomes) and a cell failed, that failure may be why. The others
# read the source, run apps apart from the notebook, or name the failed cell themselves.
RUN_EVIDENCE_KINDS = frozenset(k for k in CHECKS if k.startswith(("gd.", "models.", "transfer."))) | {"notebook.curves"}
NOTHING_FOUND = frozenset({"missing", "model_missing", "too_few", "untrained", "no_prediction"})

__all__ = ["CHECKS", "NOTHING_FOUND", "RUN_EVIDENCE_KINDS", "CheckContext", "CheckFn", "Outcome"]
