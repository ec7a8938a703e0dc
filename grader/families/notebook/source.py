"""The student's code cells read with `ast` (never executed): imports, names and data flow.

Used by the Task 2 notebook checks to answer questions like "is this augmentation transform
applied to data a model is trained on?". The notebook is read as one program in cell order (the
order the harness ran it). A light forward data-flow pass tracks which values derive from
*sources* (calls a check is interested in, e.g. `T.RandomRotation(10)`), through assignments,
containers, method calls that store their arguments (`model.add(layer)`), student functions and
classes, and records *uses*: a value reaching a training step (`loss.backward()` in a loop, a
`.fit(...)` call, a student function that trains), a prediction, or data named as test data.

Whether a use actually ran comes from the run record: a statement counts as completed when its
cell finished, timed out while running it, or raised on a later line.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from grader_inside.notebook import Cell, neutralise_colab
from grader.run.runner import CellRecord

# Cell magics whose body is ordinary Python run by the kernel; any other `%%magic` body is not.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
_CELL_MAGIC = re.compile(r"^\s*%%(\w+)")
# IPython names the executing cell first in a traceback: "Cell In[7], line 12".
_TB_LINE = re.compile(r"Cell In\s*\[[^\]]*\],\s*line (\d+)|<ipython-input-[^>]*>\s+in\s+\S+\(\)?\s*\n-*>\s*(\d+)")
# Tensorflow re-exports keras; old standalone keras, keras 3 and tf.keras are one family here.
_QUAL_PREFIXES = (
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf.keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras.api.", "keras."),
    ("keras.layers.experimental.preprocessing.", "keras.layers."),
    ("keras.layers.preprocessing.", "keras.layers."),
    ("keras.preprocessing.image.", "keras.preprocessing.image."),
    ("torchvision.transforms.v2.", "torchvision.transforms."),
    ("torchvision.transforms.transforms.", "torchvision.transforms."),
)
TRAIN_CALLS = frozenset({"backward", "fit", "fit_generator", "train_on_batch"})
PREDICT_CALLS = frozenset({"predict", "evaluate", "predict_on_batch", "predict_generator",
                           "evaluate_generator", "forward", "predict_classes", "test_on_batch"})
_NAME_PARTS = re.compile(r"_+|\d+|(?<=[a-z])(?=[A-Z])")
_TEST_WORDS = {"test", "tst", "val", "valid", "validation", "dev", "eval", "holdout"}


def is_test_name(name: str) -> bool:
    """`test_ds`, `val_loader`, `testset`, `valLoader`, `X_val` (not `value`, not `train_val`)."""
    parts = [p.lower() for p in _NAME_PARTS.split(name) if p]
    if any(p.startswith("train") for p in parts):
        return False
    return any(p in _TEST_WORDS or p.startswith("test") or (p.startswith("val") and not p.startswith("valu"))
               for p in parts)

UseKind = Literal["train", "predict", "test"]


@dataclass(frozen=True)
class ParsedCell:
    number: int
    tree: ast.Module | None  # None: the cell is not Python (a shell/HTML cell) or does not parse


def parse_cell(source: str) -> ast.Module | None:
    """The cell as an AST, with IPython syntax (`!pip`, `%time`, `%%time`) made plain Python."""
    m = _CELL_MAGIC.match(source)
    if m:
        if m.group(1) not in _PYTHON_CELL_MAGICS:
            return None
        first_end = source.find("\n")
        source = "\n" + source[first_end + 1:] if first_end >= 0 else ""
    for attempt in (_ipython_transform, lambda s: neutralise_colab(s)[0], lambda s: s.replace("\t", "    ")):
        try:
            return ast.parse(attempt(source))
        except (SyntaxError, ValueError):
            continue
        except Exception:  # IPython's transformer may fail on odd input; try the next form
            continue
    return None


def _ipython_transform(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return str(TransformerManager().transform_cell(source))


def parse_cells(cells: Iterable[Cell]) -> list[ParsedCell]:
    return [ParsedCell(c.number, parse_cell(c.source)) for c in cells if c.kind == "code"]


# -- names --------------------------------------------------------------------------------------


@dataclass
class Aliases:
    """Local name -> qualified name, from every import in the notebook."""

    names: dict[str, str] = field(default_factory=dict)
    star: list[str] = field(default_factory=list)  # modules imported with `from m import *`

    @classmethod
    def of(cls, parsed: Iterable[ParsedCell]) -> Aliases:
        out = cls()
        for cell in parsed:
            if cell.tree is None:
                continue
            for node in ast.walk(cell.tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        if a.asname:
                            out.names[a.asname] = a.name
                        else:
                            root = a.name.split(".")[0]
                            out.names.setdefault(root, root)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for a in node.names:
                        if a.name == "*":
                            out.star.append(node.module)
                        else:
                            out.names[a.asname or a.name] = f"{node.module}.{a.name}"
        return out

    def qualify(self, expr: ast.AST) -> str | None:
        """`T.RandomRotation` -> `torchvision.transforms.RandomRotation` (normalised); None if unknown."""
        parts: list[str] = []
        node = expr
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(node.id)
        root = self.names.get(node.id)
        if root is None:
            if len(parts) == 1 and self.star:
                root = f"{self.star[-1]}.{node.id}"
            else:
                return None
        return normalise(".".join([root, *reversed(parts[:-1])]))


def normalise(qual: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix, new in _QUAL_PREFIXES:
            if qual.startswith(prefix) and prefix != new:
                qual = new + qual[len(prefix):]
                changed = True
    return qual


def root_name(expr: ast.AST) -> str | None:
    """`a.b[0].c` -> `a`; None when the expression does not start at a name."""
    node = expr
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def call_attr(call: ast.Call) -> str | None:
    """The method name of `x.m(...)`; the function name of `f(...)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def constant_strings(expr: ast.AST) -> list[str]:
    """Literal text in an expression (string constants and the fixed parts of f-strings)."""
    return [n.value for n in ast.walk(expr) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


# -- did it run? --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """Which statements completed, from the per-cell run records."""

    status: dict[int, str]
    error_line: dict[int, int]

    @classmethod
    def of(cls, run_cells: Iterable[CellRecord]) -> RunInfo:
        status: dict[int, str] = {}
        lines: dict[int, int] = {}
        for rec in run_cells:
            status[rec.number] = rec.status
            if rec.status == "error":
                m = _TB_LINE.search(rec.traceback or "")
                if m:
                    lines[rec.number] = int(m.group(1) or m.group(2))
        return cls(status, lines)

    def completed(self, cell: int, node: ast.AST) -> bool:
        st = self.status.get(cell)
        if st in ("ok", "timeout"):
            return True
        if st == "error":
            line = self.error_line.get(cell)
            end = getattr(node, "end_lineno", None) or getattr(node, "lineno", 0)
            return line is not None and end < line
        return False

    def failed(self, cell: int) -> bool:
        return self.status.get(cell) in ("error", "died")

    def ran(self, cell: int) -> bool:
        return self.status.get(cell) in ("ok", "timeout", "error")


# -- data flow ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: str  # what the classifier says it is (e.g. "augment", "pretrained")
    name: str  # the qualified callee, e.g. "torchvision.transforms.RandomRotation"
    cell: int
    line: int
    text: str  # the call as written (shortened)


@dataclass(frozen=True)
class Use:
    kind: UseKind
    cell: int
    line: int
    sources: frozenset[Source]
    completed: bool
    text: str


Classifier = Callable[[ast.Call, "str | None"], "str | None"]
"""(call, qualified callee) -> a source kind, or None when the call is not a source."""


@dataclass
class _Callable:
    """A student function or class: what calling it yields and whether it trains."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    cell: int
    trains: bool
    sources: frozenset[Source]  # sources that calling it yields (returned, or an instance's)
    made: frozenset[Source]  # every source created in its body (used there when it trains)
    free_names: frozenset[str]  # names it reads that it does not assign (globals)


@dataclass
class Flow:
    """Run the flow pass once per (notebook, classifier); read `sources` and `uses` after."""

    parsed: list[ParsedCell]
    aliases: Aliases
    classify: Classifier
    run: RunInfo
    sources: list[Source] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    env: dict[str, frozenset[Source]] = field(default_factory=dict)
    callables: dict[str, _Callable] = field(default_factory=dict)
    training_methods: set[str] = field(default_factory=set)  # methods of student classes that train
    _cell: int = 0
    _seen: set[tuple[int, int, int]] = field(default_factory=set)

    def analyse(self) -> Flow:
        for cell in self.parsed:
            if cell.tree is None:
                continue
            self._cell = cell.number
            for stmt in cell.tree.body:
                self._stmt(stmt, stmt)
        return self

    # sources and taint ----------------------------------------------------------------------
    def _source(self, call: ast.Call) -> Source | None:
        qual = self.aliases.qualify(call.func)
        kind = self.classify(call, qual)
        if kind is None:
            return None
        src = Source(kind, qual or ast.unparse(call.func), self._cell, call.lineno, _short(call))
        key = (src.cell, call.lineno, call.col_offset)
        if key not in self._seen:
            self._seen.add(key)
            self.sources.append(src)
        return src

    def taint(self, expr: ast.AST | None) -> frozenset[Source]:
        """Sources that `expr`'s value may derive from (its calls, the names it reads)."""
        if expr is None:
            return frozenset()
        env = self.env
        found: set[Source] = set()
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                src = self._source(node)
                if src is not None:
                    found.add(src)
                name = node.func.id if isinstance(node.func, ast.Name) else None
                if name in self.callables:
                    found |= self.callables[name].sources
            elif isinstance(node, ast.Name) and node.id in env:
                found |= env[node.id]
        return frozenset(found)

    def _use(self, kind: UseKind, taint: frozenset[Source], node: ast.AST, top: ast.stmt) -> None:
        if taint:
            self.uses.append(Use(kind, self._cell, getattr(node, "lineno", 0), taint,
                                 self.run.completed(self._cell, top), _short(node)))

    # statements -----------------------------------------------------------------------------
    def _assign(self, targets: list[ast.expr], value: ast.expr | None, top: ast.stmt,
                extra: frozenset[Source] = frozenset()) -> None:
        t = self.taint(value) | extra
        self._calls(value, top)
        for target in targets:
            for name_node in _target_nodes(target):
                if isinstance(name_node, ast.Name):
                    self.env[name_node.id] = t
                    if t and is_test_name(name_node.id) and isinstance(value, ast.Call):
                        self._use("test", t, value, top)
                else:
                    root = root_name(name_node)
                    if root is not None:
                        self.env[root] = self.env.get(root, frozenset()) | t

    def _stmt(self, stmt: ast.stmt, top: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            self._assign(stmt.targets, stmt.value, top)
        elif isinstance(stmt, ast.AnnAssign):
            self._assign([stmt.target], stmt.value, top)
        elif isinstance(stmt, ast.AugAssign):
            old = self.env.get(root_name(stmt.target) or "", frozenset())
            self._assign([stmt.target], stmt.value, top, extra=old)
        elif isinstance(stmt, ast.Expr):
            self.taint(stmt.value)
            self._calls(stmt.value, top)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            t = self.taint(stmt.iter)
            self._calls(stmt.iter, top)
            for node in _target_nodes(stmt.target):
                if isinstance(node, ast.Name):
                    self.env[node.id] = t
            self._block(stmt.body, top)
            self._block(stmt.orelse, top)
            if self.trains(stmt.body):
                self._use("train", t | self._names_taint(stmt.body), stmt, top)
        elif isinstance(stmt, ast.While):
            self._block(stmt.body, top)
            if self.trains(stmt.body):
                self._use("train", self._names_taint(stmt.body), stmt, top)
        elif isinstance(stmt, (ast.If,)):
            self.taint(stmt.test)
            self._block(stmt.body, top)
            self._block(stmt.orelse, top)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                t = self.taint(item.context_expr)
                if item.optional_vars is not None:
                    for node in _target_nodes(item.optional_vars):
                        if isinstance(node, ast.Name):
                            self.env[node.id] = t
            self._block(stmt.body, top)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._block(stmt.body, top)  # type: ignore[attr-defined]
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                self._block(handler.body, top)
            self._block(stmt.orelse, top)  # type: ignore[attr-defined]
            self._block(stmt.finalbody, top)  # type: ignore[attr-defined]
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._define(stmt)

    def _block(self, body: list[ast.stmt], top: ast.stmt) -> None:
        for stmt in body:
            self._stmt(stmt, top)

    def _names_taint(self, body: list[ast.stmt]) -> frozenset[Source]:
        found: set[Source] = set()
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id in self.env:
                    found |= self.env[node.id]
        return frozenset(found)

    def _calls(self, expr: ast.AST | None, top: ast.stmt) -> None:
        """Record what the calls in `expr` do with tainted values (store, train, predict)."""
        if expr is None:
            return
        for node in ast.walk(expr):
            if not isinstance(node, ast.Call):
                continue
            args = [*node.args, *(kw.value for kw in node.keywords)]
            arg_taint = frozenset().union(*(self.taint(a) for a in args)) if args else frozenset()
            attr = call_attr(node)
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            recv_taint = self.taint(receiver) if receiver is not None else frozenset()
            if isinstance(node.func, ast.Name) and node.func.id in self.callables:
                info = self.callables[node.func.id]
                if info.trains:
                    free = frozenset().union(*(self.env.get(n, frozenset()) for n in info.free_names)) \
                        if info.free_names else frozenset()
                    self._use("train", arg_taint | free | info.made, node, top)
                elif arg_taint and not isinstance(info.node, ast.ClassDef):
                    self._use("predict", arg_taint, node, top)
                continue
            if (attr in TRAIN_CALLS and attr != "backward") or (receiver is not None and attr in self.training_methods):
                # `datagen.fit(x)` only computes statistics; the generator trains nothing itself
                recv_taint = frozenset(s for s in recv_taint if not s.name.endswith("ImageDataGenerator"))
                self._use("train", recv_taint | arg_taint, node, top)
            elif attr in PREDICT_CALLS:
                self._use("predict", recv_taint, node, top)
                self._use("test", arg_taint, node, top)
            elif receiver is None and isinstance(node.func, ast.Name) and node.func.id in self.env:
                self._use("predict", self.env[node.func.id], node, top)  # model(x)
            if receiver is not None:
                root = root_name(receiver)
                own = self._source(node)  # a method that is itself a source: m.load_state_dict(...)
                stored = arg_taint | ({own} if own is not None else set())
                if stored and root is not None and root not in self.aliases.names:
                    self.env[root] = self.env.get(root, frozenset()) | stored  # model.add(layer)
            if _is_test_split(node):
                self._use("test", arg_taint, node, top)

    # student functions and classes -----------------------------------------------------------
    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        made = {src for sub in ast.walk(node) if isinstance(sub, ast.Call) and (src := self._source(sub))}
        if isinstance(node, ast.ClassDef):
            sources = frozenset(made)  # an instance carries whatever its methods build
            self.training_methods.update(
                m.name for m in node.body
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.trains(m.body))
        else:
            sources = frozenset(made) if _returns_value(node) else frozenset()
        assigned = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        params = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        free = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        trains = not isinstance(node, ast.ClassDef) and self.trains(node.body)  # classes train via methods
        self.callables[node.name] = _Callable(node, self._cell, trains, sources,
                                              frozenset(made), frozenset(free - assigned - params))

    def trains(self, body: Iterable[ast.AST]) -> bool:
        """Whether `body` contains a training step (a backward pass, a fit, a training function)."""
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call):
                    attr = call_attr(node)
                    if isinstance(node.func, ast.Attribute) and (attr in TRAIN_CALLS or attr in self.training_methods):
                        return True
                    if isinstance(node.func, ast.Name) and node.func.id in self.callables \
                            and self.callables[node.func.id].trains:
                        return True
        return False


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether `fn` hands back values (a return with a value, a yield, or `global` writes)."""
    has_return = any(isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) and getattr(n, "value", None)
                     is not None for n in ast.walk(fn))
    return has_return or any(isinstance(n, ast.Global) for n in ast.walk(fn))


def _is_test_split(call: ast.Call) -> bool:
    """A dataset built from the test split: `MNIST(..., train=False)`, `split="test"`."""
    train = keyword(call, "train")
    if isinstance(train, ast.Constant) and train.value is False:
        return True
    split = keyword(call, "split")
    return isinstance(split, ast.Constant) and isinstance(split.value, str) and \
        split.value.lower() in ("test", "val", "valid", "validation")


def _target_nodes(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_nodes(elt)]
    if isinstance(target, ast.Starred):
        return _target_nodes(target.value)
    return [target]


def _short(node: ast.AST, limit: int = 90) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def all_calls(parsed: Iterable[ParsedCell]) -> Iterable[tuple[int, ast.Call, ast.stmt]]:
    """Every call in the notebook with its cell number and top-level statement, in order."""
    for cell in parsed:
        if cell.tree is None:
            continue
        for stmt in cell.tree.body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call):
                    yield cell.number, node, stmt
