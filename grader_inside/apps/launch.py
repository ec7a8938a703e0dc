"""Runs a student's app inside the sandbox on the grader's port: `python -m grader_inside.apps.launch cfg.json`.

Trusted code, started by the client (`grader_inside.apps.client`) in the same sandbox. It installs the
offline stand-ins the notebook runs get (grader_offline: data folders, no GPU, tf.keras), and
patches, when the app imports them, what a student's app calls to start a server:

  * gradio's `Blocks.launch`: the grader's host and port, `share`, `inbrowser` and `debug` off,
    no `auth` (the grader cannot log in), options this Gradio no longer knows dropped (noted);
  * `uvicorn.run`: the grader's host and port, no reload, one worker;
  * `webbrowser.open`: nothing.

The app file runs as `__main__`. When it defines its app without starting it (`gradio app.py`,
`uvicorn main:app` style), the launcher starts the Gradio Blocks or ASGI app it left behind.
What happened is written to the status file (JSON) for the client; the process then stays up
until the client or the sandbox ends it.
"""
from __future__ import annotations

import inspect
import json
import os
import runpy
import sys
import threading
import time
import traceback
import types
from pathlib import Path
from typing import Any

from grader_inside.prepare import SHIMS

FORCED_GRADIO = {"share": False, "inbrowser": False, "debug": False, "prevent_thread_lock": True,
                 "ssr_mode": False, "mcp_server": False, "quiet": True}
DROPPED_GRADIO = ("auth", "auth_message", "ssl_keyfile", "ssl_certfile", "root_path")


class Status:
    """What the launcher saw, written to JSON after every change (the client reads it at any time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"launched_by": None, "requested": [], "ignored_options": [],
                                     "dropped_options": [], "error": None, "finished_script": False}
        self.lock = threading.Lock()

    def update(self, **changes: Any) -> None:
        with self.lock:
            self.data.update(changes)
            tmp = self.path.with_suffix(".part")
            tmp.write_text(json.dumps(self.data, default=str), encoding="utf-8")
            tmp.replace(self.path)

    def add(self, key: str, value: Any) -> None:
        with self.lock:
            items = list(self.data.get(key) or [])
        if value not in items:
            self.update(**{key: [*items, value]})


class Launcher:
    def __init__(self, host: str, port: int, status: Status) -> None:
        self.host = host
        self.port = port
        self.status = status

    def started_by(self, who: str) -> None:
        """Who started the server: the app itself, or the grader (recorded once, first wins)."""
        if self.status.data["launched_by"] is None:
            self.status.update(launched_by=who)

    def request(self, asked: dict[str, str]) -> None:
        """Record the host, port and flags the app asked for (what the grader then overrode)."""
        if asked:
            self.status.add("requested", asked)

    # -- gradio ------------------------------------------------------------------------------
    def patch_gradio(self, module: types.ModuleType) -> None:
        blocks = getattr(module, "Blocks", None)
        original = getattr(blocks, "launch", None)
        if blocks is None or original is None or getattr(original, "_grader", False):
            return
        known = set(inspect.signature(original).parameters)
        launcher = self

        def launch(self: Any, *args: Any, **kwargs: Any) -> Any:
            names = [n for n in inspect.signature(original).parameters][1:]
            kwargs = {**dict(zip(names, args)), **kwargs}
            launcher.request({k: repr(kwargs.get(k)) for k in ("server_name", "server_port", "share", "debug")
                              if k in kwargs})
            for key in list(kwargs):
                if key not in known:
                    launcher.status.add("ignored_options", key)
                    kwargs.pop(key)
                elif key in DROPPED_GRADIO and kwargs[key] is not None:
                    launcher.status.add("dropped_options", key)
                    kwargs.pop(key)
            forced = {k: v for k, v in FORCED_GRADIO.items() if k in known}
            kwargs.update(forced, server_name=launcher.host, server_port=launcher.port)
            result = original(self, **kwargs)
            launcher.started_by("app")
            return result

        launch._grader = True  # type: ignore[attr-defined]
        blocks.launch = launch

    # -- uvicorn -----------------------------------------------------------------------------
    def patch_uvicorn(self, module: types.ModuleType) -> None:
        original = getattr(module, "run", None)
        if original is None or getattr(original, "_grader", False):
            return
        launcher = self

        def run(app: Any, *args: Any, **kwargs: Any) -> Any:
            launcher.request({k: repr(kwargs.get(k)) for k in ("host", "port") if k in kwargs})
            kwargs.update(host=launcher.host, port=launcher.port, reload=False, workers=None)
            kwargs.setdefault("log_level", "warning")
            launcher.started_by("app")
            return original(app, **kwargs)

        run._grader = True  # type: ignore[attr-defined]
        module.run = run  # type: ignore[attr-defined]
        main = sys.modules.get("uvicorn.main")
        if main is not None:
            main.run = run  # type: ignore[attr-defined]

    def install(self) -> None:
        import webbrowser

        webbrowser.open = lambda *a, **k: False  # type: ignore[assignment]
        webbrowser.open_new_tab = lambda *a, **k: False  # type: ignore[assignment]
        from grader_offline.hooks import PostImportFinder

        sys.meta_path.insert(0, PostImportFinder({"gradio": self.patch_gradio, "uvicorn": self.patch_uvicorn}))

    # -- an app the script defined but did not start -----------------------------------------
    def serve_leftover(self, namespace: dict[str, Any]) -> bool:
        gradio = sys.modules.get("gradio")
        if gradio is not None:
            for value in namespace.values():
                if isinstance(value, gradio.Blocks):
                    self.started_by("grader")
                    value.launch(server_name=self.host, server_port=self.port)
                    return True
        for value in namespace.values():
            if _is_asgi_app(value):
                import uvicorn

                self.started_by("grader")
                threading.Thread(target=uvicorn.run, args=(value,), daemon=True,
                                 kwargs={"host": self.host, "port": self.port, "log_level": "warning"}).start()
                return True
        return False


def _is_asgi_app(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith(("fastapi", "starlette")) and callable(value) and hasattr(value, "router")


def error_record(exc: BaseException, app_path: str) -> dict[str, Any]:
    """The exception, and the app's own line where it surfaced (never the whole traceback)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == app_path:
            line = frame.lineno
    return {"type": type(exc).__name__, "message": str(exc)[:500], "line": line,
            "missing_file": getattr(exc, "filename", None) if isinstance(exc, OSError) else None}


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    app_path = os.path.abspath(cfg["app"])
    status = Status(Path(cfg["status"]))
    launcher = Launcher(cfg.get("host", "127.0.0.1"), int(cfg["port"]), status)
    sys.path.insert(0, str(SHIMS))
    import grader_offline

    grader_offline.install(serve_apps=True)  # the notebook runs' offline stand-ins: data, no GPU, tf.keras
    launcher.install()
    status.update()
    os.chdir(os.path.dirname(app_path))
    sys.path.insert(0, os.path.dirname(app_path))
    sys.argv = [app_path]
    try:
        namespace = runpy.run_path(app_path, run_name="__main__")
    except SystemExit as exc:
        namespace = {}
        if status.data["launched_by"] is None:
            status.update(error={"type": "SystemExit", "message": str(exc.code), "line": None, "missing_file": None})
            return 3
    except BaseException as exc:  # the student's code: any error is reported, never re-raised
        status.update(error=error_record(exc, app_path))
        return 3
    status.update(finished_script=True)
    if status.data["launched_by"] is None and not launcher.serve_leftover(namespace):
        status.update(launched_by="none")  # perhaps a server of its own (http.server...) runs
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # not sys.exit: threads the app started (a version check...) must not hold it up
