"""Loading rubric YAML files into validated ``Rubric`` objects.

Every problem is reported as ``FILE:LINE: KEY.PATH: message``, one line each, so an instructor
can jump straight to the mistake. Lines come from composing the YAML once (``yaml.compose``)
and mapping each key path, e.g. ``("checks", 2, "points")``, to the line where it appears.
Besides the schema, each check is held to its kind (its family's declaration in ``grader.families``):
the kind must exist, ``params`` must fit the kind's parameter model and every ``credit`` key must be
one of its outcomes. A top-level key that is not the rubric's own must be a section a family owns
(the models family's ``data:`` and ``evaluation:``), held to the type the family declares.
"""
from __future__ import annotations

import difflib
import hashlib
import logging
import os
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

import grader
from grader.errors import RubricError
from grader.i18n import error, msg
from grader.families import kinds
from grader.families import sections as family_sections
from grader.rubric.schema import Rubric, section_adapter, top_level_keys

logger = logging.getLogger(__name__)

KeyPath = tuple[Union[str, int], ...]
Problem = tuple[int, str]  # (line, "FILE:LINE: KEY: message"): sorted by line before they are shown

RUBRIC_SUFFIXES = (".yaml", ".yml")


# --- where rubrics live -------------------------------------------------------------------------


def default_rubrics_dir() -> Path:
    """$GRADER_RUBRICS_DIR, else the source checkout's ``rubrics/``, else ``./rubrics``."""
    env = os.environ.get("GRADER_RUBRICS_DIR")
    if env:
        return Path(env)
    checkout = Path(grader.__file__).resolve().parent.parent / "rubrics"
    if checkout.is_dir():
        return checkout
    return Path.cwd() / "rubrics"


def available_rubrics(rubrics_dir: Path | None = None) -> list[str]:
    """Names of the rubrics in ``rubrics_dir`` (file stems), sorted."""
    folder = rubrics_dir if rubrics_dir is not None else default_rubrics_dir()
    if not folder.is_dir():
        return []
    return sorted(
        {p.stem for p in folder.iterdir() if p.suffix in RUBRIC_SUFFIXES and p.is_file()}
    )


def resolve_rubric_path(name_or_path: str | Path, rubrics_dir: Path | None = None) -> Path:
    """The file meant by a bare rubric name (``task1``) or a path; RubricError if none exists."""
    raw = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or "/" in raw or os.sep in raw or Path(raw).suffix
    if is_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise error(RubricError, "en", "rubric.file_not_found", path=str(path))
        return path
    folder = rubrics_dir if rubrics_dir is not None else default_rubrics_dir()
    for suffix in RUBRIC_SUFFIXES:
        candidate = folder / f"{raw}{suffix}"
        if candidate.is_file():
            return candidate
    names = available_rubrics(folder)
    listing = ", ".join(names) if names else msg("rubric.none_available")
    raise error(RubricError, "en", "rubric.unknown", name=raw, folder=str(folder), listing=listing)


# --- loading ------------------------------------------------------------------------------------


def load_rubric(name_or_path: str | Path, rubrics_dir: Path | None = None) -> Rubric:
    """Load and validate a rubric by bare name (``task1``) or path.

    Raises RubricError whose message lists every problem as ``FILE:LINE: KEY: message``.
    """
    path = resolve_rubric_path(name_or_path, rubrics_dir)
    rubric, problems = _load(path)
    if problems or rubric is None:
        shown = _display(path)
        count = len(problems)
        header = f"rubric {shown} is invalid ({count} problem{'s' if count != 1 else ''}):"
        raise RubricError("\n".join([header, *problems]))
    logger.debug("loaded rubric %s (%s checks)", path, len(rubric.checks))
    return rubric


def validate_rubric_file(path: str | Path) -> list[str]:
    """Every problem in the rubric file as ``FILE:LINE: KEY: message``; empty when valid."""
    path = Path(path)
    if not path.is_file():
        return [f"{_display(path)}: rubric file not found"]
    return _load(path)[1]


def _load(path: Path) -> tuple[Rubric | None, list[str]]:
    shown = _display(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"{shown}: cannot read rubric file: {exc.strerror or exc}"]
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [f"{shown}: not UTF-8 text (byte {exc.start})"]

    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(shown, exc)]
    if root is None:
        return None, [f"{shown}:1: the file is empty; a rubric needs at least "
                      "'assignment', 'title' and 'checks'"]
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1
        return None, [f"{shown}:{line}: the top level must be a mapping of keys "
                      f"(assignment, title, checks, ...), not a {_node_kind(root)}"]

    lines: dict[KeyPath, int] = {}
    duplicates: list[str] = []
    _map_lines(root, (), lines, duplicates, shown)
    if duplicates:
        return None, duplicates

    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:  # compose succeeded, so this is rare (e.g. a bad tag value)
        return None, [_yaml_problem(shown, exc)]

    problems = _kind_problems(shown, data, lines) + _section_problems(shown, data, lines)
    own = {k: v for k, v in data.items() if k in Rubric.model_fields} if isinstance(data, dict) else data
    try:
        Rubric.model_validate(own)  # the rubric's own keys; the families' sections were held to their types
    except ValidationError as exc:
        problems += [_format_error(shown, err, lines) for err in exc.errors()]
    if problems:
        return None, [text for _, text in sorted(problems, key=lambda p: p[0])]
    rubric = Rubric.model_validate(data)
    return rubric.with_source(path, hashlib.sha256(raw).hexdigest()), []


def _display(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _yaml_problem(shown: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context else problem
    if mark is None:
        return f"{shown}: YAML syntax error: {what}"
    return f"{shown}:{mark.line + 1}: YAML syntax error: {what} (column {mark.column + 1})"


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "single value"


# --- key path -> line ---------------------------------------------------------------------------


def _map_lines(
    node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], duplicates: list[str], shown: str
) -> None:
    """Record the 1-based line of every key and list item under ``node``.

    A mapping's own path keeps the line of its key (set by the caller); its first line is used
    only for the root. Duplicate keys are collected because ``safe_load`` would silently keep
    the last one.
    """
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _key_value(key_node)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(f"{shown}:{line}: {format_key_path(child)}: duplicate key")
                continue
            seen.add(key)
            lines[child] = line
            _map_lines(value_node, child, lines, duplicates, shown)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _map_lines(item, child, lines, duplicates, shown)


def _key_value(node: yaml.Node) -> Any:
    # Keys are strings in every rubric; other scalars keep their text so paths stay printable.
    if isinstance(node, yaml.ScalarNode):
        return node.value
    return f"<{_node_kind(node)}>"


def line_for(path: KeyPath, lines: dict[KeyPath, int]) -> int:
    """The line of ``path``, or of its nearest recorded ancestor (a missing key's mapping)."""
    for end in range(len(path), -1, -1):
        prefix = path[:end]
        if prefix in lines:
            return lines[prefix]
        # YAML keys are strings; pydantic may report them as other types (never in practice).
        alt = tuple(str(p) if not isinstance(p, int) else p for p in prefix)
        if alt in lines:
            return lines[alt]
    return 1


def format_key_path(path: KeyPath) -> str:
    """``("checks", 2, "points")`` -> ``checks[2].points``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


# --- pydantic errors -> messages ----------------------------------------------------------------


def _format_error(shown: str, err: Any, lines: dict[KeyPath, int]) -> Problem:
    loc: KeyPath = _without_tags(tuple(err["loc"]), lines)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    message = err["msg"]
    if kind == "duplicate_check_id":
        loc = (*loc, ctx["index"], "id")
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        message = f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    elif kind == "missing":
        message = "missing required key"
    return _problem(shown, loc, message, lines)


def _without_tags(loc: KeyPath, lines: dict[KeyPath, int]) -> KeyPath:
    """The key path as written in the file: pydantic puts the member's tag of a tagged union (the
    `imagefolder` of `data.afhq.imagefolder.mounts`) where the file has no key."""
    kept: KeyPath = ()
    for index, part in enumerate(loc):
        rest = loc[index + 1:index + 2]
        if (*kept, part) not in lines and rest and (*kept, *rest) in lines:
            continue
        kept = (*kept, part)
    return kept


def _problem(shown: str, loc: KeyPath, message: str, lines: dict[KeyPath, int]) -> Problem:
    line = line_for(loc, lines)
    return line, f"{shown}:{line}: {format_key_path(loc)}: {message}"


# --- the families' sections ----------------------------------------------------------------------


def _section_problems(shown: str, data: Any, lines: dict[KeyPath, int]) -> list[Problem]:
    """Top-level keys that are neither the rubric's own nor a family's section, and each family
    section (e.g. `data:`, `evaluation:`) held to the type its family declares."""
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    owned = family_sections()
    allowed = top_level_keys()
    for key, value in data.items():
        if key in Rubric.model_fields:
            continue
        if key not in owned:
            message = f"unknown key (allowed: {', '.join(allowed)})"
            problems.append(_problem(shown, (key,), message, lines))
            continue
        try:
            section_adapter(key).validate_python(value)
        except ValidationError as exc:
            problems += [_format_error(shown, {**err, "loc": (key, *err["loc"])}, lines) for err in exc.errors()]
    return problems


# --- each check against its kind ----------------------------------------------------------------


def _kind_problems(shown: str, data: Any, lines: dict[KeyPath, int]) -> list[Problem]:
    """Unknown kinds, parameters the kind does not take or of the wrong type, and credit keys
    that are none of the kind's outcomes. A check whose `kind`, `params` or `credit` is malformed
    itself is left to the schema's own message."""
    checks = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(checks, list):
        return []
    problems: list[Problem] = []
    for index, check in enumerate(checks):
        if not isinstance(check, dict) or not isinstance(check.get("kind"), str) or not check["kind"]:
            continue
        at: KeyPath = ("checks", index)
        name = check["kind"]
        kind = kinds().get(name)
        if kind is None:
            problems.append(_problem(shown, (*at, "kind"), _unknown_kind(name), lines))
            continue
        params = check.get("params", {})
        if isinstance(params, dict):
            problems += _param_problems(shown, name, kind.params, params, (*at, "params"), lines)
        credit = check.get("credit", {})
        if isinstance(credit, dict):
            outcomes = sorted(kind.outcomes)
            for key in credit:
                if key not in kind.outcomes:
                    message = f"{name} has no outcome '{key}'{_did_you_mean(str(key), outcomes)} " \
                              f"(its outcomes: {', '.join(outcomes)})"
                    problems.append(_problem(shown, (*at, "credit", str(key)), message, lines))
    return problems


def _unknown_kind(name: str) -> str:
    close = _did_you_mean(name, list(kinds()))
    if close:
        return f"unknown check kind '{name}'{close}"
    return f"unknown check kind '{name}' (known kinds: {', '.join(sorted(kinds()))})"


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _param_problems(shown: str, name: str, model: type[BaseModel], params: dict[str, Any], at: KeyPath,
                    lines: dict[KeyPath, int]) -> list[Problem]:
    try:
        model.model_validate(params)
    except ValidationError as exc:
        return [_param_problem(shown, name, model, err, at, lines) for err in exc.errors()]
    return []


def _param_problem(shown: str, name: str, model: type[BaseModel], err: Any, at: KeyPath,
                   lines: dict[KeyPath, int]) -> Problem:
    loc: KeyPath = tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        inner = _model_at(model, loc[:-1])
        allowed = list(inner.model_fields) if inner is not None else []
        if not allowed:
            message = f"{name} takes no parameters"
        else:
            guess = _did_you_mean(str(loc[-1]), allowed)
            message = f"{name} has no parameter '{loc[-1]}'{guess} (allowed: {', '.join(allowed)})"
    elif err["type"] == "missing":
        message = f"missing required parameter of {name}"
    return _problem(shown, (*at, *loc), message, lines)


def _allowed_keys(parent: KeyPath) -> list[str]:
    """The field names of the model found at ``parent`` in the Rubric schema (a family's section
    read by its own type)."""
    if not parent:
        return top_level_keys()
    owned = family_sections()
    if parent[0] in owned:
        model = _model_at(owned[str(parent[0])][1].type, parent[1:])
    else:
        model = _model_at(Rubric, parent)
    return list(model.model_fields) if model is not None else []


def _model_at(annotation: Any, path: KeyPath) -> type[BaseModel] | None:
    current = annotation
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (list, tuple) and isinstance(part, int) and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional so the walk sees the underlying type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if len(models) == 1:
                return models[0]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


__all__ = [
    "available_rubrics",
    "default_rubrics_dir",
    "format_key_path",
    "line_for",
    "load_rubric",
    "resolve_rubric_path",
    "validate_rubric_file",
]
