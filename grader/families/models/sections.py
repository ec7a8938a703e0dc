"""The rubric sections the models family owns: `data:` (the datasets of the runs) and
`evaluation:` (how the student's models are evaluated and retrained on the hidden split).

The rubric loader validates them with these types (a misspelt key or a value out of range is
reported with file, key and line, as for the rest of the rubric); the family reads them through
`datasets` and `evaluation`.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator
from pydantic_core import PydanticCustomError

from grader.rubric.params import StrictParams

if TYPE_CHECKING:
    from grader.rubric import Rubric


class MnistDataSpec(StrictParams):
    """An MNIST-like dataset for the runs (Task 2): how the official files are split.

    The student's code gets the training files minus a seeded validation part (and that part
    wherever it asks for test data); the official test files are the hidden test split.
    """

    validation: float = Field(default=0.1, gt=0, lt=1)
    """Share of the training files held out and handed out as the student's test data."""
    seed: int = 0
    train_limit: int | None = Field(default=None, gt=0)
    """Keep at most this many training images (short runs for tests and demos)."""


DEFAULT_IMAGE_MOUNTS = ["/content/afhq", "./afhq", "/kaggle/input/animal-faces/afhq", "/content/drive/MyDrive/afhq",
                        "/content/animal-faces/afhq"]


class ImageFolderDataSpec(StrictParams):
    """An image-folder dataset (HW 3, AFHQ): `<folder>/train/<class>/*`, `<folder>/val/<class>/*`.

    The student's code gets `train` and what is left of `validation`; the hidden test split is
    the folder `hidden` when given, else a seeded stratified `hidden_share` of `validation`.
    """

    kind: Literal["imagefolder"]
    train: str = "train"
    validation: str = "val"
    hidden: str | None = None
    """A split folder (e.g. ``test``) kept whole as the hidden test split; None: hold out part of val."""
    hidden_share: float = Field(default=0.5, gt=0, lt=1)
    seed: int = 0
    image_size: int = Field(default=256, ge=16, le=1024)
    """Side of the decoded hidden images (decoded once per batch); each student's transform resizes from it."""
    fit: Literal["crop", "squash"] = "crop"
    """crop: shorter side to image_size, centre square; squash: resized to a square."""
    train_limit: int | None = Field(default=None, gt=0)
    """Keep at most this many training images per class (short runs for tests and demos)."""
    mounts: list[str] = DEFAULT_IMAGE_MOUNTS
    """Where the data appears in the sandbox (read-only): absolute paths, or ./name in the working folder."""
    kaggle: dict[str, str] = {"andrewmvd/animal-faces": "afhq"}
    """Kaggle datasets (owner/name) that download calls resolve to this data -> folder name in the archive."""

    @field_validator("mounts")
    @classmethod
    def _mount_paths(cls, mounts: list[str]) -> list[str]:
        for m in mounts:
            if not (m.startswith("/") or m.startswith("./")) or ".." in m.split("/") or m.rstrip("/") in ("", "."):
                raise PydanticCustomError("mount_path", "mount point '{path}' must be an absolute path or "
                                          "./name inside the working folder, without '..'", {"path": m})
        return mounts


def _data_kind(value: Any) -> str:
    return str(value.get("kind", "mnist")) if isinstance(value, dict) else str(getattr(value, "kind", "mnist"))


DataSpec = Annotated[Union[Annotated[MnistDataSpec, Tag("mnist")], Annotated[ImageFolderDataSpec, Tag("imagefolder")]],
                     Discriminator(_data_kind)]


def _data_names(data: dict[str, DataSpec]) -> dict[str, DataSpec]:
    for name, spec in data.items():
        if (name == "mnist") != isinstance(spec, MnistDataSpec) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise PydanticCustomError("data_name", "dataset '{name}': 'mnist' is the MNIST-like dataset; any "
                                      "other lower-case name needs kind: imagefolder", {"name": name})
    return data


DataSection = Annotated[dict[str, DataSpec], AfterValidator(_data_names)]
"""`data:` datasets the runs use; `--data NAME=<folder>` names the files (mnist default: the demo data)."""


class RetrainBudgetSpec(StrictParams):
    """HW 3: each PyTorch model retrained from its pretrained start within a time budget (`--retrain`)."""

    budget_s: float = Field(default=120, gt=0)
    """Seconds of training per model on a GPU."""
    cpu_budget_s: float | None = Field(default=None, gt=0)
    """Seconds on the CPU; None: on a CPU the models are only evaluated, not retrained."""
    epochs: int = Field(default=3, gt=0)
    batch_size: int = Field(default=32, gt=0)
    lr: float = Field(default=1e-3, gt=0)
    images_per_class: int = Field(default=200, gt=0)
    """Training images per class decoded for retraining."""


class BaselineSpec(StrictParams):
    """How the course example's models are trained for the "beats the example" comparison."""

    epochs: int = Field(default=2, gt=0)
    batch_size: int = Field(default=64, gt=0)
    lr: float = Field(default=1e-3, gt=0)
    subset: int | None = Field(default=None, gt=0)
    seeds: int = Field(default=1, gt=0, le=20)


class EvaluationSpec(StrictParams):
    """`evaluation:` the student's models evaluated on the hidden test split (inside the sandbox)."""

    batch_size: int = Field(default=500, gt=0)
    format_images: int = Field(default=1000, gt=0)
    """Validation images used to work out each model's input format."""
    timeout_s: float = Field(default=300, gt=0)
    """Time for discovering and evaluating every model, after the student's cells."""
    baseline: BaselineSpec = BaselineSpec()
    retrain: bool = False
    """Retrain each PyTorch architecture with the baseline's budget and seeds (also `--retrain`)."""
    retrain_budget: RetrainBudgetSpec | None = None
    """HW 3: retrain from the pretrained start within a time budget instead of the baseline's epochs."""


def datasets(rubric: Rubric) -> dict[str, DataSpec]:
    """The rubric's `data:` section (empty when it has none)."""
    found = rubric.section("data")
    return dict(found) if found else {}


def evaluation(rubric: Rubric) -> EvaluationSpec | None:
    """The rubric's `evaluation:` section (None: the models are not evaluated)."""
    found = rubric.section("evaluation")
    assert found is None or isinstance(found, EvaluationSpec)
    return found


def dataset_names(rubric: Rubric) -> tuple[str, ...]:
    """The instructor's datasets a rubric names (for the self-check's "needs the course data" line)."""
    return tuple(datasets(rubric))
