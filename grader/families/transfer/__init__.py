"""HW 3: transfer learning on AFHQ. The checks (checks.py) read what the models, images and transfer
probes found in the kernel (grader_inside/probes/): a pretrained backbone, which of its layers were
frozen, the learning curves (evidence.py reads them as numbers), and the retraining from the
pretrained start. The data, the hidden split and the weights folder are the models family's set-up.
"""
from __future__ import annotations

from grader.artifacts import MANUAL_KEY
from grader.family import Family, run_kind
from grader.families.models import MODELS_JSON, WEIGHTS_MISSING
from grader.families.notebook import CURVES, PRETRAINED
from grader.families.transfer.params import TransferLayersParams, TransferLearningParams, TransferRetrainedParams
from grader.rubric.params import NoParams


# Keys a check passes on from another check it consults are listed in full: transfer.overfitting
# returns notebook.curves' keys but "ok"; transfer.transfer_learning returns notebook.pretrained's
# for a Keras model.
FAMILY = Family(
    name="transfer",
    package=__name__,
    instructor_data=True,
    kinds={
        "transfer.transfer_learning": run_kind("check_transfer_learning", TransferLearningParams, "code_only", "custom",
                                               "weights_missing", *PRETRAINED),
        "transfer.layers": run_kind("check_layers", TransferLayersParams, "frozen", "partial", "fine_tuned",
                                    "all_frozen", "no_backbone", "missing"),
        "transfer.overfitting": run_kind("check_overfitting", NoParams, "overfit", "no_numbers", *CURVES),
        "transfer.retrained": run_kind("check_retrained", TransferRetrainedParams, "good", "fair", "low", "failed",
                                       "not_run", MANUAL_KEY),
    },
    requires=("models",),
    records=(MODELS_JSON, WEIGHTS_MISSING),
)
