"""Task 2 (and HW 3's evaluation) on the grader's side: the datasets and hidden splits a batch
prepares once (setup.py), what the models probe wrote (artifacts.py), scores on the hidden
labels (evaluate.py), the course example's baselines (baseline.py), confusion matrices and
learning curves (figures.py), the offline pretrained weights (weights.py), its rubric sections
`data:` and `evaluation:` (sections.py), and the checks (checks.py). The probes that evaluate models run in the kernel (grader_inside/probes/models.py,
images.py, transfer.py), configured by the set-up; hidden labels never leave this side.
"""
from __future__ import annotations

from grader.artifacts import MANUAL_KEY
from grader.family import Family, Option, Section, run_kind
from grader.families.models.params import AccuracyParams, BeatsExampleParams, ConvolutionalParams, RetrainedParams
from grader.families.models.sections import DataSection, EvaluationSpec
from grader.rubric.params import NoParams


PROBE_FOLDER = "models"  # the models probe's folder of the run's outbox: models.json and the predictions (.npy)
MODELS_FOLDER = f"run/{PROBE_FOLDER}"  # the same, in the student's folder
MODELS_JSON = f"{MODELS_FOLDER}/models.json"
MISSING_WEIGHTS = "weights_missing.txt"  # in the run's outbox: written by the weights shim (grader_offline/weights.py)
WEIGHTS_MISSING = f"run/{MISSING_WEIGHTS}"  # the same, in the student's folder


FAMILY = Family(
    name="models",
    package=__name__,
    instructor_data=True,
    kinds={
        "models.inventory": run_kind("check_inventory", NoParams, "both", "torch_only", "keras_only", "missing"),
        "models.accuracy": run_kind("check_accuracy", AccuracyParams, "good", "fair", "low", "constant", "missing",
                                    MANUAL_KEY),
        "models.beats_example": run_kind("check_beats_example", BeatsExampleParams, "beats", "tie", "below",
                                         "constant", "missing", MANUAL_KEY),
        "models.convolutional": run_kind("check_convolutional", ConvolutionalParams, "ok", "untrained",
                                         "not_convolutional", "missing"),
        "models.retrained": run_kind("check_retrained", RetrainedParams, "beats", "tie", "below", "failed", "not_run",
                                     "missing"),
    },
    sections={
        # datasets the runs use; `--data NAME=<folder>` names the files (mnist default: the demo data)
        "data": Section(DataSection, {}),
        # set to evaluate the student's models on the hidden split (the models probe)
        "evaluation": Section(EvaluationSpec | None, None),
    },
    records=(MODELS_JSON, f"{MODELS_FOLDER}/*.npy", WEIGHTS_MISSING),
    sealed=(PROBE_FOLDER,),
    options=(
        Option("data", "--data", "named_folders", metavar="NAME=FOLDER",
               help="Dataset for the runs, e.g. mnist=<folder> with the four MNIST IDX files (plain or .gz) "
                    "or a torchvision root (Task 2; default: the built-in demo data)."),
        Option("retrain", "--retrain", "flag",
               help="Task 2: re-initialise each student PyTorch architecture and train it with the reference loop "
                    "(the example's budget and seeds), in the sandbox. HW 3: retrain from the pretrained start "
                    "within the rubric's time budget."),
        Option("weights", "--weights", "folder", metavar="FOLDER",
               help="HW 3: folder of pretrained weight files under their download names (resnet18-f37072fd.pth ...), "
                    "served offline as the torch hub and Keras caches."),
    ),
    prepare="hooks:prepare",
    cache_parts="hooks:cache_parts",
    notices="notices:notices",
    datasets="sections:dataset_names",
)
