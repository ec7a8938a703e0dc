"""Functions written inline, without a `def`: `y = x**2 - 2*x + 3` inside a torch loop,
`F.append(x**2 + 10*math.sin(x))` that builds a plot, a sympy expression whose name is reused.

They are read from the student's source with `ast` and evaluated by a small interpreter that
knows only numbers, one variable, + - * / ** and the usual mathematical functions of numpy,
math, torch and sympy, on the points the probe tabulated. Student code is never run here.
"""
from __future__ import annotations

import ast
import logging
from dataclasses import dataclass

import numpy as np

from grader.families.gd.stoprule import parsed_cells
from grader_inside.notebook import Cell

logger = logging.getLogger(__name__)

MAX_EXPRESSIONS = 40
_UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs, "fabs": np.abs, "tanh": np.tanh,
    "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan, "atan": np.arctan, "arcsin": np.arcsin,
    "asin": np.arcsin, "arccos": np.arccos, "acos": np.arccos, "Abs": np.abs, "square": np.square,
}
_BINARY = {"pow": np.power, "power": np.power}
_WRAPPERS = {"tensor", "float", "float64", "float32", "array", "Float", "Tensor"}  # torch.tensor(2.0)
_CONSTANTS = {"pi": np.pi, "e": np.e, "E": np.e}
_MODULES = {"np", "numpy", "math", "torch", "sp", "sympy", "tf", "jnp"}


class _NotSafe(Exception):
    pass


@dataclass(frozen=True)
class InlineExpression:
    text: str  # as written, with the variable renamed to x
    cell: int
    line: int
    node: ast.expr
    variable: str

    def evaluate(self, x: np.ndarray, constants: dict[str, float]) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = _eval(self.node, self.variable, x, constants)
        return np.broadcast_to(np.asarray(out, dtype=float), x.shape).copy()


def _call_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in _MODULES:
        return node.attr
    return None


def _eval(node: ast.AST, var: str, x: np.ndarray, constants: dict[str, float]) -> np.ndarray | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id == var:
            return x
        if node.id in constants:
            return constants[node.id]
        raise _NotSafe(node.id)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in _MODULES and node.attr in _CONSTANTS:
            return _CONSTANTS[node.attr]
        raise _NotSafe(ast.unparse(node))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, var, x, constants)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, var, x, constants), _eval(node.right, var, x, constants)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        if isinstance(node.op, ast.Pow):
            return np.power(left, right)
        raise _NotSafe(type(node.op).__name__)
    if isinstance(node, ast.Call) and not node.keywords:
        name = _call_name(node.func)
        args = [_eval(a, var, x, constants) for a in node.args]
        if name in _UNARY and len(args) == 1:
            return _UNARY[name](args[0])
        if name in _BINARY and len(args) == 2:
            return _BINARY[name](args[0], args[1])
        if name in _WRAPPERS and len(args) == 1:
            return args[0]
    raise _NotSafe(type(node).__name__)


def _free_names(node: ast.expr) -> set[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    called = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return names - called - _MODULES


def _constant_value(node: ast.expr) -> float | None:
    try:
        value = _eval(node, "\0", np.zeros(1), {})
    except _NotSafe:
        return None
    return float(np.asarray(value).reshape(-1)[0]) if np.size(value) == 1 else None


def numeric_constants(cells: list[Cell]) -> dict[str, float]:
    """Names the notebook assigns exactly once, to a number (`a = 2`, `b = torch.tensor(-2.0)`)."""
    seen: dict[str, list[float | None]] = {}
    for tree, _ in _trees(cells):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                seen.setdefault(node.targets[0].id, []).append(_constant_value(node.value))
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                seen.setdefault(node.target.id, []).append(None)
    return {name: values[0] for name, values in seen.items() if len(values) == 1 and values[0] is not None}


def _trees(cells: list[Cell]) -> list[tuple[ast.Module, int]]:
    return [(tree, cell.number) for cell, tree in parsed_cells(cells)]


def _parameters(tree: ast.Module) -> dict[int, set[str]]:
    """id(expression node) -> parameter names of the defs it sits in (their bodies are callables)."""
    inside: dict[int, set[str]] = {}

    def visit(node: ast.AST, params: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            params = params | {a.arg for a in node.args.args}
        for child in ast.iter_child_nodes(node):
            inside[id(child)] = params
            visit(child, params)

    visit(tree, set())
    return inside


def inline_expressions(cells: list[Cell], constants: dict[str, float]) -> list[InlineExpression]:
    """Arithmetic expressions of exactly one variable, each the largest such expression where
    it stands (so `x**2 + 10*math.sin(x)` is one candidate, not three)."""
    found: dict[str, InlineExpression] = {}
    for tree, number in _trees(cells):
        params = _parameters(tree)
        parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.BinOp, ast.Call)) or len(found) >= MAX_EXPRESSIONS:
                continue
            parent = parents.get(id(node))
            if isinstance(parent, (ast.BinOp, ast.UnaryOp)) or (isinstance(parent, ast.Call) and _call_name(parent.func) in _UNARY):
                continue  # part of a larger expression
            names = _free_names(node) - set(constants)
            if len(names) != 1:
                continue
            (var,) = names
            if var in params.get(id(node), set()):
                continue  # the body of a def or lambda: tabulated as a callable already
            try:
                _eval(node, var, np.array([0.37]), constants)
            except _NotSafe:
                continue
            except Exception:  # numpy warnings turned errors, odd shapes: not a candidate
                continue
            text = ast.unparse(_renamed(node, var))
            if text not in found and text != "x":
                found[text] = InlineExpression(text, number, getattr(node, "lineno", 0), node, var)
    return list(found.values())


def _renamed(node: ast.expr, var: str) -> ast.expr:
    class Rename(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.Name:
            return ast.Name("x", n.ctx) if n.id == var else n

    return Rename().visit(ast.parse(ast.unparse(node), mode="eval").body)
