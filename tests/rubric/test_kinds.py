"""Strict rubrics: every check is held to its kind's parameters and outcome keys, and the kinds
each family declares (grader/families/<name>/__init__.py) is kept in step with the check functions' source."""
from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from grader.artifacts import MANUAL_KEY
from grader.families import CHECKS, kinds
from grader.rubric import available_rubrics, default_rubrics_dir, load_rubric, validate_rubric_file
from grader.families.apps.params import AppRunParams, ComposeParams, DockerParams

KINDS = kinds()

ISSUE_EXAMPLE = (Path(__file__).resolve().parents[1] / "fixtures" / "rubrics" / "misspelt.yaml").read_text(
    encoding="utf-8")  # issue 17's example: a misspelt kind, parameter and credit key


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "task1.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def line_of(body: str, needle: str) -> int:
    return next(n for n, line in enumerate(body.splitlines(), start=1) if needle in line)


def test_issue_example_is_rejected_with_three_problems(tmp_path: Path) -> None:
    problems = validate_rubric_file(write(tmp_path, ISSUE_EXAMPLE))
    assert len(problems) == 3, problems
    param, credit, kind = problems  # in the order of their lines
    assert param.endswith(f"task1.yaml:{line_of(ISSUE_EXAMPLE, 'min_stpes')}: checks[0].params.min_stpes: "
                          "gd.steps has no parameter 'min_stpes' (did you mean 'min_steps'?) (allowed: min_steps)")
    assert f"task1.yaml:{line_of(ISSUE_EXAMPLE, 'too_fwe')}: checks[0].credit.too_fwe: gd.steps has no outcome " \
           "'too_fwe' (did you mean 'too_few'?) (its outcomes: library, missing," in credit
    assert kind.endswith(f"task1.yaml:{line_of(ISSUE_EXAMPLE, 'gd.plott')}: checks[1].kind: "
                         "unknown check kind 'gd.plott' (did you mean 'gd.plot'?)")
    with pytest.raises(Exception, match=r"invalid \(3 problems\)"):
        load_rubric(write(tmp_path, ISSUE_EXAMPLE))


def test_wrong_types_nested_parameters_and_kinds_without_parameters(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """\
        assignment: task2
        title: T
        checks:
          - {id: steps, title: S, kind: gd.steps, points: 1, params: {min_steps: many}}
          - id: answers
            title: A
            kind: notebook.answers
            points: 1
            params:
              questions:
                - {id: q1, text: "Why?", keywordz: [why]}
          - {id: func, title: F, kind: gd.function, points: 1, params: {tol: 0.1}}
          - {id: acc, title: A, kind: models.accuracy, points: 1, params: {framework: pytorch, ceiling: 2}}
          - {id: other, title: O, kind: nothing.like.it, points: 1, credit: {whatever: 1}}
          - {id: fine, title: Fine, kind: notebook.answers, points: 1}
        """
    )
    problems = validate_rubric_file(write(tmp_path, body))
    assert any(f":{line_of(body, 'many')}: checks[0].params.min_steps: Input should be a valid integer" in p
               for p in problems), problems
    assert any(f":{line_of(body, 'keywordz')}: checks[1].params.questions[0].keywordz: notebook.answers has no "
               "parameter 'keywordz' (did you mean 'keywords'?) (allowed: id, text, keywords, aliases, min_words)"
               in p for p in problems), problems
    assert any(p.endswith(f":{line_of(body, 'tol:')}: checks[2].params.tol: gd.function takes no parameters")
               for p in problems), problems
    assert any(f":{line_of(body, 'pytorch')}: checks[3].params.framework: Input should be 'any', 'torch' or 'keras'"
               in p for p in problems), problems
    assert any(f":{line_of(body, 'pytorch')}: checks[3].params.ceiling: Input should be less than or equal to 1"
               in p for p in problems), problems
    # no close kind: the known ones are listed; the credit of an unknown kind is not judged
    assert any(f":{line_of(body, 'nothing.like.it')}: checks[4].kind: unknown check kind 'nothing.like.it' "
               "(known kinds: app.api, app.compose," in p for p in problems), problems
    assert any(f":{line_of(body, 'id: fine')}: checks[5].params.questions: missing required parameter of "
               "notebook.answers" in p for p in problems), problems
    assert len(problems) == 7, problems


def test_schema_and_kind_problems_are_listed_together_by_line(tmp_path: Path) -> None:
    body = ISSUE_EXAMPLE.replace("    points: 2\n", "    points: -2\n", 1)
    problems = validate_rubric_file(write(tmp_path, body))
    assert len(problems) == 4, problems
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)
    assert any("checks[0].points: Input should be greater than or equal to 0" in p for p in problems)


@pytest.mark.parametrize("name", available_rubrics(default_rubrics_dir()))
def test_every_shipped_rubric_validates(name: str) -> None:
    path = next(default_rubrics_dir().glob(f"{name}.y*ml"))
    assert validate_rubric_file(path) == []
    rubric = load_rubric(path)
    for check in rubric.checks:
        kind = KINDS[check.kind]
        kind.params.model_validate(check.params)
        assert set(check.credit) <= kind.outcomes


def test_the_kinds_table_has_every_check_kind_and_no_other() -> None:
    assert set(KINDS) == set(CHECKS)
    assert len(KINDS) == 27  # the course's 26 and the toy family's one


# -- the table against the check functions' source ------------------------------------------
#
# For each kind the check function is parsed with `ast`, and so is every function it reaches
# by name: module-level functions of its own module, and functions of other grader.families
# modules it imports (`from grader.families.models.checks import _missing`, `notebook.check_curves`).
# In those functions every `params.get("x")` / `params["x"]` must name a field of the kind's
# model (with the same default, where the default is a literal or a module constant), and every
# `Outcome("key", ...)` with a literal key must be one of the kind's outcomes.
#
# What this does not catch: keys built at run time (`f"{framework}_only"`, `Outcome(rule.kind)`,
# `Outcome(key)` with `key` chosen in an expression, the key of another check's outcome passed
# on); parameters read under another name than `params`, or outside the check modules (the apps
# stage reads the app kinds' budgets: see the AppPlan test below; the review page reads
# `manual`'s look_for); and a function reached only through a value (a callback). A kind may
# also declare an outcome that the code no longer returns: that is caught only when the key's
# string is gone from the check's functions (test_every_declared_outcome_is_named_in_the_check).


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, AttributeError):  # an attribute of a module, not a module
        return False


@cache
def _module(name: str) -> tuple[dict[str, ast.FunctionDef], dict[str, tuple[str, str | None]], dict[str, Any]]:
    """(top-level functions, grader.families names imported -> (module, attribute or None for a
    module), module-level constants) of the module `name`."""
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    imports: dict[str, tuple[str, str | None]] = {}
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if node.module.startswith("grader.families") and _is_module(target):
                    imports[alias.asname or alias.name] = (target, None)
                elif node.module.startswith("grader.families."):
                    imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target_node in node.targets:
                if isinstance(target_node, ast.Name):
                    constants[target_node.id] = node.value.value
    return functions, imports, constants


def _reached(module: str, function: str) -> list[tuple[str, ast.FunctionDef]]:
    seen: set[tuple[str, str]] = set()
    todo = [(module, function)]
    out = []
    while todo:
        mod, name = todo.pop()
        functions, imports, _ = _module(mod)
        if (mod, name) in seen or name not in functions:
            continue
        seen.add((mod, name))
        fn = functions[name]
        out.append((mod, fn))
        for node in ast.walk(fn):
            if isinstance(node, ast.Name):
                if node.id in functions:
                    todo.append((mod, node.id))
                elif node.id in imports and imports[node.id][1] is not None:
                    todo.append(imports[node.id])  # type: ignore[arg-type]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = imports.get(node.value.id)
                if target is not None and target[1] is None:
                    todo.append((target[0], node.attr))
    return out


def _param_reads(fn: ast.FunctionDef) -> list[tuple[str, ast.expr | None, bool]]:
    """(name, default expression, has a default) of each literal parameter read from `params`."""
    reads = []
    for node in ast.walk(fn):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "params"
                and node.args and isinstance(node.args[0], ast.Constant)):
            default = node.args[1] if len(node.args) > 1 else None
            reads.append((node.args[0].value, default, True))
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "params"
              and isinstance(node.slice, ast.Constant)):
            reads.append((node.slice.value, None, False))
    return reads


def _outcome_keys(fn: ast.FunctionDef) -> set[str]:
    keys = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Outcome" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                keys.add(first.value)
            elif isinstance(first, ast.Name) and first.id == "MANUAL_KEY":
                keys.add(MANUAL_KEY)
    return keys


def _entry(kind: str) -> tuple[str, str]:
    fn = CHECKS[kind]
    return fn.__module__, fn.__name__


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parameter_a_check_reads_is_declared(kind: str) -> None:
    model = KINDS[kind].params
    for module, fn in _reached(*_entry(kind)):
        constants = _module(module)[2]
        for name, default, optional in _param_reads(fn):
            assert name in model.model_fields, f"{kind}: {module}.{fn.name} reads params[{name!r}], " \
                                               f"which {model.__name__} does not declare"
            field = model.model_fields[name]
            if not optional:
                continue
            if default is None:
                expected: Any = None
            elif isinstance(default, ast.Constant):
                expected = default.value
            elif isinstance(default, ast.Name) and default.id in constants:
                expected = constants[default.id]
            else:
                continue  # a default the test cannot evaluate (an imported constant)
            assert field.default == expected, f"{kind}: {module}.{fn.name} falls back to {expected!r} for " \
                                              f"{name!r}, {model.__name__} to {field.default!r}"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_literal_outcome_a_check_returns_is_declared(kind: str) -> None:
    reached = [fn for _, fn in _reached(*_entry(kind))]
    assert any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Outcome"
               for fn in reached for n in ast.walk(fn)), f"{kind}: no Outcome found in the check's source"
    returned = set().union(*(_outcome_keys(fn) for fn in reached))
    assert returned <= KINDS[kind].outcomes, f"{kind} returns {sorted(returned - KINDS[kind].outcomes)}, " \
                                             "which its family does not declare"


def test_every_declared_outcome_is_named_in_the_check() -> None:
    """The other way round: each outcome declared for a kind is a string the check (or a function
    it reaches) names, so a misspelt or stale key in the table fails too. Keys built from parts
    at run time are listed by hand."""
    built = {"models.inventory": {"torch_only", "keras_only"}}  # f"{framework}_only"
    for kind, spec in KINDS.items():
        named = {MANUAL_KEY} if any(isinstance(n, ast.Name) and n.id == "MANUAL_KEY"
                                    for _, fn in _reached(*_entry(kind)) for n in ast.walk(fn)) else set()
        named |= {n.value for _, fn in _reached(*_entry(kind)) for n in ast.walk(fn)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert spec.outcomes - named - built.get(kind, set()) == set(), kind


def test_the_apps_stage_reads_only_declared_app_parameters() -> None:
    """grader/families/apps/stage.py takes the run budgets from the app checks' params: each one it reads
    is a parameter of the app kinds, with the same default."""
    from grader.families.apps.stage import AppPlan

    declared = {**AppRunParams.model_fields, **DockerParams.model_fields, **ComposeParams.model_fields}
    for field in dataclasses.fields(AppPlan):
        if field.name in ("kinds", "docker"):
            continue  # from the kinds themselves
        assert field.name in declared, field.name
        default = declared[field.name].get_default(call_default_factory=True)
        assert (tuple(default) if isinstance(default, list) else default) == field.default, field.name
