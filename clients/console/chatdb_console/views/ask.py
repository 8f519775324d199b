"""Ask: a question → the SQL (shown, editable, re-runnable through the guard), the explanation, typed
rows, a chart picked from the result's shape, export, and feedback that becomes a golden example."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from chatdb_client import AskResult, AsyncChatDBClient, QueryResult
from chatdb_console.charts import chart_from_suggestion, pick_chart
from chatdb_console.labels import label
from chatdb_console.views.tables import chosen_source
from chatdb_console.web import action, page, render, render_part

MAX_ROWS = 200
"""Rows a page shows; the export gives the full result."""
EXPORT_FORMATS = {"csv": "csv", "parquet": "parquet"}


@page
async def ask_page(request: Request, client: AsyncChatDBClient) -> Response:
    """The question box."""
    sources, current = await chosen_source(request, client)
    return render(request, "ask.html", screen="ask", sources=sources, current=current)


def result_context(result: QueryResult, source: str) -> dict[str, Any]:
    """What the result fragment shows of an Ask or ExecuteSql result."""
    suggestion = result.chart if isinstance(result, AskResult) else None
    chart = (chart_from_suggestion(suggestion, result.columns, result.rows) if suggestion is not None
             else pick_chart(result.columns, result.rows))
    level = result.degradation_level
    return {"result": result, "source": source, "chart": chart,
            "chart_spec": chart.to_chartjs() if chart else None,
            "level": level.name.lower().replace("_", " ") if level is not None else ""}


@action
async def ask(request: Request, client: AsyncChatDBClient) -> Response:
    """Ask the question."""
    form = await request.form()
    source, question = str(form.get("source") or ""), str(form.get("question") or "").strip()
    if not source or not question:
        return render_part(request, "_message.html", error="Pick a data source and type a question.")
    answer = await client.ask(source, question, max_rows=MAX_ROWS)
    return render_part(request, "_result.html", question=question, **result_context(answer, source))


@action
async def run_sql(request: Request, client: AsyncChatDBClient) -> Response:
    """Check (ValidateSql) or run (ExecuteSql) the SQL as edited."""
    form = await request.form()
    source, sql = str(form.get("source") or ""), str(form.get("sql") or "").strip()
    if not source or not sql:
        return render_part(request, "_message.html", error="Pick a data source and write a query.")
    if form.get("do") == "check":
        verdict = await client.validate_sql(source, sql)
        if verdict.valid:
            return render_part(request, "_message.html", ok=f"The guard accepts it; it would run as: {verdict.sql}")
        problems = "; ".join(f"{v.reason}: {v.message}" for v in verdict.violations)
        return render_part(request, "_message.html", error=f"The guard refuses it: {problems}")
    result = await client.execute_sql(source, sql, max_rows=MAX_ROWS)
    return render_part(request, "_result.html", question="", **result_context(result, source))


@action
async def export(request: Request, client: AsyncChatDBClient) -> Response:
    """ExportQueryResult of the SQL as a download; a refusal shows before the download starts."""
    form = await request.form()
    source, sql = str(form.get("source") or ""), str(form.get("sql") or "").strip()
    chosen = EXPORT_FORMATS.get(str(form.get("format") or "csv"), "csv")
    parts = client.export_query_result(source, sql, "", chosen)
    header = await anext(parts)

    async def body() -> AsyncIterator[bytes]:
        try:
            async with contextlib.aclosing(parts):
                async for part in parts:
                    if part.kind == "chunk":
                        yield part.data
        finally:
            await client.close()

    filename = f"{source}-result.{(header.file_extension or chosen).lstrip('.')}"
    return StreamingResponse(body(), media_type=header.content_type or "application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@action
async def feedback(request: Request, client: AsyncChatDBClient) -> Response:
    """SubmitFeedback: thumbs up or down, with a corrected SQL that becomes a golden example."""
    form = await request.form()
    query, rating = str(form.get("query") or ""), str(form.get("rating") or "")
    corrected = str(form.get("corrected_sql") or "").strip()
    if not query or rating not in ("correct", "incorrect"):
        return render_part(request, "_message.html", error="Say whether the answer was right.")
    recorded = await client.submit_feedback(query, correct=rating == "correct", corrected_sql=corrected,
                                            comment=str(form.get("comment") or "").strip())
    saved = " and saved as a golden example" if recorded.feedback.example else ""
    return render_part(request, "_message.html",
                       ok=f"Thanks: recorded as {label('rating', recorded.feedback.rating)}{saved}.")
