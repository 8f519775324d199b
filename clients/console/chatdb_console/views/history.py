"""History and analytics over a bounded window of a source's most recent queries (ListQueries)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from chatdb_client import AsyncChatDBClient
from chatdb_console.analytics import analyse, outcome
from chatdb_console.views.tables import chosen_source
from chatdb_console.web import console_of, page, render

SHOWN = 50
"""Queries listed under the charts."""


@page
async def history(request: Request, client: AsyncChatDBClient) -> Response:
    """The recent queries and their analytics."""
    sources, current = await chosen_source(request, client)
    queries: list = []
    tables: list = []
    if current:
        window = console_of(request).config.history_window
        async for query in client.iter_queries(current, page_size=min(window, 100)):
            queries.append(query)
            if len(queries) >= window:
                break
        tables = [t.table for t in await client.list_tables(current)]
    numbers = analyse(queries, tables)
    charts = [(f"chart-{i}", chart, chart.to_chartjs()) for i, chart in enumerate(numbers.charts)]
    return render(request, "history.html", screen="history", sources=sources, current=current,
                  queries=queries[:SHOWN], numbers=numbers, charts=charts, outcome=outcome)
