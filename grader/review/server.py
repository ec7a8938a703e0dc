"""`grader review`: a local web page per student to grade manual items and answer flags.

Security: the server listens on 127.0.0.1 only, and every path starts with a random token
printed once (a request without it, or with another, gets 403); a wrong Host header is refused
(DNS rebinding) and so is a form posted from another origin. Student content is escaped or
rendered safe (grader/review/render.py), and every page carries a strict Content-Security-Policy:
scripts and styles only from this server's static files, images only from it or inline data.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from grader.errors import GraderError
from grader.i18n import LANGS, localized, tr
from grader.report.html import STUDENT_REPORT_NAME, TEMPLATE_DIR, localized_percent
from grader.results import BatchResult, SubmissionResult
from grader.review.items import left_to_review, parse_decisions, review_items, shown_points
from grader.review.render import code_css, code_html, markdown_html
from grader.review.sources import student_entries, student_notebook
from grader.review.store import ReviewStore
from grader_inside.notebook import Cell
from grader.similarity.model import load_similarity, pair_views

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
LANG_COOKIE = "grader_review_lang"
MAX_BODY = 2 * 1024 * 1024
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                    "x-frame-options": "DENY", "cache-control": "no-store"}

ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]


class TokenGate:
    """Refuses every request whose path does not start with /<token>/ (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = str(scope.get("path", ""))
            first = path[1:].split("/", 1)[0] if path.startswith("/") else ""
            if not hmac.compare_digest(first.encode(), self.token):
                await PlainTextResponse("403: open the address that grader review printed (it holds the token).",
                                        status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Adds the security headers (and the page CSP, unless the route set its own) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = dict(SECURITY_HEADERS)
                if b"content-security-policy" not in present:
                    extra["content-security-policy"] = PAGE_CSP
                headers += [(k.encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass(frozen=True)
class ReviewSettings:
    token: str
    ui_lang: str  # the page's language unless the instructor switches it
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost")


def new_token() -> str:
    return secrets.token_urlsafe(24)


@jinja2.pass_context
def _points(context: Any, value: float) -> str:
    """Points as the page's language writes them (a decimal comma in Russian)."""
    return shown_points(value, str(context.get("lang")))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HERE / "templates")),
                                    jinja2.FileSystemLoader(str(TEMPLATE_DIR))]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pts"] = _points
    env.filters["pct"] = localized_percent
    env.globals.update(markdown=markdown_html, code=code_html)
    return env


class ReviewApp:
    """The routes, over one `ReviewStore`."""

    def __init__(self, store: ReviewStore, settings: ReviewSettings) -> None:
        self.store = store
        self.settings = settings
        self.root = f"/{settings.token}"
        self.templates = Jinja2Templates(env=_environment())
        self.css = code_css()

    # -- helpers ------------------------------------------------------------------------------

    def lang(self, request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in LANGS else self.settings.ui_lang

    def url(self, result: SubmissionResult) -> str:
        return f"{self.root}/s/{quote(self.store.folder_of(result), safe='')}"

    def ordered(self, batch: BatchResult) -> list[SubmissionResult]:
        return sorted(batch.students, key=lambda r: (r.student.casefold(), r.submission))

    def find(self, batch: BatchResult, folder: str) -> SubmissionResult | None:
        return next((r for r in batch.students if self.store.folder_of(r) == folder), None)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        lang = self.lang(request)

        def t(key: str, **params: Any) -> str:
            return tr(lang, key, **params)

        response = self.templates.TemplateResponse(
            request, name, {"t": t, "lang": lang, "root": self.root, "url": self.url,
                            "say": lambda text, message: localized(text, message, lang), **context},
            status_code=status)
        if "lang" in request.query_params and request.query_params["lang"] in LANGS:
            response.set_cookie(LANG_COOKIE, request.query_params["lang"], httponly=True, samesite="strict")
        return response

    # -- routes -------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        batch = self.store.batch()
        students = self.ordered(batch)
        similarity = load_similarity(self.store.out_dir)
        rows = [{"r": r, "left": left_to_review(r), "pairs": len(similarity.pairs_of(r.student)) if similarity else 0}
                for r in students]
        return self.render(request, "review_index.html", rows=rows, batch=batch, sim=similarity,
                           links={r.student: self.url(r) for r in students}, left=sum(row["left"] for row in rows),
                           pairs=pair_views(similarity, batch), overrides=str(self.store.overrides))

    async def student(self, request: Request) -> Response:
        batch = self.store.batch()
        result = self.find(batch, request.path_params["folder"])
        if result is None:
            return PlainTextResponse(tr(self.lang(request), "review.no_student"), status_code=404)
        return self.student_page(request, batch, result)

    def student_page(self, request: Request, batch: BatchResult, result: SubmissionResult,
                     problems: list[str] | None = None, typed: dict[str, str] | None = None) -> Response:
        folder = self.store.folder_of(result)
        notebook = student_notebook(self.store.out_dir, result.student, folder, student_entries(self.store.out_dir))
        cells = [Cell(c.kind, c.source, c.number) for c in notebook.cells]
        to_review, others = review_items(result, self.store.rubric, cells)
        students = self.ordered(batch)
        at = students.index(result)
        similarity = load_similarity(self.store.out_dir)
        return self.render(
            request, "review_student.html", status=400 if problems else 200, r=result, folder=folder,
            items=to_review, others=others, notebook=notebook, problems=problems or [], typed=typed or {},
            position=at + 1, total=len(students), left=left_to_review(result),
            class_left=sum(left_to_review(r) for r in students),
            prev_url=self.url(students[at - 1]) if at > 0 else None,
            next_url=self.url(students[at + 1]) if at + 1 < len(students) else None,
            saved=request.query_params.get("saved") == "1",
            pairs=pair_views(similarity, batch, student=result.student), overrides=str(self.store.overrides))

    async def save(self, request: Request) -> Response:
        lang = self.lang(request)
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return PlainTextResponse("403: a form from another site", status_code=403)
        batch = self.store.batch()
        result = self.find(batch, request.path_params["folder"])
        if result is None:
            return PlainTextResponse(tr(lang, "review.no_student"), status_code=404)
        form = {k: str(v) for k, v in (await request.form()).items()}
        decisions, problems = parse_decisions(form, result, lang)
        if not problems:
            try:
                batch = self.store.save(result.student, decisions)
            except GraderError as exc:  # the overrides file was broken by hand: say so, write nothing
                problems = [tr(lang, "review.overrides_invalid", error=str(exc))]
            except OSError as exc:  # a full disk, a read-only folder
                logger.warning("saving the review of %s failed: %s", result.student, exc)
                problems = [tr(lang, "review.save_failed", error=str(exc))]
        if problems:
            return self.student_page(request, batch, result, problems, form)
        students = self.ordered(batch)
        at = next(i for i, r in enumerate(students) if r.student == result.student)
        step = {"next": 1, "prev": -1}.get(form.get("go") or form.get("keyboard_go", ""), 0)
        target = students[min(max(at + step, 0), len(students) - 1)]
        return RedirectResponse(f"{self.url(target)}?saved=1" if target is students[at] else self.url(target),
                                status_code=303)

    async def report(self, request: Request) -> Response:
        batch = self.store.batch()
        result = self.find(batch, request.path_params["folder"])
        path = self.store.out_dir / self.store.folder_of(result) / STUDENT_REPORT_NAME if result else None
        if path is None or not path.is_file():
            return PlainTextResponse(tr(self.lang(request), "review.no_student"), status_code=404)
        return FileResponse(path, media_type="text/html; charset=utf-8",
                            headers={"content-security-policy": REPORT_CSP})

    async def pygments_css(self, request: Request) -> Response:
        return Response(self.css, media_type="text/css")

    def routes(self) -> list[Any]:
        return [
            Route("/", self.index),
            Route("/s/{folder}", self.student, methods=["GET"]),
            Route("/s/{folder}", self.save, methods=["POST"]),
            Route("/s/{folder}/report", self.report),
            Route("/static/pygments.css", self.pygments_css),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ]


def make_app(store: ReviewStore, settings: ReviewSettings) -> ASGIApp:
    """The review site as an ASGI app: token gate, host check, security headers, routes."""
    review = ReviewApp(store, settings)
    app = Starlette(routes=[Mount(review.root, routes=review.routes())],
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.hosts))],  # type: ignore[arg-type]
                    max_body_size=MAX_BODY)
    return SecurityHeaders(TokenGate(app, settings.token))


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: a free one), so the address is known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def address(sock: socket.socket, token: str) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}/{token}/"


def server_for(app: ASGIApp) -> uvicorn.Server:
    """A uvicorn server for the app (quiet: the instructor's terminal shows the address only)."""
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
