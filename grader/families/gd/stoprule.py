"""Which stop rule a GD loop uses, read from the student's source with `ast` (never executed).

Classified per loop: a condition in `while ...:` or in an `if ...: break/return` inside the loop.
    delta_f     |f(x_k+1) - f(x_k)| < eps   (the course's rule)
    delta_x     |x_k+1 - x_k| < eps
    grad_norm   |f'(x_k)| < eps  (also sums of |grad|)
    fixed_steps only an iteration counter
Roles come from the analysis (which names are the function, the derivative, the positions);
when a condition uses a variable, its assignments in the same scope are expanded (two levels),
and a call of the student's own test (`has_converged(x)`, a def that returns a comparison) is
read as the comparison it returns.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from grader_inside.notebook import Cell, neutralise_colab

RuleKind = Literal["delta_f", "delta_x", "grad_norm", "fixed_steps", "unknown"]
_F_HINTS = ("f", "fx", "fun", "func", "loss", "cost", "l", "y", "value", "val")
_G_HINTS = ("grad", "g", "df", "dl", "deriv", "derivative", "gradient", "dfdx", "dy")
_X_HINTS = ("x", "dx", "step", "w", "delta", "diff", "point", "xk", "xn")


@dataclass(frozen=True)
class LoopRule:
    cell: int
    scope: str  # function name or "<module>"
    kind: RuleKind
    line: int
    condition: str


@dataclass(frozen=True)
class Roles:
    f_names: frozenset[str]  # callables that compute the function
    g_names: frozenset[str]  # callables that compute the derivative
    f_values: frozenset[str] = frozenset()  # variables/lists that held f at the steps (from the run)
    x_values: frozenset[str] = frozenset()  # variables/lists that held the steps themselves


def _stem(name: str) -> str:
    return name.lower().rstrip("0123456789_").split("_")[0]


class _Scope(ast.NodeVisitor):
    def __init__(self) -> None:
        self.assigns: dict[str, list[ast.expr]] = {}

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            for name in _target_names(target):
                self.assigns.setdefault(name, []).append(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        for name in _target_names(node.target):
            self.assigns.setdefault(name, []).append(node.value)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        return  # inner functions have their own scope


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_names(elt)]
    return []


def _called(expr: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name):
                out.add(fn.id)
            elif isinstance(fn, ast.Attribute):
                out.add(fn.attr)
    return out


def _names(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _value_role(expr: ast.expr, assigns: dict[str, list[ast.expr]], roles: Roles, depth: int) -> str:
    """What one side of a difference holds: "f" (a function value), "x" (a position), "g", "?"."""
    base = expr.value if isinstance(expr, ast.Subscript) else expr  # ys[-1] holds what ys holds
    if isinstance(base, ast.Name):
        if base.id in roles.f_values:
            return "f"
        if base.id in roles.x_values:
            return "x"
    calls = _called(expr)
    if calls & roles.f_names:
        return "f"
    if isinstance(expr, ast.Name):
        stem = _stem(expr.id)
        values = assigns.get(expr.id, [])
        if depth > 0:
            for value in values[-3:]:
                role = _value_role(value, assigns, roles, depth - 1)
                if role in ("f", "g"):
                    return role
            if any(_called(v) & roles.g_names or isinstance(v, ast.BinOp) for v in values):
                return "x"
        if stem in _G_HINTS:
            return "g"
        if stem in _X_HINTS:
            return "x"
        if stem in _F_HINTS:
            return "f"
        return "x" if values else "?"
    if calls & roles.g_names:
        return "x" if isinstance(expr, ast.BinOp) else "g"
    return "?"


def _same_callee(a: ast.expr, b: ast.expr) -> str | None:
    if isinstance(a, ast.Call) and isinstance(b, ast.Call):
        na, nb = ast.unparse(a.func), ast.unparse(b.func)
        if na == nb:
            return na.split(".")[-1]
    return None


def classify(expr: ast.expr, assigns: dict[str, list[ast.expr]], roles: Roles, depth: int = 2) -> RuleKind:
    calls = _called(expr)
    if calls & roles.f_names:
        return "delta_f"
    for node in ast.walk(expr):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            same = _same_callee(node.left, node.right)
            if same is not None and same not in roles.g_names:
                return "delta_f"  # F(a) - F(b): a change of the function value
            left = _value_role(node.left, assigns, roles, depth)
            right = _value_role(node.right, assigns, roles, depth)
            if left == right == "f":
                return "delta_f"
            if left == right == "x":
                return "delta_x"
    if calls & roles.g_names:
        return "grad_norm"
    names = sorted(_names(expr) - calls)
    if depth > 0:
        for name in names:
            for value in assigns.get(name, [])[-3:]:
                kind = classify(value, assigns, roles, depth - 1)
                if kind in ("delta_f", "delta_x", "grad_norm"):
                    return kind
    stems = {_stem(n) for n in names}
    if stems & set(_G_HINTS):
        return "grad_norm"
    if stems & {"diff", "delta", "dx", "step"}:
        return "delta_x"
    counters = {"i", "k", "n", "it", "iter", "iters", "iteration", "epoch", "epochs", "max", "count", "j", "steps", "num"}
    if names and stems <= counters | {"len", "range"}:
        return "fixed_steps"
    return "unknown"


def _conditions(loop: ast.While | ast.For) -> list[ast.expr]:
    conds: list[ast.expr] = []
    if isinstance(loop, ast.While) and not (isinstance(loop.test, ast.Constant) and loop.test.value):
        conds.append(loop.test)
    for node in ast.walk(loop):
        if isinstance(node, ast.If) and any(isinstance(s, (ast.Break, ast.Return)) for s in node.body):
            conds.append(node.test)
    return conds


def parsed_cells(cells: list[Cell]) -> list[tuple[Cell, ast.Module]]:
    """The code cells that parse, as the harness runs them (offline-only lines and magics as
    `pass`), each with its syntax tree."""
    out = []
    for cell in cells:
        if cell.kind != "code":
            continue
        source, _ = neutralise_colab(cell.source)
        source = "\n".join("pass" if ln.lstrip().startswith(("!", "%")) else ln for ln in source.split("\n"))
        try:
            out.append((cell, ast.parse(source)))
        except SyntaxError:
            continue
    return out


def _tests(trees: list[tuple[Cell, ast.Module]]) -> dict[str, ast.expr]:
    """The student's own stop tests: defs whose body is `return <comparison>`."""
    found: dict[str, ast.expr] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                last = node.body[-1]
                if isinstance(last, ast.Return) and isinstance(last.value, (ast.Compare, ast.BoolOp)):
                    found[node.name] = last.value
    return found


def _inline_tests(expr: ast.expr, tests: dict[str, ast.expr]) -> ast.expr:
    """`expr` with each call of a stop test replaced by the comparison the test returns."""
    class Inline(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if isinstance(node.func, ast.Name) and node.func.id in tests:
                return tests[node.func.id]
            return self.generic_visit(node)

    return Inline().visit(ast.parse(ast.unparse(expr), mode="eval").body) if tests else expr


def loop_rules(cells: list[Cell], roles: Roles) -> list[LoopRule]:
    """Every loop's stop rule, strongest condition first within a loop."""
    order: dict[RuleKind, int] = {"delta_f": 0, "delta_x": 1, "grad_norm": 2, "unknown": 3, "fixed_steps": 4}
    rules: list[LoopRule] = []
    trees = parsed_cells(cells)
    tests = _tests(trees)
    for cell, tree in trees:
        scopes: list[tuple[str, ast.AST]] = [("<module>", tree)]
        scopes += [(n.name, n) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for scope_name, scope in scopes:
            visitor = _Scope()
            body = scope.body if isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) else []
            for stmt in body:
                visitor.visit(stmt)
            for node in _own_loops(scope):
                conds = _conditions(node)
                kinds = [(classify(_inline_tests(c, tests), visitor.assigns, roles), c) for c in conds]
                if not kinds:
                    kind, cond = ("fixed_steps" if isinstance(node, ast.For) else "unknown"), None
                else:
                    kind, cond = min(kinds, key=lambda kc: order[kc[0]])
                rules.append(LoopRule(cell.number, scope_name, kind, node.lineno,
                                      ast.unparse(cond)[:120] if cond is not None else ""))
    return rules


def _own_loops(scope: ast.AST) -> list[ast.While | ast.For]:
    """Outermost loops directly in this scope (not inside nested functions or other loops)."""
    found: list[ast.While | ast.For] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.While, ast.For)):
                found.append(child)
                continue
            walk(child)

    walk(scope)
    return found
