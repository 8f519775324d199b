"""The plumbing every screen shares: the session of a request, a client with its key, the checks of
pages (signed in) and actions (signed in and carrying the session's CSRF token), and rendering, with a
failed call shown as one line on the page."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.templating import Jinja2Templates

from chatdb_client import AsyncChatDBClient, ChatDBError
from chatdb_console.cells import format_cell
from chatdb_console.config import ConsoleConfig
from chatdb_console.labels import filters
from chatdb_console.messages import describe
from chatdb_console.session import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, Session, SessionCodec, new_session

Handler = Callable[[Request, AsyncChatDBClient], Awaitable[Response]]

# gRPC statuses → the HTTP status of a full page showing the failure.
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.FAILED_PRECONDITION: 400, grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.ALREADY_EXISTS: 409, grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401, grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503, grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


@dataclass
class Console:
    """What the application holds: its configuration, the session codec and the templates."""

    config: ConsoleConfig
    codec: SessionCodec
    templates: Jinja2Templates

    def client(self, api_key: str) -> AsyncChatDBClient:
        """An SDK client that calls with ``api_key`` (close it after the request)."""
        return AsyncChatDBClient(self.config.target, timeout=self.config.call_timeout_s,
                                 credentials=self.config.credentials, api_key=api_key,
                                 service_targets=self.config.service_targets)


def build_templates() -> Jinja2Templates:
    """The package's templates, autoescaped, with the console's filters."""
    environment = jinja2.Environment(loader=jinja2.PackageLoader("chatdb_console"), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    environment.filters["cell"] = format_cell
    environment.filters.update(filters())
    return Jinja2Templates(env=environment)


def console_of(request: Request) -> Console:
    """The console serving a request."""
    console: Console = request.app.state.console
    return console


def session_of(request: Request) -> Session | None:
    """The request's session, when its cookie is valid."""
    return console_of(request).codec.open(request.cookies.get(COOKIE_NAME))


def is_htmx(request: Request) -> bool:
    """Whether htmx made the request (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def remember(request: Request, response: Response, session: Session) -> Response:
    """Set the session cookie on a response: HttpOnly, SameSite=Strict, Secure over TLS, expiring."""
    console = console_of(request)
    response.set_cookie(COOKIE_NAME, console.codec.seal(session), max_age=console.config.session_ttl_s,
                        httponly=True, samesite="strict", path="/",
                        secure=console.config.secure_cookies or request.url.scheme == "https")
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A template with the request, its session's CSRF token and the screen's name."""
    session = getattr(request.state, "session", None) or session_of(request)
    context.setdefault("error", "")
    context.setdefault("screen", "")
    return console_of(request).templates.TemplateResponse(
        request, template, {"csrf_token": session.csrf_token if session else "",
                            "signed_in": bool(session and session.signed_in), **context}, status_code=status_code)


def render_part(request: Request, template: str, **context: Any) -> Response:
    """A fragment for htmx, or the same fragment inside a whole page for a plain form post."""
    if is_htmx(request):
        return render(request, template, **context)
    return render(request, "standalone.html", part=template, **context)


def failure(request: Request, error: ChatDBError) -> Response:
    """A failed call as one line: a fragment for htmx (swapped in), else a page with a fitting status; an
    expired or revoked key signs the person out."""
    message = describe(error)
    if error.code == grpc.StatusCode.UNAUTHENTICATED:
        request.state.session = new_session()
        response = render(request, "signin.html", status_code=401, error=message, screen="signin")
        if is_htmx(request):
            response.headers["HX-Redirect"] = "/signin"
        return remember(request, response, request.state.session)
    if is_htmx(request):
        return render(request, "_message.html", error=message)
    return render(request, "error.html", status_code=HTTP_STATUS.get(error.code, 502), error=message)


def _wrap(handler: Handler, post: bool) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = session_of(request)
        if post:
            presented = request.headers.get(CSRF_HEADER)
            if presented is None:
                presented = str((await request.form()).get(CSRF_FIELD) or "")
            if session is None or not session.accepts(presented):
                return HTMLResponse("Forbidden: the form's CSRF token is missing or stale; reload the page.", 403)
        if session is None or not session.signed_in:
            if is_htmx(request):
                return Response(status_code=401, headers={"HX-Redirect": "/signin"})
            return RedirectResponse("/signin", status_code=303)
        request.state.session = session
        client = console_of(request).client(session.api_key)
        try:
            response = await handler(request, client)
        except ChatDBError as error:
            await client.close()
            return failure(request, error)
        except BaseException:
            await client.close()
            raise
        if not isinstance(response, StreamingResponse):  # a stream closes the client when it ends
            await client.close()
        return response

    return endpoint


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A GET screen for signed-in people. The handler gets a client with their key, closed after it returns,
    or, when it returns a StreamingResponse, by the stream itself when it ends."""
    return _wrap(handler, post=False)


def action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A POST for signed-in people carrying the session's CSRF token (403 without it)."""
    return _wrap(handler, post=True)


def anonymous_session(request: Request) -> Session:
    """The request's session, or a new signed-out one (whose token protects the sign-in form)."""
    return session_of(request) or new_session()
