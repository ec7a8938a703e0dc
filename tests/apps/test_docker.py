"""Dockerfiles and compose files checked against the apps; the engine path with a stand-in `docker`."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from grader.families.apps.docker import analyse_compose, analyse_dockerfile, docker_engine, find_docker_files
from grader.families.apps.source import find_apps
from grader.families.apps.stage import docker_report
from grader.families.apps.checks import check_compose, check_docker
from grader.artifacts import CheckContext
from grader.results import write_json_atomic
from grader.i18n import text_of

from app_support import SAMPLES


def _analyse(folder: Path):
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    apps = find_apps(folder, files)
    dockerfiles, composes = find_docker_files(folder, files)
    return ([analyse_dockerfile(f, folder, apps) for f in dockerfiles],
            [analyse_compose(f, folder, apps) for f in composes])


def test_good_dockerfiles_pass_every_static_check() -> None:
    for name, serves, port in (("belova_gradio6", "web", 7860), ("petrov_fastapi", "api", 8000)):
        [report], _ = _analyse(SAMPLES / name)
        assert report.problems == (), report.problems
        assert (report.serves, report.port) == (serves, port)
        assert set(report.passed) == {"base", "deps", "copy", "port", "host"}


def test_broken_dockerfile_names_each_problem() -> None:
    [report], _ = _analyse(SAMPLES / "fomin_broken_docker")
    keys = {p.key: p.fields for p in report.problems}
    assert keys["deps_missing"] == {"packages": "gradio"}
    assert keys["copy_absent"] == {"files": "weights/model.pth"}
    assert keys["not_copied"] == {"files": "model.pth"}
    assert keys["port_mismatch"] == {"exposed": "5000", "port": 7860}
    assert "host_local" in keys


def test_compose_wires_api_and_web() -> None:
    dockerfiles, [compose] = _analyse(SAMPLES / "zaitseva_compose")
    assert {d.serves for d in dockerfiles} == {"web", "api"}
    assert compose.problems == () and (compose.web, compose.api) == ("web", "api")


def test_compose_problems(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "zaitseva_compose", tmp_path / "s")
    (tmp_path / "s" / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: ./api\n  web:\n    build: ./web\n    ports: ['8080:5000']\n"
        "  db:\n    build: ./db\n", encoding="utf-8")
    _, [compose] = _analyse(tmp_path / "s")
    keys = {p.key: p.fields for p in compose.problems}
    assert keys["compose_no_dockerfile"]["service"] == "db"
    assert keys["compose_port_mismatch"] == {"service": "web", "port": 7860, "ports": "5000"}
    assert keys["compose_not_wired"] == {"web": "web", "api": "api"}


def test_uvicorn_on_localhost_and_missing_multipart(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "petrov_fastapi", tmp_path / "s")
    (tmp_path / "s" / "Dockerfile").write_text(
        "FROM node:20\nCOPY main.py .\nRUN pip install fastapi uvicorn torch pillow numpy\nEXPOSE 8000\n"
        "CMD uvicorn main:app --port 8000\n", encoding="utf-8")
    [report], _ = _analyse(tmp_path / "s")
    keys = {p.key: p.fields for p in report.problems}
    assert keys["base_no_python"] == {"base": "node:20"}
    assert keys["deps_missing"] == {"packages": "python-multipart"}
    assert keys["not_copied"] == {"files": "model.pth"}
    assert "host_local" in keys and "port_mismatch" not in keys


def _ctx(out: Path) -> CheckContext:
    return CheckContext(lang="en", cells=[], run_cells=(), probe={}, figures=[], out_dir=out)


def _stage_docker(folder: Path, out: Path, use_engine: bool) -> CheckContext:
    files = tuple(p for p in sorted(folder.rglob("*")) if p.is_file())
    report = {"apps": {}, "docker": docker_report(folder, files, find_apps(folder, files), use_engine, 60)}
    write_json_atomic(out / "apps" / "apps.json", report)
    return _ctx(out)


def _fake_docker(bin_dir: Path, log: Path, build_ok: bool = True, daemon: bool = True) -> None:
    """A `docker` stand-in: logs its arguments and plays an engine that builds and runs."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "docker"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$1" in
  version) {'echo 27.0.1' if daemon else 'echo "Cannot connect to the Docker daemon" >&2; exit 1'} ;;
  build) {'exit 0' if build_ok else 'echo "ERROR: failed to solve: COPY failed" >&2; exit 1'} ;;
  compose) case "$*" in *" ps "*) echo '{{"Service":"api","State":"running"}}'; echo '{{"Service":"web","State":"running"}}';; esac ;;
esac
exit 0
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_without_an_engine_nothing_is_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path / "bin", tmp_path / "calls.log", daemon=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert docker_engine()[0] is None
    ctx = _stage_docker(SAMPLES / "zaitseva_compose", tmp_path / "out", use_engine=True)
    for outcome in (check_docker(ctx, {"target": "web"}), check_docker(ctx, {"target": "api"}), check_compose(ctx, {})):
        assert outcome.key == "not_verified"
        assert "Not verified: no Docker engine (Cannot connect to the Docker daemon)" in text_of(outcome.message, "en")
    assert "build" not in (tmp_path / "calls.log").read_text()


def test_with_an_engine_images_are_built_run_offline_and_removed(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.log"
    _fake_docker(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("grader.families.apps.docker.time.sleep", lambda s: None)
    ctx = _stage_docker(SAMPLES / "zaitseva_compose", tmp_path / "out", use_engine=True)
    web, compose = check_docker(ctx, {"target": "web"}), check_compose(ctx, {})
    assert web.key == "ok" and "Built and started with Docker 27.0.1" in text_of(web.message, "en")
    assert compose.key == "ok"
    calls = log.read_text().splitlines()
    runs = [c for c in calls if c.startswith("run ")]
    assert len(runs) == 2 and all("--network none" in c for c in runs)
    assert sum(c.startswith("rm -f") for c in calls) == 2 and any(c.startswith("compose") and " down " in c
                                                                   for c in calls)


def test_a_failed_build_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path / "bin", tmp_path / "calls.log", build_ok=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ctx = _stage_docker(SAMPLES / "petrov_fastapi", tmp_path / "out", use_engine=True)
    outcome = check_docker(ctx, {"target": "api"})
    assert outcome.key == "failed" and "the build failed" in text_of(outcome.message, "en") and "COPY failed" in text_of(outcome.message, "en")


def test_without_docker_flag_the_engine_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.log"
    _fake_docker(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ctx = _stage_docker(SAMPLES / "belova_gradio6", tmp_path / "out", use_engine=False)
    outcome = check_docker(ctx, {"target": "web"})
    assert outcome.key == "not_verified" and "--docker" in text_of(outcome.message, "en")
    assert log.read_text().split() == ["version", "--format", "{{.Server.Version}}"]


def test_broken_dockerfile_and_missing_files_outcomes(tmp_path: Path) -> None:
    ctx = _stage_docker(SAMPLES / "fomin_broken_docker", tmp_path / "a", use_engine=False)
    outcome = check_docker(ctx, {"target": "web"})
    assert outcome.key == "problems"
    assert "EXPOSE 5000, but the app listens on port 7860" in text_of(outcome.message, "en")
    assert check_docker(ctx, {"target": "api"}).key == "missing"
    assert check_compose(ctx, {}).key == "missing"
