"""The rubric schema: what a rubric YAML may say, validated by pydantic.

A rubric describes one assignment: its title, where the student's entry file is, which probes
run, the resource limits, and the list of checks with their points. Every model forbids unknown
keys, so a misspelt key is reported instead of silently ignored. Any other top-level key must be a
section a family owns (`grader.family.Section`, e.g. the models family's `data:`), validated with
the type the family declares and read with ``Rubric.section(name)``.

Localised text (``Text``) is either a plain string or a mapping with ``ru`` and/or ``en``;
``text(value, lang)`` picks the wanted language and falls back to the other one.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from grader.families import sections as family_sections

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
    checks: list[CheckSpec] = Field(min_length=1)
    # Any other top-level key is a section a family owns (e.g. the models family's `data:` and
    # `evaluation:`): validated with the family's type, read with `section(name)`.
    model_config = ConfigDict(extra="allow", frozen=True)

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

    @model_validator(mode="after")
    def _family_sections(self) -> Rubric:
        # The loader reports each problem with its line first; this holds for rubrics built in code.
        extra = self.__pydantic_extra__ or {}
        owners = family_sections()
        unknown = sorted(k for k in extra if k not in owners)
        if unknown:
            raise PydanticCustomError("unknown_section", "unknown key(s) {keys} (allowed: {allowed})",
                                      {"keys": ", ".join(unknown), "allowed": ", ".join(top_level_keys())})
        errors: list[InitErrorDetails] = []
        for name, value in extra.items():
            try:
                extra[name] = section_adapter(name).validate_python(value)
            except ValidationError as exc:  # the same errors, located under the section's key
                errors += [InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"]), loc=(name, *e["loc"]),
                                            input=e["input"]) for e in exc.errors()]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

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

    def section(self, name: str) -> Any:
        """A family's top-level section, validated by its type; the family's default when absent.
        KeyError for a name no family declares."""
        _, section = family_sections()[name]
        extra = self.__pydantic_extra__ or {}
        return extra[name] if name in extra else section.default

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


@cache
def section_adapter(name: str) -> TypeAdapter[Any]:
    """The validator of a family's top-level rubric section."""
    return TypeAdapter(family_sections()[name][1].type)


def top_level_keys() -> list[str]:
    """What a rubric may say at its top level: its own keys, then the families' sections."""
    return [*Rubric.model_fields, *family_sections()]
