"""The rubric schema: what a rubric YAML may say, validated by pydantic.

A rubric describes one assignment: its title, where the student's entry file is, which probes
run, the resource limits, and the list of checks with their points. Every model forbids unknown
keys, so a misspelt key is reported instead of silently ignored.

Localised text (``Text``) is either a plain string or a mapping with ``ru`` and/or ``en``;
``text(value, lang)`` picks the wanted language and falls back to the other one.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

Lang = Literal["ru", "en"]
LANGS: tuple[str, ...] = ("ru", "en")


def _validate_text(value: Any) -> str | dict[str, str]:
    # One validator instead of a `str | dict` union, so a bad value gives one clear error
    # rather than one per union member.
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if not value:
            raise PydanticCustomError("text_empty", "text mapping needs a 'ru' or 'en' key")
        unknown = [str(k) for k in value if k not in LANGS]
        if unknown:
            raise PydanticCustomError(
                "text_unknown_lang",
                "unknown language key(s) {keys} (allowed: ru, en)",
                {"keys": ", ".join(unknown)},
            )
        bad = [str(k) for k, v in value.items() if not isinstance(v, str)]
        if bad:
            raise PydanticCustomError(
                "text_not_string", "text for {keys} should be a string", {"keys": ", ".join(bad)}
            )
        return {k: value[k] for k in LANGS if k in value}
    raise PydanticCustomError(
        "text_type", "should be a string or a mapping with 'ru' and/or 'en'"
    )


Text = Annotated[
    Union[str, dict[str, str]],
    PlainValidator(_validate_text),
    PlainSerializer(lambda v: v if isinstance(v, str) else dict(v)),
]
"""A string, or ``{"ru": ..., "en": ...}`` with at least one of the two keys."""


def text(value: str | dict[str, str] | None, lang: str = "ru") -> str:
    """The text of ``value`` in ``lang``, falling back to the other language ("" for None)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value.get(lang):
        return value[lang]
    for other in LANGS:
        if value.get(other):
            return value[other]
    return ""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckSpec(_Model):
    """One graded check: which check kind runs, with what parameters, for how many points."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Stable identifier, used in reports and result files."""
    title: Text
    points: float = Field(ge=0)
    kind: str = Field(min_length=1)
    """Which check implementation runs it, e.g. ``gd.function``."""
    visibility: Literal["visible", "hidden", "after_due"] = "visible"
    """Whether students see this check's details now, never, or after the deadline."""
    bonus: bool = False
    """Bonus points are not counted in ``Rubric.max_score``."""
    credit: dict[str, Annotated[float, Field(ge=0, le=1)]] = {}
    """Outcome key -> fraction of ``points`` awarded for that outcome."""
    params: dict[str, Any] = {}
    """Parameters for the check kind; the kind itself validates them."""
    description: Text | None = None


class EntrySpec(_Model):
    """How to find the student's entry file in a submission."""

    patterns: list[str] = ["*.ipynb", "*.py"]
    """Glob patterns, in order of preference."""
    hints: list[str] = []
    """Words expected in the entry file's name (e.g. ``task1``) to choose among candidates."""


class LimitsSpec(_Model):
    """Resource limits for running one submission."""

    timeout_s: float = Field(default=300, gt=0)
    """CPU seconds the student's code may use in the whole run (the wall clock is only a backstop)."""
    cell_timeout_s: float = Field(default=60, gt=0)
    """CPU seconds one cell may use, and the longest it may wait without using the CPU."""
    memory_gb: float = Field(default=4, gt=0)
    max_processes: int = Field(default=256, gt=0)
    output_mb: float = Field(default=2, gt=0)
    """Cap on captured stdout/stderr."""
    scratch_mb: float = Field(default=1024, gt=0)
    """Size of the writable scratch directory."""


class MoodleSpec(_Model):
    """How grades go into Moodle's grading worksheet (``moodle_grades.csv``)."""

    bonus: Literal["cap", "above_max"] = "cap"
    """Moodle silently skips a grade above the assignment's Maximum grade. ``cap``: write at most
    the maximum (the feedback keeps the full score); ``above_max``: write the whole score, and the
    export names the Maximum grade to set in Moodle before uploading."""


class LateSpec(_Model):
    """Late-submission penalty: a share of the earned score per started day after ``due``."""

    per_day: float = Field(gt=0, le=1)
    """Share of the earned score taken off per started day late (0.1 = 10 %)."""
    max_days: int | None = Field(default=None, ge=0)
    """Work more than this many days late gets no points; None: no cut-off."""
    grace_minutes: float = Field(default=0, ge=0)
    """Minutes after ``due`` that still count as on time (upload delays)."""


class MnistDataSpec(_Model):
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


class ImageFolderDataSpec(_Model):
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


class RetrainBudgetSpec(_Model):
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


class BaselineSpec(_Model):
    """How the course example's models are trained for the "beats the example" comparison."""

    epochs: int = Field(default=2, gt=0)
    batch_size: int = Field(default=64, gt=0)
    lr: float = Field(default=1e-3, gt=0)
    subset: int | None = Field(default=None, gt=0)
    seeds: int = Field(default=1, gt=0, le=20)


class EvaluationSpec(_Model):
    """Evaluation of the student's models on the hidden test split (inside the sandbox)."""

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


class Rubric(_Model):
    """A whole rubric. Build it with ``grader.rubric.load_rubric`` to get file-aware errors."""

    assignment: str = Field(min_length=1)
    title: Text
    lang: Lang = "ru"
    entry: EntrySpec = EntrySpec()
    probes: list[str] = []
    """Names of probes to install in the student's namespace."""
    trace: bool = False
    """Whether to trace the student's function calls."""
    limits: LimitsSpec = LimitsSpec()
    parameters: dict[str, Any] = {}
    """Assignment-wide parameters, available to every check."""
    due: AwareDatetime | None = None
    """Deadline, ISO 8601 with a timezone (``2025-03-01T23:59:00+03:00``)."""
    late: LateSpec | None = None
    """Penalty for work handed in after ``due``; None: lateness is recorded, not penalised."""
    moodle: MoodleSpec = MoodleSpec()
    """How the Moodle export treats bonus points above the maximum."""
    data: dict[str, DataSpec] = {}
    """Datasets the runs use; `--data NAME=<folder>` names the files (mnist default: the demo data)."""
    evaluation: EvaluationSpec | None = None
    """Set to evaluate the student's models on the hidden split (the models probe)."""
    checks: list[CheckSpec] = Field(min_length=1)

    # Set by the loader, never read from the YAML.
    _source_path: Path | None = PrivateAttr(default=None)
    _digest: str | None = PrivateAttr(default=None)

    @field_validator("checks")
    @classmethod
    def _unique_ids(cls, checks: list[CheckSpec]) -> list[CheckSpec]:
        seen: dict[str, int] = {}
        for index, check in enumerate(checks):
            if check.id in seen:
                # ctx["index"] lets the loader point at the duplicate's own line.
                raise PydanticCustomError(
                    "duplicate_check_id",
                    "duplicate check id '{id}' (checks[{first}] and checks[{index}])",
                    {"id": check.id, "first": seen[check.id], "index": index},
                )
            seen[check.id] = index
        return checks

    @field_validator("data")
    @classmethod
    def _data_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        for name, spec in data.items():
            if (name == "mnist") != isinstance(spec, MnistDataSpec) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise PydanticCustomError("data_name", "dataset '{name}': 'mnist' is the MNIST-like dataset; any "
                                          "other lower-case name needs kind: imagefolder", {"name": name})
        return data

    @field_validator("late")
    @classmethod
    def _late_needs_due(cls, late: LateSpec | None, info: ValidationInfo) -> LateSpec | None:
        # "due" absent from info.data means it failed validation itself: no second error then.
        if late is not None and "due" in info.data and info.data["due"] is None:
            raise PydanticCustomError("late_without_due", "a late policy needs a 'due' date")
        return late

    @property
    def max_score(self) -> float:
        """Sum of the points of all non-bonus checks."""
        return sum(c.points for c in self.checks if not c.bonus)

    @property
    def top_score(self) -> float:
        """The most a student can get: every check's points, bonus included."""
        return sum(c.points for c in self.checks)

    @property
    def source_path(self) -> Path | None:
        """The file this rubric was loaded from, or None when built in code."""
        return self._source_path

    @property
    def digest(self) -> str:
        """sha256 of the rubric file's bytes (of the canonical JSON when built in code)."""
        if self._digest is not None:
            return self._digest
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def check(self, check_id: str) -> CheckSpec:
        """The check with this id; KeyError if there is none."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def with_source(self, path: Path | None, digest: str | None) -> Rubric:
        """A copy that remembers where it came from (used by the loader)."""
        copy = self.model_copy()
        copy._source_path = path
        copy._digest = digest
        return copy
