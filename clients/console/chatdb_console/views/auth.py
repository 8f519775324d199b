"""Sign-in with an API key (checked by a real call) and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from chatdb_client import ChatDBError
from chatdb_console.messages import describe
from chatdb_console.session import COOKIE_NAME, CSRF_FIELD, new_session
from chatdb_console.web import anonymous_session, console_of, remember, render, session_of


async def signin_form(request: Request) -> Response:
    """The sign-in page; it starts a signed-out session whose CSRF token the form carries."""
    session = session_of(request)
    if session is not None and session.signed_in:
        return RedirectResponse("/connect", status_code=303)
    session = anonymous_session(request)
    request.state.session = session
    return remember(request, render(request, "signin.html", screen="signin"), session)


async def signin(request: Request) -> Response:
    """Check the key with GetSystemStatus; on success seal it into a fresh session."""
    form = await request.form()
    session = session_of(request)
    if session is None or not session.accepts(str(form.get(CSRF_FIELD) or "")):
        return HTMLResponse("Forbidden: the form's CSRF token is missing or stale; reload the page.", 403)
    request.state.session = session
    api_key = str(form.get("api_key") or "").strip()
    if not api_key:
        return render(request, "signin.html", status_code=400, screen="signin", error="Enter an API key.")
    try:
        async with console_of(request).client(api_key) as client:
            await client.get_system_status()
    except ChatDBError as error:
        return render(request, "signin.html", status_code=401, screen="signin",
                      error=f"That key was not accepted. {describe(error)}")
    return remember(request, RedirectResponse("/connect", status_code=303), new_session(api_key))


async def signout(request: Request) -> Response:
    """Forget the key (CSRF-checked, so another site cannot sign people out)."""
    form = await request.form()
    session = session_of(request)
    if session is None or not session.accepts(request.headers.get("x-csrf-token") or str(form.get(CSRF_FIELD) or "")):
        return HTMLResponse("Forbidden: the form's CSRF token is missing or stale; reload the page.", 403)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
