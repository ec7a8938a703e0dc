"""What an assignment family gives the pipeline: the contract of `grader/families/<name>/`.

A family (gradient descent, models, transfer learning, notebook content, apps, manual review)
is one folder. Its `__init__.py` declares one `Family`: the check kinds it grades (each with a
typed `Params` model and its outcome keys), its in-kernel probes, its messages file, the rubric
sections (with their types) and command-line options it owns, the run's files its checks read
(`records`), the outbox folders only its probes write (`sealed`), and its hooks. Checks are pure
functions of (grader.artifacts.Artifacts, params): the pipeline reads the records for them and
draws the figures they return as data. The pipeline (grading, cli, i18n, rubric, run, report)
reads families through `grader.families` and names none of them; a batch set-up may ask the
runner for an `AfterProbe` (the models' evaluation after the student's cells).

Hooks are "module:function" strings inside the family's package, imported only when a rubric of
that family is graded: a Task 1 batch never imports the models' or the apps' modules.

    prepare(rubric, options, cache_dir) -> BatchSetup | None
        once per batch, before the runs (datasets, hidden splits, baselines)
    cache_parts(options) -> list[str]
        what of the family's options changes a grade (added to every student's cache key)
    stage(planned, box, student_dir) -> None
        after the notebook's run, in the sandbox's machine (the apps are started here)
    notices(out_dir, folders, lang) -> list[str]
        what the instructor must fix once for a whole batch (read from the runs' records)
    review_cells(params, cells) -> list[int]
        the cells a reviewer is shown for a check of the family
    datasets(rubric) -> tuple[str, ...]
        the instructor's datasets the rubric names (a self-check cannot run those checks)

This module imports nothing of the grader but the results' types, so that every family, the
rubric loader and the pipeline can import it without a cycle.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel

    from grader.artifacts import Records
    from grader.i18n import Text
    from grader.results import Flag
    from grader.sandbox import Mount

OptionKind = Literal["flag", "folder", "named_folders"]


@dataclass(frozen=True)
class CheckKind:
    """One `kind:` of a rubric's check."""

    check: str  # "module:function" in the family's package: (artifacts, params) -> Outcome
    params: type[BaseModel]  # the `params:` it takes (strict: unknown keys are errors)
    outcomes: frozenset[str]  # the keys its outcomes use, which `credit:` may name
    run_evidence: bool = False  # found in the run: "nothing found" says which cell failed first


def run_kind(function: str, params: type[BaseModel], *outcomes: str) -> CheckKind:
    """A kind whose check is `function` of the family's checks.py and whose evidence is found in
    the run (gradient descent, models, transfer learning)."""
    return CheckKind(f"checks:{function}", params, frozenset(outcomes), run_evidence=True)


@dataclass(frozen=True)
class Option:
    """A command-line option of `grader grade` that the family adds; its value reaches the
    family's hooks as `options[name]`."""

    name: str
    flag: str  # e.g. "--weights"
    kind: OptionKind
    help: str
    metavar: str | None = None

    @property
    def default(self) -> Any:
        return {"flag": False, "folder": None, "named_folders": {}}[self.kind]


@dataclass(frozen=True)
class Section:
    """A top-level rubric section the family owns (e.g. `data:`): the loader validates it with
    `type` (a pydantic-validatable type; strict models, so misspelt keys are errors, named with
    their line) and `Rubric.section(name)` gives the validated value, or `default` when absent."""

    type: Any
    default: Any = None


@dataclass(frozen=True)
class Family:
    name: str
    package: str  # the family's package, e.g. "grader.families.gd"
    kinds: Mapping[str, CheckKind]
    probes: Mapping[str, str] = field(default_factory=dict)  # rubric's `probes:` name -> in-kernel module
    sections: Mapping[str, Section] = field(default_factory=dict)  # top-level rubric sections it owns
    requires: tuple[str, ...] = ()  # families whose set-up this one uses
    instructor_data: bool = False  # its checks score the work on the instructor's hidden data: not in self-checks
    options: tuple[Option, ...] = ()
    # files of the student's folder its checks read (relative to it; glob patterns allowed), e.g.
    # "run/models/models.json": the pipeline reads them within a budget into Artifacts.records
    records: tuple[str, ...] = ()
    # folders of the run's outbox that only the grader's probes write (the models probe's `models`):
    # whatever the student's code left there unsealed is deleted before anything reads them
    sealed: tuple[str, ...] = ()
    prepare: str | None = None
    cache_parts: str | None = None
    stage: str | None = None
    notices: str | None = None
    review_cells: str | None = None
    datasets: str | None = None
    messages: str = "messages.yaml"  # in the family's folder

    def hook(self, name: str) -> Any:
        """The hook's function (imported now), or None when the family has no such hook."""
        entry = getattr(self, name)
        return None if entry is None else load(self.package, entry)

    def check(self, kind: str) -> Any:
        return load(self.package, self.kinds[kind].check)

    @property
    def folder(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.origin is not None
        return Path(spec.origin).parent


def load(package: str, entry: str) -> Any:
    """"module:function" in `package` -> the function."""
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(f"{package}.{module}"), name)


@dataclass(frozen=True)
class AfterProbe:
    """A family's probe that runs in the kernel after the student's cells, before the `probes:`
    (the models family's evaluation): `module` (of grader_inside) is imported in the kernel and
    `module.run(globals(), config)` called with its own CPU budget. The folder `folder` of the
    outbox is its alone: emptied before it runs, and what is left there unsealed is deleted."""

    module: str
    config: dict[str, Any]
    timeout_s: float
    folder: str

    def __post_init__(self) -> None:
        if not self.module.startswith("grader_inside."):
            raise ValueError(f"an after-run probe is a module of grader_inside, not {self.module!r}")
        if not self.folder or "/" in self.folder or self.folder.startswith("."):
            raise ValueError(f"an after-run probe's folder is one plain name in the outbox, not {self.folder!r}")


class BatchSetup(Protocol):
    """What a family's `prepare` hook returns and the pipeline asks of it for each run: what the
    sandbox gets (parameters, mounts, environment, device, the after-run probe), what every report
    says (notes, flags), and what one run's records say (`run_notes`, `run_error`: read from the
    same `Records` the checks get)."""

    gpu_present: bool | None

    def parameters(self, base: Mapping[str, Any]) -> dict[str, Any]: ...
    def mounts(self) -> tuple[Mount, ...]: ...
    def env(self) -> dict[str, str]: ...
    def after_probe(self) -> AfterProbe | None: ...
    def sandbox_device(self) -> str: ...
    def notes(self, lang: str) -> list[Text]: ...
    def run_notes(self, records: Records, errors: list[str], lang: str) -> list[Text]: ...
    def run_error(self, records: Records) -> Text | None: ...
    def flags(self, lang: str) -> tuple[Flag, ...]: ...
    def on_worker(self, moved: Mapping[Path, Path]) -> BatchSetup: ...


__all__ = ["AfterProbe", "BatchSetup", "CheckKind", "Family", "Option", "Section", "load", "run_kind"]
