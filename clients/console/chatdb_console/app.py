"""The console's Starlette application: its routes, static assets and error pages."""

from __future__ import annotations

import logging
from importlib import resources

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatdb_console.config import ConsoleConfig
from chatdb_console.session import SessionCodec
from chatdb_console.views import ask, auth, connect, history, processing, status, tables
from chatdb_console.web import Console, build_templates, render

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # Only this origin's scripts, styles and connections: nothing from a CDN, no inline scripts.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def home(request: Request) -> Response:
    """The start: Connect."""
    return RedirectResponse("/connect", status_code=303)


async def healthz(request: Request) -> Response:
    """Liveness and readiness: the process answers HTTP (it calls no service)."""
    return PlainTextResponse("ok")


async def not_found(request: Request, exc: Exception) -> Response:
    """Unknown routes get a page, not a bare 404."""
    return render(request, "not_found.html", status_code=404, screen="")


async def http_error(request: Request, exc: Exception) -> Response:
    """Other HTTP errors (a wrong method, ...) as a one-line page."""
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Something went wrong."
    return render(request, "error.html", status_code=code, error=f"{code}: {detail}")


async def server_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged, and a one-line page rather than a stack trace."""
    log.exception("console error on %s", request.url.path)
    return render(request, "error.html", status_code=500, error="500: something went wrong; try again.")


ROUTES = [
    Route("/", home),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/signin", auth.signin_form, methods=["GET"]),
    Route("/signin", auth.signin, methods=["POST"]),
    Route("/signout", auth.signout, methods=["POST"]),
    Route("/connect", connect.connect_page, methods=["GET"]),
    Route("/connect", connect.add_source, methods=["POST"]),
    Route("/connect/test", connect.test_connection, methods=["POST"]),
    Route("/tables", tables.library, methods=["GET"]),
    Route("/tables/search", tables.search, methods=["GET"]),
    Route("/tables/train", tables.train, methods=["POST"]),
    Route("/tables/{source}/{table}", tables.table_detail, methods=["GET"]),
    Route("/processing", processing.jobs, methods=["GET"]),
    Route("/processing/{job}", processing.job_page, methods=["GET"]),
    Route("/processing/{job}/events", processing.job_events, methods=["GET"]),
    Route("/processing/{job}/cancel", processing.cancel, methods=["POST"]),
    Route("/ask", ask.ask_page, methods=["GET"]),
    Route("/ask", ask.ask, methods=["POST"]),
    Route("/ask/sql", ask.run_sql, methods=["POST"]),
    Route("/ask/export", ask.export, methods=["POST"]),
    Route("/ask/feedback", ask.feedback, methods=["POST"]),
    Route("/history", history.history, methods=["GET"]),
    Route("/status", status.status, methods=["GET"]),
]


def create_app(config: ConsoleConfig) -> Starlette:
    """The console for the services at ``config.target``."""
    static = resources.files("chatdb_console") / "static"
    app = Starlette(
        routes=[*ROUTES, Mount("/static", StaticFiles(directory=str(static), check_dir=False), name="static")],
        exception_handlers={404: not_found, HTTPException: http_error, Exception: server_error},
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.console = Console(config, SessionCodec(config.secret, config.session_ttl_s), build_templates())
    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (static assets may be cached)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers and not (cacheable and name == "Cache-Control"):
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)
