"""The package layout, read from the source with `ast`: import cycles and the trust boundary.

The helpers at the top build the module import graph of a source tree (every `import` and
`from ... import`, at module level or inside a function, leaving out `if TYPE_CHECKING:` blocks;
each edge says whether it is function-local, and edges to the packages whose __init__ Python runs
on the way to a module are marked `package`); the tests below state rules about it. A new layout rule is one more small test over `GRAPH`.
"""
from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path

from grader_inside.prepare import SHIMS

REPO = Path(__file__).resolve().parent.parent
ROOTS = (REPO / "grader", REPO / "grader_inside")
# folders on the import path: the repository, and inside the sandbox the offline stand-ins
# (grader_inside/shims/X is the top-level package X there)
PATH_ENTRIES = (REPO, SHIMS)


@dataclasses.dataclass(frozen=True)
class Edge:
    """One import statement's reference to a module."""

    target: str  # dotted name; a module of the scanned trees where one matches
    path: Path  # the importing file
    line: int
    local: bool  # inside a function body (runs on call, not on import)
    package: bool = False  # a package whose __init__ Python runs on the way to the named module

    def where(self) -> str:
        kind = "function-local" if self.local else "module-level"
        via = ", its package first" if self.package else ""
        return f"{self.path.relative_to(REPO)}:{self.line} ({kind}{via}) -> {self.target}"


Edges = tuple[Edge, ...]


def module_name(path: Path, path_entries: Iterable[Path] = PATH_ENTRIES) -> str:
    """The dotted name Python gives `path`, relative to the innermost import-path folder holding it
    (folders without `__init__.py` count too: namespace packages such as grader/review)."""
    entry = max((e for e in path_entries if path.is_relative_to(e)), key=lambda e: len(e.parts))
    parts = path.relative_to(entry).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(roots: Iterable[Path], path_entries: Iterable[Path] = PATH_ENTRIES) -> dict[str, Path]:
    """Every module of the trees under `roots`, by dotted name."""
    entries = tuple(path_entries)
    return {module_name(path, entries): path for root in roots for path in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: Iterable[ast.AST], local: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Each import statement under `nodes` with whether it sits in a function; TYPE_CHECKING blocks skipped."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, local
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, local)
        else:
            inner = local or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from _imports(ast.iter_child_nodes(node), inner)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(name: str, known: dict[str, Path]) -> str:
    """`name`, or the longest leading part of it that is a known module (import a.b.c of a module a.b)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return name


def _targets(stmt: ast.Import | ast.ImportFrom, module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            yield _resolve(alias.name, known)
        return
    base = stmt.module or ""
    if stmt.level:
        package = _package_of(module, path).split(".")
        anchor = ".".join(package[: len(package) - stmt.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    for alias in stmt.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in known else _resolve(base, known)


def _packages_on_the_way(target: str, module: str, known: dict[str, Path]) -> list[str]:
    """The packages of `target` whose __init__ runs before it, less the importer's own (already running)."""
    own = module.split(".")
    parts = target.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))
            if ".".join(parts[:end]) in known and parts[:end] != own[:end]]


def file_edges(path: Path, module: str, known: dict[str, Path]) -> Edges:
    """The imports of one file, each resolved to a module of `known` where one matches, with the
    packages Python initialises on the way (`from a.b.c import x` runs a.b's __init__ too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    edges: list[Edge] = []
    for stmt, local in _imports(tree.body):
        for target in dict.fromkeys(_targets(stmt, module, path, known)):
            edges.append(Edge(target, path, stmt.lineno, local))
            edges += [Edge(package, path, stmt.lineno, local, package=True)
                      for package in _packages_on_the_way(target, module, known)]
    return tuple(edges)


def import_graph(roots: Iterable[Path] = ROOTS, path_entries: Iterable[Path] = PATH_ENTRIES) -> dict[str, Edges]:
    """Module name -> its imports, for every .py file under `roots` (outside targets kept as named)."""
    known = source_files(roots, path_entries)
    return {module: file_edges(path, module, known) for module, path in known.items()}


def cycles(graph: dict[str, Edges]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for edge in graph[node]:
            if edge.target not in graph:
                continue
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = import_graph()


def test_the_graph_sees_every_module_and_resolves_relative_and_submodule_imports() -> None:
    assert "grader.sandbox.bwrap" in GRAPH and "grader_inside.probes.kernel" in GRAPH
    assert "grader_offline.datasets" in GRAPH  # shims are top-level packages inside the sandbox
    assert "grader.review.store" in GRAPH  # a namespace package (no __init__.py)
    kernel = {edge.target for edge in GRAPH["grader_inside.probes.kernel"]}
    assert "grader_inside.probes.tripwire" in kernel  # `from grader_inside.probes import tripwire`


def test_cycles_are_found_through_function_local_relative_and_package_imports(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    (tmp_path / "other").mkdir()
    files = {
        "pkg/__init__.py": "from pkg.a import A\n",
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\nA = 1\n"
                    "def f():\n    from pkg.sub import b\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "from .. import a\n",
        "pkg/c.py": "import pkg.a\n",
        "lib/__init__.py": "from other.x import X\n",
        "other/__init__.py": "import lib\n",
        "other/x.py": "X = 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph([tmp_path / name for name in ("pkg", "lib", "other")], [tmp_path])
    # pkg.a -> pkg.c sits in TYPE_CHECKING: left out; lib reaches other only through its __init__
    assert sorted(cycles(graph)) == [["lib", "other"], ["pkg.a", "pkg.sub.b"]]
    assert [(edge.target, edge.local, edge.package) for edge in graph["pkg.a"]] == [
        ("typing", False, False), ("pkg.sub.b", True, False), ("pkg.sub", True, True)]
    assert [edge.target for edge in graph["pkg.sub.b"]] == ["pkg.a"]  # its own packages are not edges
    assert [(edge.target, edge.package) for edge in graph["lib"]] == [("other.x", False), ("other", True)]


def test_no_import_cycles_counting_function_local_imports() -> None:
    problems = []
    for component in cycles(GRAPH):
        members = set(component)
        inner = [edge.where() for module in component for edge in GRAPH[module] if edge.target in members]
        problems.append("cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(inner))
    assert not problems, "import cycles (move the shared piece, do not import lazily):\n" + "\n".join(problems)


def test_nothing_in_grader_inside_imports_grader() -> None:
    inside = REPO / "grader_inside"
    crossings = [
        edge.where()
        for edges in GRAPH.values()
        for edge in edges
        if edge.path.is_relative_to(inside) and (edge.target == "grader" or edge.target.startswith("grader."))
    ]
    assert not crossings, "grader_inside runs in the sandbox, where grader is absent:\n" + "\n".join(crossings)


# -- assignment families (grader/families/<name>/) ---------------------------------------------
FAMILY_PREFIX = "grader.families."
PIPELINE_ONLY = ("grader.run", "grader.report", "grader.executors", "grader.grading", "grader.cli",
                 "grader.review")  # what a check may not reach: it gets its inputs as data
RUNNING = (".stage", ".hooks")  # a family's modules that run the sandbox or prepare a batch


def _family_of(module: str) -> str | None:
    return module.split(".")[2] if module.startswith(FAMILY_PREFIX) else None


def test_no_module_outside_a_family_imports_from_a_family() -> None:
    """The pipeline reads families through the table (grader.families) alone."""
    crossings = [edge.where() for module, edges in GRAPH.items() if _family_of(module) is None
                 for edge in edges if _family_of(edge.target) is not None and not edge.package]
    assert not crossings, "import a family through grader.families, not its modules:\n" + "\n".join(crossings)


def _check_modules() -> set[str]:
    """The modules of every check kind's function, and what they import within the families."""
    from grader.families import all_families

    todo = [f"{fam.package}.{kind.check.partition(':')[0]}" for fam in all_families() for kind in fam.kinds.values()]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module not in GRAPH:
            continue
        seen.add(module)
        todo += [edge.target for edge in GRAPH[module] if edge.target.startswith(FAMILY_PREFIX) and not edge.package]
    return seen


def test_checks_import_neither_the_runner_nor_the_report() -> None:
    """Checks are pure functions of (artifacts, params): what they need from the run comes as
    data, drawing belongs to the report, running belongs to the hooks."""
    modules = _check_modules()
    assert {"grader.families.gd.checks", "grader.families.apps.checks", "grader.families.toy.checks"} <= modules
    reached = [edge.where() for module in sorted(modules | {"grader.artifacts"}) for edge in GRAPH[module]
               if edge.target.startswith(PIPELINE_ONLY) or edge.target.endswith(RUNNING)]
    assert not reached, "a check module imports the pipeline:\n" + "\n".join(reached)


def test_a_familys_probe_file_imports_nothing_of_grader() -> None:
    """A family's probe file runs in the student's kernel, where only grader_inside is mounted."""
    from grader.families import all_families

    crossings = [edge.where() for fam in all_families() for where in fam.probes.values() if where.endswith(".py")
                 for edge in GRAPH[f"{fam.package}.{where.removesuffix('.py')}"]
                 if edge.target == "grader" or edge.target.startswith("grader.")]
    assert not crossings, "a probe file may import grader_inside, never grader:\n" + "\n".join(crossings)
