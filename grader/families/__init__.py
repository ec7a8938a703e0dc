"""The table of assignment families, and what the pipeline asks of them.

One explicit table (`FAMILIES`: name -> package), not registration on import. Each package is a
folder `grader/families/<name>/` whose `__init__.py` declares `FAMILY` (a `grader.family.Family`):
its check kinds, probes, messages, options and hooks. Adding an assignment family is one folder
and one line here (README, "Adding an assignment", walks through `toy`).

The pipeline (grading, cli, i18n, rubric, report) reads families only through the functions
below and names none of them; no module outside `grader/families/` imports a family's modules.
A family's `__init__.py` declares and imports no more than its parameter models, so reading the
table is cheap; its checks and hooks load when a rubric of that family is graded.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from grader.family import CheckKind, Family, Option, Section

if TYPE_CHECKING:
    from grader.rubric import Rubric

T = TypeVar("T")

FAMILIES: dict[str, str] = {
    "gd": "grader.families.gd",
    "models": "grader.families.models",
    "transfer": "grader.families.transfer",
    "notebook": "grader.families.notebook",
    "apps": "grader.families.apps",
    "manual": "grader.families.manual",
    "toy": "grader.families.toy",
}


@cache
def family(name: str) -> Family:
    found = importlib.import_module(FAMILIES[name]).FAMILY
    if not isinstance(found, Family) or found.name != name:
        raise TypeError(f"{FAMILIES[name]}.FAMILY must be the Family named {name!r}")
    return found


def all_families() -> list[Family]:
    return [family(name) for name in FAMILIES]


def _index(what: str, declared: Callable[[Family], Mapping[str, T]]) -> dict[str, tuple[Family, T]]:
    """Name -> (the family that declares it, what it declares); a name two families declare is an error."""
    index: dict[str, tuple[Family, T]] = {}
    for fam in all_families():
        for name, item in declared(fam).items():
            if name in index:
                raise TypeError(f"{what} {name!r} is declared by {index[name][0].name} and {fam.name}")
            index[name] = (fam, item)
    return index


@cache
def _kind_index() -> dict[str, tuple[Family, CheckKind]]:
    return _index("check kind", lambda fam: fam.kinds)


def kinds() -> dict[str, CheckKind]:
    """Every check kind a rubric may name -> what it takes and returns."""
    return {kind: spec for kind, (_, spec) in _kind_index().items()}


@cache
def sections() -> dict[str, tuple[Family, Section]]:
    """Every top-level rubric section a family owns (e.g. `data:`) -> its family and type."""
    return _index("rubric section", lambda fam: fam.sections)


def datasets(rubric: Rubric) -> tuple[str, ...]:
    """The instructor's datasets the rubric names (e.g. mnist, afhq), from its families."""
    names: list[str] = []
    for fam in rubric_families(rubric):
        hook = fam.hook("datasets")
        if hook is not None:
            names += [n for n in hook(rubric) if n not in names]
    return tuple(names)


def family_of(kind: str) -> Family | None:
    found = _kind_index().get(kind)
    return None if found is None else found[0]


class CheckTable(MutableMapping[str, Any]):
    """Kind -> check function, each family's checks imported on first use (a Task 1 batch never
    imports the models' modules). Tests may set callables."""

    def __init__(self) -> None:
        self._set: dict[str, Any] = {}
        self._removed: set[str] = set()

    def __getitem__(self, kind: str) -> Any:
        if kind in self._set:
            return self._set[kind]
        fam = family_of(kind)
        if fam is None or kind in self._removed:
            raise KeyError(kind)
        fn = fam.check(kind)
        self._set[kind] = fn
        return fn

    def __setitem__(self, kind: str, fn: Any) -> None:
        self._removed.discard(kind)
        self._set[kind] = fn

    def __delitem__(self, kind: str) -> None:
        if kind not in self:
            raise KeyError(kind)
        self._set.pop(kind, None)
        self._removed.add(kind)

    def _keys(self) -> list[str]:
        return [k for k in dict.fromkeys([*_kind_index(), *self._set]) if k not in self._removed]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and kind not in self._removed and (kind in self._set or kind in _kind_index())


CHECKS = CheckTable()


def run_evidence(kind: str) -> bool:
    found = _kind_index().get(kind)
    return found is not None and found[1].run_evidence


def rubric_families(rubric: Rubric, options: Mapping[str, Any] | None = None) -> list[Family]:
    """The families a rubric uses, in the table's order: those of its checks' kinds, those whose
    rubric sections it fills (e.g. `data:`), those whose options were given, and what they need."""
    names: set[str] = set()
    for check in rubric.checks:
        fam = family_of(check.kind)
        if fam is not None:
            names.add(fam.name)
    for fam in all_families():
        if any(rubric.section(name) for name in fam.sections):
            names.add(fam.name)
        if options and any(options.get(opt.name, opt.default) != opt.default for opt in fam.options):
            names.add(fam.name)
    todo = list(names)
    while todo:
        for need in family(todo.pop()).requires:
            if need not in names:
                names.add(need)
                todo.append(need)
    return [fam for fam in all_families() if fam.name in names]


def probe_specs(names: Iterable[str]) -> dict[str, dict[str, str]]:
    """What the kernel runs for each of the rubric's `probes:` names: a module of grader_inside
    (mounted in the sandbox), or the source of a probe file in the family's folder, handed in
    like the harness's other settings (the family's folder itself is never mounted). An unknown
    name gets an empty entry, which the kernel reports as an unknown probe."""
    declared = {name: (fam, where) for fam in all_families() for name, where in fam.probes.items()}
    specs: dict[str, dict[str, str]] = {}
    for name in names:
        fam, where = declared.get(name, (None, ""))
        if fam is not None and where.endswith(".py"):
            path = fam.folder / where
            specs[name] = {"source": path.read_text(encoding="utf-8"), "file": f"{fam.name}/{where}"}
        else:
            specs[name] = {"module": where}
    return specs


def message_files() -> list[Path]:
    """Each family's messages file (read by grader.i18n with the pipeline's own)."""
    return [path for fam in all_families() if (path := fam.folder / fam.messages).is_file()]


def options() -> list[Option]:
    """The command-line options the families add to `grader grade`."""
    return [opt for fam in all_families() for opt in fam.options]


def option_defaults() -> dict[str, Any]:
    return {opt.name: opt.default for opt in options()}


def hooks(families: Iterable[Family], name: str) -> list[Any]:
    """The families' hooks called `name`, in order (families without one are left out)."""
    return [fn for fam in families if (fn := fam.hook(name)) is not None]


__all__ = ["CHECKS", "FAMILIES", "CheckTable", "all_families", "datasets", "family", "family_of", "hooks", "kinds",
           "message_files", "option_defaults", "options", "probe_specs", "rubric_families", "run_evidence",
           "sections"]
