"""Dockerfiles and compose files, read with parsers made for them and checked against the apps.

Static (always): a Dockerfile's base image has Python, the packages the app imports are installed,
the files it copies exist and include the app and its model files, the port it exposes is the one
the app serves on, and its command starts that app on 0.0.0.0. A compose file has a service for
the API and one for the web interface, built from such Dockerfiles, the web port published and
the web service wired to the API (depends_on, or the API's service name in its settings).

Run (only with `--docker` and a reachable engine, see `docker_engine`): each image is built, started
with no network (`--network none`) and asked for its health page from inside the container.
Without an engine nothing is claimed: the report says it was not verified.
"""
from __future__ import annotations

import fnmatch
import io
import json
import logging
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from grader.families.apps.source import AppKind, AppSource

logger = logging.getLogger(__name__)

DOCKERFILE_NAMES = re.compile(r"^(?:dockerfile(?:\..+)?|.+\.dockerfile)$", re.IGNORECASE)
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
PYTHON_BASES = re.compile(r"python|pytorch|tensorflow|jupyter|conda|mamba|huggingface|gradio|fastapi|uvicorn",
                          re.IGNORECASE)
DEFAULT_PORTS = {"gradio": 7860, "fastapi": 8000, "flask": 5000}
# import name -> pip names that provide it (any one is enough)
PROVIDERS = {"gradio": ("gradio",), "fastapi": ("fastapi",), "uvicorn": ("uvicorn",), "torch": ("torch",),
             "torchvision": ("torchvision",), "tensorflow": ("tensorflow", "tensorflow-cpu"),
             "keras": ("keras", "tensorflow", "tensorflow-cpu"), "PIL": ("pillow",), "flask": ("flask",),
             "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
             "sklearn": ("scikit-learn",), "numpy": ("numpy",), "onnxruntime": ("onnxruntime",),
             "joblib": ("joblib",), "starlette": ("starlette",)}
# what a package installs with it
BRINGS = {"gradio": {"numpy", "pillow", "fastapi", "uvicorn", "python-multipart", "starlette", "pandas"},
          "torchvision": {"numpy", "pillow", "torch"}, "tensorflow": {"numpy", "keras"},
          "tensorflow-cpu": {"numpy", "keras"}, "keras": {"numpy"}, "fastapi": {"starlette"},
          "scikit-learn": {"numpy", "joblib"}, "opencv-python": {"numpy"}, "opencv-python-headless": {"numpy"},
          "torch": set(), "uvicorn": set()}
BASE_BRINGS = {"pytorch": {"torch", "numpy"}, "tensorflow": {"tensorflow", "keras", "numpy"}}
DOCKER_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Finding:
    """One static verdict: `key` names the message (apps.docker.<key>), `fields` fill it in."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "fields": self.fields}


@dataclass(frozen=True)
class DockerfileReport:
    rel: str  # the Dockerfile, relative to the submission
    context: str  # its build context, relative to the submission ("" for the root)
    serves: AppKind | None  # which app its command starts
    app: str | None
    port: int | None  # the port the app serves on inside the container
    exposed: tuple[int, ...]
    problems: tuple[Finding, ...]
    passed: tuple[str, ...]  # names of the checks that held: base, deps, copy, port, host

    def to_json(self) -> dict[str, Any]:
        return {"rel": self.rel, "context": self.context, "serves": self.serves, "app": self.app,
                "port": self.port, "exposed": list(self.exposed), "passed": list(self.passed),
                "problems": [p.to_json() for p in self.problems]}


@dataclass(frozen=True)
class ComposeReport:
    rel: str
    services: dict[str, dict[str, Any]]
    web: str | None  # the service that runs the web interface
    api: str | None
    problems: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {"rel": self.rel, "services": self.services, "web": self.web, "api": self.api,
                "problems": [p.to_json() for p in self.problems]}


def find_docker_files(root: Path, files: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    dockerfiles = [f for f in files if DOCKERFILE_NAMES.match(f.name) and f.suffix.lower() not in (".md", ".txt")]
    composes = [f for f in files if f.name.lower() in COMPOSE_NAMES]
    return sorted(dockerfiles), sorted(composes)


# -- Dockerfile ------------------------------------------------------------------------------------
def _instructions(path: Path) -> list[dict[str, Any]]:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))
    return [dict(item) for item in parser.structure]


def _words(value: str) -> list[str]:
    """An instruction's arguments, JSON (exec) form or shell form."""
    text = value.strip()
    if text.startswith("["):
        try:
            loaded = json.loads(text)
            if isinstance(loaded, list):
                return [str(x) for x in loaded]
        except ValueError:
            pass
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


def _norm(package: str) -> str:
    name = re.split(r"[<>=~!\[;@ ]", package.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _pip_packages(run_lines: list[str], context: Path) -> tuple[set[str], list[str]]:
    """Packages the RUN lines install with pip or conda, and the requirement files they read."""
    packages: set[str] = set()
    requirement_files: list[str] = []
    for line in run_lines:
        for command in re.split(r"&&|;|\|\|", line):
            words = _words(command)
            for i, word in enumerate(words):
                if word != "install" or i == 0 or not re.search(r"pip3?$|conda$|mamba$|uv$", words[i - 1]):
                    continue
                rest = words[i + 1:]
                skip_next = False
                for j, arg in enumerate(rest):
                    if skip_next:
                        skip_next = False
                        continue
                    if arg in ("-r", "--requirement"):
                        if j + 1 < len(rest):
                            requirement_files.append(rest[j + 1])
                        skip_next = True
                    elif arg.startswith("--requirement="):
                        requirement_files.append(arg.split("=", 1)[1])
                    elif arg in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-c", "-t",
                                 "--target", "-c", "--channel"):
                        skip_next = True
                    elif not arg.startswith("-"):
                        packages.add(_norm(arg))
    for name in requirement_files:
        req = context / PurePosixPath(name).name if not (context / name).is_file() else context / name
        try:
            for line in req.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    packages.add(_norm(line))
        except OSError:
            continue
    return packages, requirement_files


def _with_brought(packages: set[str], base: str) -> set[str]:
    have = set(packages)
    for pkg in packages:
        have |= BRINGS.get(pkg, set())
    for key, brought in BASE_BRINGS.items():
        if key in base.lower():
            have |= brought
    return have


def _needed(app: AppSource, command: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    needs = [(name, PROVIDERS[name]) for name in app.imports if name in PROVIDERS]
    if command and PurePosixPath(command[0]).name in ("uvicorn", "gunicorn") and "uvicorn" not in app.imports:
        needs.append(("uvicorn", PROVIDERS["uvicorn"]))
    if app.uploads:
        needs.append(("python-multipart", ("python-multipart",)))
    return needs


def _copy_sources(instructions: list[dict[str, Any]]) -> list[str]:
    sources: list[str] = []
    for item in instructions:
        if item["instruction"] not in ("COPY", "ADD"):
            continue
        words = [w for w in _words(item["value"]) if not w.startswith("--")]
        if any(w.startswith("--from") for w in _words(item["value"])):
            continue  # from another build stage, not from the context
        sources += [w for w in words[:-1] if not re.match(r"^[a-z]+://", w)]
    return sources


def _exists(context: Path, source: str) -> bool:
    """Whether a COPY source names something in the build context (`..` never does)."""
    src = source.strip("/").removeprefix("./")
    if src in ("", "."):
        return True
    if ".." in PurePosixPath(src).parts:
        return False
    try:
        return any(context.glob(src))
    except (ValueError, IndexError, OSError):
        return False


def _covered(rel: str, sources: list[str]) -> bool:
    """Whether a file (relative to the build context) is among what COPY/ADD takes."""
    for src in sources:
        src = src.strip("/").removeprefix("./") or "."
        if src in (".", "*") or rel == src or rel.startswith(src + "/") or fnmatch.fnmatch(rel, src):
            return True
    return False


def _ignored(rel: str, context: Path) -> bool:
    try:
        lines = (context / ".dockerignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    patterns = [ln.strip().lstrip("/") for ln in lines if ln.strip() and not ln.startswith(("#", "!"))]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(PurePosixPath(rel).name, p) for p in patterns)


def _served_app(command: list[str], context: Path, apps: Sequence[AppSource], root: Path) -> AppSource | None:
    """The app the container's command starts: `python app.py`, `uvicorn main:app`, `gradio app.py`."""
    for word in command:
        candidates: list[str] = []
        if word.endswith(".py"):
            candidates.append(word)
        elif re.match(r"^[\w.]+:[\w]+$", word):
            candidates.append(word.split(":")[0].replace(".", "/") + ".py")
        for candidate in candidates:
            name = PurePosixPath(candidate)
            for app in apps:
                app_rel = PurePosixPath(app.rel)
                in_context = app.path.is_relative_to(context)
                if in_context and (app_rel.name == name.name and (
                        str(name).endswith(app.path.relative_to(context).as_posix()) or len(name.parts) == 1)):
                    return app
    return None


def _container_port(app: AppSource, command: list[str], env: dict[str, str]) -> int:
    if "--port" in command and command.index("--port") + 1 < len(command):
        value = command[command.index("--port") + 1]
        if value.isdigit():
            return int(value)
    for word in command:
        if word.startswith(("--port=", "--bind=")) and word.split("=")[-1].split(":")[-1].isdigit():
            return int(word.split("=")[-1].split(":")[-1])
    if app.framework == "gradio" and env.get("GRADIO_SERVER_PORT", "").isdigit() and app.port is None:
        return int(env["GRADIO_SERVER_PORT"])
    uses_cli = bool(command) and PurePosixPath(command[0]).name in ("uvicorn", "gunicorn")
    if app.port is not None and not uses_cli:
        return app.port
    return DEFAULT_PORTS.get(app.framework, 8000)


def _listens_everywhere(app: AppSource, command: list[str], env: dict[str, str]) -> bool:
    if command and PurePosixPath(command[0]).name in ("uvicorn", "gunicorn"):
        joined = " ".join(command)
        return bool(re.search(r"--host[= ]0\.0\.0\.0|--bind[= ]0\.0\.0\.0|-b 0\.0\.0\.0", joined))
    if app.framework == "gradio":
        return app.host == "0.0.0.0" or (app.host is None and env.get("GRADIO_SERVER_NAME") == "0.0.0.0")
    return app.host == "0.0.0.0"


def analyse_dockerfile(path: Path, root: Path, apps: Sequence[AppSource], context: Path | None = None) -> DockerfileReport:
    context = context or path.parent
    rel = path.relative_to(root).as_posix()
    ctx_rel = "" if context == root else context.relative_to(root).as_posix()
    try:
        instructions = _instructions(path)
    except (OSError, ValueError) as exc:
        return DockerfileReport(rel, ctx_rel, None, None, None, (), (Finding("unreadable", {"detail": str(exc)}),), ())
    problems: list[Finding] = []
    passed: list[str] = []
    froms = [i["value"].split()[0] for i in instructions if i["instruction"] == "FROM" and i["value"].split()]
    base = froms[-1] if froms else ""
    runs = [i["value"] for i in instructions if i["instruction"] == "RUN"]
    if not base:
        problems.append(Finding("no_from"))
    elif PYTHON_BASES.search(base) or any(re.search(r"install[^&;]*python3", r) for r in runs):
        passed.append("base")
    else:
        problems.append(Finding("base_no_python", {"base": base}))
    env: dict[str, str] = {}
    for item in instructions:
        if item["instruction"] == "ENV":
            words = _words(item["value"])
            pairs = [w.split("=", 1) for w in words if "=" in w] or ([words[:2]] if len(words) >= 2 else [])
            env.update({k: v for k, v in pairs})
    entry = next((_words(i["value"]) for i in reversed(instructions) if i["instruction"] == "ENTRYPOINT"), [])
    cmd = next((_words(i["value"]) for i in reversed(instructions) if i["instruction"] == "CMD"), [])
    command = entry + cmd
    if command[:2] in (["/bin/sh", "-c"], ["sh", "-c"], ["bash", "-c"]) and len(command) > 2:
        command = _words(command[2])
    app = _served_app(command, context, apps, root)
    exposed = tuple(int(p.split("/")[0]) for i in instructions if i["instruction"] == "EXPOSE"
                    for p in _words(i["value"]) if p.split("/")[0].isdigit())
    if app is None:
        problems.append(Finding("cmd_unknown", {"command": " ".join(command) or "-"}))
        return DockerfileReport(rel, ctx_rel, None, None, None, exposed, tuple(problems), tuple(passed))
    packages, _ = _pip_packages(runs, context)
    have = _with_brought(packages, base)
    missing = [name for name, providers in _needed(app, command) if not set(providers) & have]
    if missing:
        problems.append(Finding("deps_missing", {"packages": ", ".join(missing)}))
    else:
        passed.append("deps")
    sources = _copy_sources(instructions)
    absent = [s for s in sources if not _exists(context, s)]
    needed_files = [app.path.relative_to(context).as_posix()]
    needed_files += [(app.path.parent / m.name).relative_to(context).as_posix()
                     for m in app.models if m.state == "present" and (app.path.parent / m.name).is_relative_to(context)]
    not_copied = [f for f in needed_files if not _covered(f, sources) or _ignored(f, context)]
    if absent:
        problems.append(Finding("copy_absent", {"files": ", ".join(absent)}))
    if not_copied:
        problems.append(Finding("not_copied", {"files": ", ".join(not_copied)}))
    if not absent and not not_copied:
        passed.append("copy")
    port = _container_port(app, command, env)
    if not exposed:
        problems.append(Finding("no_expose", {"port": port}))
    elif port not in exposed:
        problems.append(Finding("port_mismatch", {"exposed": ", ".join(map(str, exposed)), "port": port}))
    else:
        passed.append("port")
    if _listens_everywhere(app, command, env):
        passed.append("host")
    else:
        problems.append(Finding("host_local", {"app": app.rel}))
    return DockerfileReport(rel, ctx_rel, app.kind, app.rel, port, exposed, tuple(problems), tuple(passed))


# -- compose ---------------------------------------------------------------------------------------
def _ports(value: Any) -> list[tuple[str, int]]:
    """Published ports as (host part, container port)."""
    out: list[tuple[str, int]] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and str(item.get("target", "")).isdigit():
            out.append((str(item.get("published", "")), int(item["target"])))
            continue
        text = str(item).split("/")[0]
        parts = text.split(":")
        if parts[-1].isdigit():
            out.append((":".join(parts[:-1]), int(parts[-1])))
    return out


def _service(spec: Any) -> dict[str, Any]:
    spec = spec if isinstance(spec, dict) else {}
    build = spec.get("build")
    context, dockerfile = None, None
    if isinstance(build, str):
        context = build
    elif isinstance(build, dict):
        context = str(build.get("context", "."))
        dockerfile = build.get("dockerfile")
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(str(e).split("=", 1) if "=" in str(e) else (str(e), "") for e in env)
    depends = spec.get("depends_on") or []
    return {"context": context, "dockerfile": dockerfile, "image": spec.get("image"),
            "ports": _ports(spec.get("ports")), "depends_on": sorted(depends) if isinstance(depends, (list, dict)) else [],
            "environment": {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}}


def analyse_compose(path: Path, root: Path, apps: Sequence[AppSource]) -> ComposeReport:
    rel = path.relative_to(root).as_posix()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError) as exc:
        return ComposeReport(rel, {}, None, None, (Finding("compose_unreadable", {"detail": str(exc)[:200]}),))
    raw = data.get("services") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not raw:
        return ComposeReport(rel, {}, None, None, (Finding("compose_no_services"),))
    services = {str(n): _service(s) for n, s in raw.items()}
    problems: list[Finding] = []
    roles: dict[str, str] = {}
    for name, svc in services.items():
        if svc["context"] is None:
            continue
        context = (path.parent / svc["context"]).resolve()
        dockerfile = context / (svc["dockerfile"] or "Dockerfile")
        if not context.is_relative_to(root) or not context.is_dir() or not dockerfile.is_file():
            problems.append(Finding("compose_no_dockerfile", {"service": name,
                                                              "path": f"{svc['context']}/{svc['dockerfile'] or 'Dockerfile'}"}))
            continue
        report = analyse_dockerfile(dockerfile, root, apps, context)
        svc["dockerfile_report"] = report.rel
        svc["serves"] = report.serves
        svc["port"] = report.port
        if report.serves and report.serves not in roles.values():
            roles[name] = report.serves
    web = next((n for n, r in roles.items() if r == "web"), None)
    api = next((n for n, r in roles.items() if r == "api"), None)
    for role, name in (("web", web), ("api", api)):
        if name is None:
            problems.append(Finding("compose_missing_service", {"role": role}))
    for name in (web, api):
        if name is None:
            continue
        svc = services[name]
        if name == web and not svc["ports"]:
            problems.append(Finding("compose_not_published", {"service": name, "port": svc.get("port")}))
        elif svc["ports"] and svc.get("port") not in [p for _, p in svc["ports"]]:
            problems.append(Finding("compose_port_mismatch", {"service": name, "port": svc.get("port"),
                                                              "ports": ", ".join(str(p) for _, p in svc["ports"])}))
    if web and api:
        wired = api in services[web]["depends_on"] or any(
            re.search(rf"\b{re.escape(api)}\b", value) for value in services[web]["environment"].values())
        if not wired:
            problems.append(Finding("compose_not_wired", {"web": web, "api": api}))
    return ComposeReport(rel, services, web, api, tuple(problems))


# -- the engine ------------------------------------------------------------------------------------
def docker_engine(timeout_s: float = 15.0) -> tuple[str | None, str]:
    """(server version, "") when a Docker engine answers; (None, why not) otherwise."""
    exe = shutil.which("docker")
    if exe is None:
        return None, "docker command not found"
    try:
        done = subprocess.run([exe, "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)[:200]
    version = done.stdout.strip()
    if done.returncode != 0 or not version:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        return None, (lines[-1] if lines else f"docker version exited with {done.returncode}")[:200]
    return version, ""


def _docker(args: list[str], timeout_s: float) -> tuple[int, str]:
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return 124, f"docker {args[0]} took longer than {timeout_s:g} s"
    except OSError as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout + done.stderr)[-2000:]


HEALTH_PROBE = ("import sys, urllib.request\n"
                "urllib.request.urlopen('http://127.0.0.1:%d/', timeout=3)\n")


def verify_image(report: DockerfileReport, root: Path, timeout_s: float = DOCKER_TIMEOUT_S,
                 start_timeout_s: float = 120.0) -> dict[str, Any]:
    """Build the image, run it without network and ask its health page from inside the container."""
    tag = f"grader-app-{uuid.uuid4().hex[:12]}"
    context = root / report.context if report.context else root
    code, log = _docker(["build", "-t", tag, "-f", str(root / report.rel), str(context)], timeout_s)
    if code != 0:
        return {"built": False, "answered": False, "log": log}
    name = tag
    try:
        code, log = _docker(["run", "-d", "--rm", "--network", "none", "--name", name, tag], 60)
        if code != 0:
            return {"built": True, "answered": False, "log": log}
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:
            code, log = _docker(["exec", name, "python", "-c", HEALTH_PROBE % (report.port or 8000)], 30)
            if code == 0:
                return {"built": True, "answered": True, "log": ""}
            time.sleep(2)
        _, logs = _docker(["logs", "--tail", "30", name], 30)
        return {"built": True, "answered": False, "log": logs or log}
    finally:
        _docker(["rm", "-f", name], 60)
        _docker(["rmi", "-f", tag], 120)


def verify_compose(report: ComposeReport, root: Path, timeout_s: float = DOCKER_TIMEOUT_S) -> dict[str, Any]:
    """`docker compose up --build`, then whether every service is still running after a while."""
    project = f"grader-{uuid.uuid4().hex[:12]}"
    file = str(root / report.rel)
    try:
        code, log = _docker(["compose", "-f", file, "-p", project, "up", "-d", "--build"], timeout_s)
        if code != 0:
            return {"built": False, "answered": False, "log": log}
        time.sleep(20)
        code, out = _docker(["compose", "-f", file, "-p", project, "ps", "--format", "json"], 60)
        states = []
        for line in out.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            for entry in item if isinstance(item, list) else [item]:
                states.append((entry.get("Service"), entry.get("State")))
        running = {s for s, state in states if state == "running"}
        return {"built": True, "answered": set(report.services) <= running,
                "log": "" if set(report.services) <= running else out}
    finally:
        _docker(["compose", "-f", file, "-p", project, "down", "-v", "--rmi", "local"], 300)
