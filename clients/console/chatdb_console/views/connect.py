"""Connect: add a data source from a DSN or from fields, test the connection, see what discovery found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from chatdb_client import AsyncChatDBClient
from chatdb_console.labels import label
from chatdb_console.web import action, page, render, render_part

DIALECTS = {"postgresql": 5432, "mysql": 3306, "sqlite": 0}


def dsn_from(form: Mapping[str, Any]) -> str:
    """The DSN typed in, or one assembled from the fields (user and password URL-quoted)."""
    typed = str(form.get("dsn") or "").strip()
    if typed:
        return typed
    dialect = str(form.get("dialect") or "")
    if dialect == "sqlite":
        path = str(form.get("path") or "").strip()
        return f"sqlite:///{path}" if path else ""
    host = str(form.get("host") or "").strip()
    if dialect not in DIALECTS or not host:
        return ""
    user, password = str(form.get("user") or ""), str(form.get("password") or "")
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@" if user else ""
    port = str(form.get("port") or "").strip() or str(DIALECTS[dialect])
    return f"{dialect}://{credentials}{host}:{port}/{quote(str(form.get('database') or '').strip(), safe='')}"


@page
async def connect_page(request: Request, client: AsyncChatDBClient) -> Response:
    """The form and the sources already registered."""
    sources = await client.list_data_sources()
    return render(request, "connect.html", screen="connect", sources=sources, dialects=list(DIALECTS))


@action
async def test_connection(request: Request, client: AsyncChatDBClient) -> Response:
    """TestConnection on the DSN, without registering it."""
    dsn = dsn_from(await request.form())
    if not dsn:
        return render_part(request, "_message.html", error="Enter a DSN, or the dialect and host (or file) of "
                                                           "the database.")
    reply = await client.test_connection(dsn=dsn)
    return render_part(request, "_message.html",
                       ok=f"Connected to {label('dialect', reply.dialect)} {reply.server_version} "
                          f"in {reply.latency.ToMilliseconds()} ms.")


@action
async def add_source(request: Request, client: AsyncChatDBClient) -> Response:
    """CreateDataSource (the server tests and discovers first), then what discovery found."""
    form = await request.form()
    dsn = dsn_from(form)
    if not dsn:
        return render_part(request, "_message.html", error="Enter a DSN, or the dialect and host (or file) of "
                                                           "the database.")
    source = await client.create_data_source(dsn, display_name=str(form.get("display_name") or "").strip(),
                                             data_source_id=str(form.get("data_source_id") or "").strip())
    tables = await client.list_tables(source.name)
    sources = await client.list_data_sources()
    return render_part(request, "_discovered.html", source=source, tables=tables, sources=sources)
