"""The application without services: sign-in page, CSRF refusals, redirects, the 404 page, error lines, DSNs."""

from __future__ import annotations

import re

import grpc
import pytest
from starlette.testclient import TestClient

from chatdb_client import ChatDBError
from chatdb_console import ConsoleConfig, create_app, new_secret
from chatdb_console.messages import describe
from chatdb_console.session import COOKIE_NAME
from chatdb_console.views.connect import dsn_from

# Nothing listens here: the tests below never reach a service.
UNUSED_TARGET = "127.0.0.1:9"


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(ConsoleConfig(target=UNUSED_TARGET, secret=new_secret())), follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_sign_in_page_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    page = client.get("/signin")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS (or secure_cookies) it is Secure
    assert re.search(r'<label for="api_key">API key</label>', page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_cookies_are_secure_when_configured() -> None:
    app = create_app(ConsoleConfig(target=UNUSED_TARGET, secret=new_secret(), secure_cookies=True))
    assert "Secure" in TestClient(app).get("/signin").headers["set-cookie"]


@pytest.mark.parametrize("path", ["/signin", "/signout", "/connect", "/connect/test", "/ask", "/ask/sql",
                                  "/ask/export", "/ask/feedback", "/tables/train", "/processing/j1/cancel"])
def test_a_post_without_the_csrf_token_is_refused(client: TestClient, path: str) -> None:
    client.get("/signin")
    assert client.post(path, data={"api_key": "k"}).status_code == 403


def test_a_post_with_another_sessions_token_is_refused(client: TestClient) -> None:
    stale = csrf_of(client.get("/signin").text)
    client.cookies.clear()
    client.get("/signin")
    assert client.post("/signin", data={"api_key": "k", "csrf_token": stale}).status_code == 403


def test_an_empty_key_is_asked_for_again(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    page = client.post("/signin", data={"api_key": " ", "csrf_token": token})
    assert page.status_code == 400 and "Enter an API key." in page.text


@pytest.mark.parametrize("path", ["/connect", "/tables", "/processing", "/ask", "/history", "/status"])
def test_screens_send_signed_out_people_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_unknown_routes_get_a_404_page(client: TestClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "There is no page at /no/such/page." in page.text


def test_static_assets_are_served() -> None:
    app = create_app(ConsoleConfig(target=UNUSED_TARGET, secret=new_secret()))
    script = TestClient(app).get("/static/console.js")
    assert script.status_code == 200 and len(script.content) > 1000


def test_errors_are_one_line_with_reason_fields_and_advice() -> None:
    error = ChatDBError(grpc.StatusCode.FAILED_PRECONDITION, "cannot connect to\n  db:5432")
    error.reason = "SOURCE_UNREACHABLE"
    line = describe(error)
    assert "\n" not in line
    assert line.startswith("FAILED_PRECONDITION (SOURCE_UNREACHABLE): cannot connect to db:5432")
    assert "check the host, the port" in line


@pytest.mark.parametrize(("form", "dsn"), [
    pytest.param({"dsn": " sqlite:///x.db "}, "sqlite:///x.db", id="typed"),
    pytest.param({"dialect": "sqlite", "path": "/data/shop.db"}, "sqlite:////data/shop.db", id="sqlite_file"),
    pytest.param({"dialect": "postgresql", "host": "db", "database": "shop", "user": "app", "password": "p@ss:w/rd"},
                 "postgresql://app:p%40ss%3Aw%2Frd@db:5432/shop", id="postgres_quoted"),
    pytest.param({"dialect": "mysql", "host": "db", "port": "3307", "database": "shop"},
                 "mysql://db:3307/shop", id="mysql_no_user"),
    pytest.param({"dialect": "postgresql"}, "", id="no_host"),
    pytest.param({"dialect": "oracle", "host": "db"}, "", id="unknown_dialect"),
])
def test_dsns_from_the_fields(form: dict[str, str], dsn: str) -> None:
    assert dsn_from(form) == dsn


def test_a_failure_is_a_one_line_page_not_a_stack_trace() -> None:
    app = create_app(ConsoleConfig(target=UNUSED_TARGET, secret=new_secret()))

    async def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("internal detail that must not leak")

    app.add_route("/broken", broken)
    page = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert page.status_code == 500
    assert "something went wrong" in page.text and "internal detail" not in page.text
    assert "Traceback" not in page.text
