"""Status: the degradation level, each dependency and its breaker, the models and adapters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from chatdb_client import AsyncChatDBClient
from chatdb_console.web import page, render


@page
async def status(request: Request, client: AsyncChatDBClient) -> Response:
    """GetSystemStatus and ListModels."""
    system = await client.get_system_status()
    models = await client.list_models()
    level = system.degradation_level
    return render(request, "status.html", screen="status", system=system, models=models,
                  level=level.name.lower().replace("_", " ") if level is not None else "unknown",
                  level_number=int(level) if level is not None else -1)
