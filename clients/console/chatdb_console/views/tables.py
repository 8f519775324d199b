"""Tables library: sources → tables → columns, keys, indexes, row estimates and samples; semantic search;
the join graph; picking tables to train."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from chatdb_client import AsyncChatDBClient, from_value
from chatdb_console.graph import lay_out
from chatdb_console.web import action, is_htmx, page, render, render_part


def source_id(name: str) -> str:
    """``dataSources/shop`` → ``shop``."""
    return name.removeprefix("dataSources/")


async def chosen_source(request: Request, client: AsyncChatDBClient) -> tuple[list, str]:
    """The tenant's sources and the one the ``source`` parameter names (else the first; ``""`` when none)."""
    sources = await client.list_data_sources()
    wanted = request.query_params.get("source", "")
    ids = [source_id(s.name) for s in sources]
    return sources, wanted if wanted in ids else (ids[0] if ids else "")


@page
async def library(request: Request, client: AsyncChatDBClient) -> Response:
    """A source's tables and join graph."""
    sources, current = await chosen_source(request, client)
    tables, picture = [], None
    if current:
        tables = await client.list_tables(current)
        graph = await client.get_schema_graph(current)
        picture = lay_out(list(graph.tables), list(graph.edges))
    return render(request, "tables.html", screen="tables", sources=sources, current=current, tables=tables,
                  graph=picture, source_id=source_id)


@page
async def table_detail(request: Request, client: AsyncChatDBClient) -> Response:
    """One table in full: columns, keys, indexes, sample rows."""
    source, name = request.path_params["source"], request.path_params["table"]
    table = await client.get_table(source, name, full=True)
    samples = [[from_value(value) for value in row.values] for row in table.sample_rows]
    return render(request, "table.html", screen="tables", source=source, table=table, samples=samples)


@page
async def search(request: Request, client: AsyncChatDBClient) -> Response:
    """SearchTables over a trained source."""
    source, words = request.query_params.get("source", ""), request.query_params.get("q", "").strip()
    if not source or not words:
        return render_part(request, "_message.html", error="Type what the tables you look for are about.")
    reply = await client.search_tables(source, words)
    return render_part(request, "_search.html", source=source, words=words, matches=list(reply.tables))


@action
async def train(request: Request, client: AsyncChatDBClient) -> Response:
    """Start a schema training job for the picked tables (all when none is picked)."""
    form = await request.form()
    source = str(form.get("source") or "")
    tables = [str(t) for t in form.getlist("tables")]
    job = await client.create_training_job(source, tables)
    target = f"/processing/{job.name.removeprefix('trainingJobs/')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
