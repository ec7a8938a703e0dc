"""Task 1 evidence: library optimisers in the student's code, and whether what the probe
reported (from inside the student's process, so it could be forged) matches the notebook.

Library optimisers (torch.optim, Keras optimizers, scipy.optimize) are found in the source
with `ast`, with the variables they update and their momentum / Nesterov settings; a recorded
sequence of one of those variables, in the same cell or function, is the library's work, not
the student's.

An awarded step sequence must follow from code that is really in the notebook and really ran:
the cell it was recorded in exists and ran, the variable it holds is named in the code, and
the source of the function it minimises appears in the notebook's cells.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.i18n import Message, msg
from grader.families.gd.analysis import Sequence
from grader.families.gd.fit import Func
from grader.families.gd.stoprule import parsed_cells
from grader.run.runner import CellRecord
from grader_inside.notebook import Cell, neutralise_colab

OPTIMIZER_CLASSES = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "NAdam", "RAdam",
    "ASGD", "LBFGS", "Rprop", "Ftrl", "Lion", "GradientDescentOptimizer", "MomentumOptimizer",
}
SCIPY_FUNCTIONS = {"minimize", "minimize_scalar", "fmin", "fmin_bfgs", "fmin_cg", "fmin_powell",
                   "basinhopping", "differential_evolution", "least_squares"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class LibraryUse:
    """One library optimiser created (or one scipy minimiser called) in the student's code."""

    call: str  # as written: "torch.optim.SGD", "optimize.minimize"
    family: str  # torch | keras | scipy
    cell: int
    scope: str  # the function it is created in, or "<module>"
    params: tuple[str, ...]  # the variables it updates, when written as a list of names
    momentum: float
    nesterov: bool

    @property
    def label(self) -> str:
        extras = []
        if self.momentum:
            extras.append(f"momentum={self.momentum:g}")
        if self.nesterov:
            extras.append("nesterov=True")
        return f"{self.call}({', '.join(extras)})" if extras else self.call


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> full module path for names imported from optimiser modules."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
    return found


def _family(path: str) -> str | None:
    low = path.lower()
    if "scipy" in low or ".optimize." in f".{low}.":
        return "scipy"
    if "torch" in low or low.startswith("optim."):
        return "torch"
    if "keras" in low or "tensorflow" in low or low.startswith(("tf.", "optimizers.")):
        return "keras"
    return None


def _resolve(name: str, imports: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    full = imports.get(head)
    return f"{full}.{rest}" if full and rest else (full or name)


def _number(node: ast.expr | None) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return 0.0


def _param_names(call: ast.Call) -> tuple[str, ...]:
    args = [kw.value for kw in call.keywords if kw.arg in ("params", "var_list", "x0")] + call.args[:2]
    for arg in args:
        if isinstance(arg, (ast.List, ast.Tuple)):
            return tuple(e.id for e in arg.elts if isinstance(e, ast.Name))
        if isinstance(arg, ast.Name):
            return (arg.id,)
    return ()


def library_uses(cells: list[Cell]) -> list[LibraryUse]:
    uses: list[LibraryUse] = []
    for cell, tree in parsed_cells(cells):
        imports = _imports(tree)
        scopes = {id(n): fn.name for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            written = _dotted(node.func)
            if not written:
                continue
            full = _resolve(written, imports)
            last = full.rsplit(".", 1)[-1]
            family = _family(full)
            is_optimizer = last in OPTIMIZER_CLASSES and ("optim" in full.lower() or family is not None and "." in full)
            is_scipy = last in SCIPY_FUNCTIONS and family == "scipy"
            if not (is_optimizer or is_scipy) or family is None:
                continue
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            nesterov = isinstance(keywords.get("nesterov"), ast.Constant) and keywords["nesterov"].value is True
            uses.append(LibraryUse(written, family, cell.number, scopes.get(id(node), "<module>"),
                                   _param_names(node), _number(keywords.get("momentum")), nesterov))
    return uses


def made_by_library(seq: Sequence, uses: list[LibraryUse]) -> LibraryUse | None:
    """The library optimiser that produced this recorded sequence, if one did."""
    base = seq.name.split(".")[0].split("[")[0]
    for use in uses:
        if base in use.params and (seq.cell == use.cell or (seq.scope or "<module>") == use.scope):
            return use
    return None


# -- cross-checks -----------------------------------------------------------------------------
def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def evidence_problem(cells: list[Cell], run_cells: tuple[CellRecord, ...], seq: Sequence,
                     func: Func | None) -> Message | None:
    """Why the probe's report of this sequence does not match the notebook (None when it does)."""
    code = {c.number: c for c in cells if c.kind == "code"}
    if not code:
        return None  # nothing to compare with (an unreadable file is reported elsewhere)
    if seq.cell is not None:
        if seq.cell not in code:
            return msg("gd.evidence.no_such_cell", cell=seq.cell)
        if run_cells and seq.cell not in {r.number for r in run_cells}:
            return msg("gd.evidence.cell_not_run", cell=seq.cell)
    words = set(_WORD.findall("\n".join(c.source for c in code.values())))
    base = seq.name.split(".")[0].split("[")[0]
    if seq.origin in ("trace", "namespace") and base.isidentifier() and base not in words:
        return msg("gd.evidence.unknown_name", name=base)
    if func is not None and func.origin == "callable" and func.source and not func.source.lstrip().startswith("def _lambdifygenerated"):
        # the run saw the cells with offline-only lines rewritten: either text may hold it
        body = _squeezed(func.source)
        notebook = "\n".join(c.source for c in code.values())
        if body and body not in _squeezed(notebook) and body not in _squeezed(neutralise_colab(notebook)[0]):
            return msg("gd.evidence.foreign_code", name=func.name)
    return None
