"""Finding a student's apps and reading them as text (never running them): which framework, which
Gradio version the code was written for, which model files it loads and whether they were handed in,
and the host and port it asks for."""
from __future__ import annotations

import ast
import fnmatch
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from grader.families.apps.params import DEFAULT_NAMES

logger = logging.getLogger(__name__)

AppKind = Literal["web", "api"]
MODEL_SUFFIXES = (".pth", ".pt", ".h5", ".hdf5", ".keras", ".ckpt", ".pkl", ".joblib", ".onnx",
                  ".safetensors", ".tflite")
LFS_HEADER = b"version https://git-lfs.github.com/spec/"
MAX_SOURCE_BYTES = 1024 * 1024
# (pattern in the source, what it is, the Gradio version whose API it belongs to)
OLD_GRADIO = (
    (re.compile(r"\bcapture_session\s*="), "capture_session", "2"),
    (re.compile(r"\b(?:gr|gradio)\.inputs\."), "gr.inputs", "2"),
    (re.compile(r"\b(?:gr|gradio)\.outputs\."), "gr.outputs", "2"),
    (re.compile(r"\benable_queue\s*="), "launch(enable_queue=...)", "3"),
    (re.compile(r"\)\s*\.style\s*\("), ".style()", "3"),
    (re.compile(r"\btool\s*=\s*['\"](?:sketch|editor|color-sketch)['\"]"), "tool='sketch'", "3"),
    (re.compile(r"\bsource\s*=\s*['\"](?:canvas|upload|webcam)['\"]"), "source='canvas'", "3"),
)
WEB_MODULES = {"gradio"}
API_MODULES = {"fastapi", "flask", "starlette", "aiohttp", "http.server", "bottle", "sanic", "tornado"}


@dataclass(frozen=True)
class ModelFile:
    name: str  # as the app names it
    state: Literal["present", "missing", "lfs_pointer", "gitignored"]


@dataclass(frozen=True)
class AppSource:
    path: Path  # in the submission
    rel: str  # relative to the submission's root, POSIX
    kind: AppKind
    framework: str  # gradio | fastapi | flask | ...
    old_gradio: tuple[str, ...] = ()  # markers of an API the installed Gradio no longer has
    gradio_target: str | None = None  # "2" or "3": the version those markers belong to
    models: tuple[ModelFile, ...] = ()
    host: str | None = None  # as asked for in launch()/uvicorn.run()/app.run()
    port: int | None = None
    starts_server: bool = False  # the file itself calls launch()/run()
    imports: tuple[str, ...] = ()  # top-level modules the app imports
    uploads: bool = False  # FastAPI File/UploadFile/Form parameters (need python-multipart)

    @property
    def missing_models(self) -> tuple[ModelFile, ...]:
        return tuple(m for m in self.models if m.state != "present")

    def to_json(self) -> dict[str, object]:
        return {"rel": self.rel, "kind": self.kind, "framework": self.framework,
                "old_gradio": list(self.old_gradio), "gradio_target": self.gradio_target,
                "models": [{"name": m.name, "state": m.state} for m in self.models],
                "host": self.host, "port": self.port, "starts_server": self.starts_server,
                "imports": list(self.imports), "uploads": self.uploads}


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _framework(modules: set[str]) -> tuple[AppKind, str] | None:
    tops = {m.split(".")[0] for m in modules} | modules
    if tops & WEB_MODULES:
        return "web", "gradio"
    for name in sorted(API_MODULES):
        if name in tops:
            return "api", name
    return None


def _literal(node: ast.AST | None) -> object:
    try:
        return ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _server_call(tree: ast.AST) -> tuple[bool, str | None, int | None]:
    """Whether the file starts a server (launch()/run()), and the host and port it asks for."""
    starts, host, port = False, None, None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in ("launch", "run", "queue"):
            continue
        if node.func.attr == "run" and not _is_server_run(node):
            continue
        starts = starts or node.func.attr != "queue"
        for kw in node.keywords:
            value = _literal(kw.value)
            if kw.arg in ("server_name", "host") and isinstance(value, str):
                host = value
            elif kw.arg in ("server_port", "port") and isinstance(value, int):
                port = value
    return starts, host, port


def _is_server_run(node: ast.Call) -> bool:
    func = node.func
    assert isinstance(func, ast.Attribute)
    owner = func.value
    name = owner.id if isinstance(owner, ast.Name) else (owner.attr if isinstance(owner, ast.Attribute) else "")
    return name in ("uvicorn", "app", "application", "server") or any(
        kw.arg in ("host", "port") for kw in node.keywords)


def _saved_names(tree: ast.AST) -> set[str]:
    """Files the code writes itself (torch.save(x, "m.pth"), model.save("m.h5")): not inputs."""
    saved: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "save", "save_weights", "dump"):
            for arg in node.args:
                value = _literal(arg)
                if isinstance(value, str):
                    saved.add(value)
    return saved


def _model_names(tree: ast.AST) -> list[str]:
    saved = _saved_names(tree)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value.strip()
            if (value.lower().endswith(MODEL_SUFFIXES) and "\n" not in value and value not in saved
                    and not value.startswith(("http://", "https://")) and value not in names):
                names.append(value)
    return names


def is_lfs_pointer(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(LFS_HEADER)) == LFS_HEADER
    except OSError:
        return False


def gitignore_patterns(root: Path, folder: Path) -> list[str]:
    """Patterns of the .gitignore files from the submission's root down to `folder`."""
    chain = [f for f in (folder, *folder.parents) if f == root or f.is_relative_to(root)]
    patterns: list[str] = []
    for current in reversed(chain):
        try:
            text = (current / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        patterns += [line.strip().lstrip("/") for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith(("#", "!"))]
    return patterns


def _model_state(name: str, app_dir: Path, root: Path, files: set[Path]) -> ModelFile:
    rel = PurePosixPath(name.replace("\\", "/"))
    for base in (app_dir, root):
        candidate = (base / rel) if not rel.is_absolute() else Path(rel)
        if candidate in files and candidate.is_file():
            return ModelFile(name, "lfs_pointer" if is_lfs_pointer(candidate) else "present")
    ignored = gitignore_patterns(root, app_dir)
    if any(fnmatch.fnmatch(rel.name, p) or fnmatch.fnmatch(str(rel), p) for p in ignored):
        return ModelFile(name, "gitignored")
    return ModelFile(name, "missing")


def read_app(path: Path, root: Path, files: set[Path]) -> AppSource | None:
    """The app in `path`, or None when the file is no app (or cannot be parsed)."""
    try:
        raw = path.read_bytes()[:MAX_SOURCE_BYTES]
        text = raw.decode("utf-8", errors="replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    modules = _imports(tree)
    found = _framework(modules)
    if found is None:
        return None
    kind, framework = found
    markers: list[str] = []
    target: str | None = None
    if framework == "gradio":
        for pattern, what, version in OLD_GRADIO:
            if pattern.search(text):
                markers.append(what)
                target = version if target is None else min(target, version)
    starts, host, port = _server_call(tree)
    models = tuple(_model_state(n, path.parent, root, files) for n in _model_names(tree))
    return AppSource(path=path, rel=path.relative_to(root).as_posix(), kind=kind, framework=framework,
                     old_gradio=tuple(markers), gradio_target=target, models=models, host=host, port=port,
                     starts_server=starts, imports=tuple(sorted({m.split(".")[0] for m in modules})),
                     uploads=framework == "fastapi" and re.search(r"\b(?:UploadFile|File|Form)\b", text) is not None)


def find_apps(root: Path, files: Sequence[Path], preferred: Sequence[str] = DEFAULT_NAMES) -> list[AppSource]:
    """Every app among the submission's .py files, the likeliest first for each kind."""
    file_set = set(files)
    apps = [app for f in files if f.suffix == ".py" and (app := read_app(f, root, file_set)) is not None]

    def rank(app: AppSource) -> tuple[int, int, int, str]:
        name = PurePosixPath(app.rel).name
        named = preferred.index(name) if name in preferred else len(preferred)
        return (named, not app.starts_server, app.rel.count("/"), app.rel)

    return sorted(apps, key=rank)


def pick(apps: Sequence[AppSource], kind: AppKind) -> AppSource | None:
    return next((app for app in apps if app.kind == kind), None)
