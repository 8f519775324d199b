"""Builds PredictionService from a process's Components, and starts and stops its model backend."""

from __future__ import annotations

from chatdb_server.prediction.servicer import PredictionServicer
from chatdb_server.server.components import Components
from chatdb_server.server.shared import shared_prediction_engine


async def build_servicer(components: Components) -> PredictionServicer:
    """PredictionService over the shared engine."""
    return PredictionServicer(shared_prediction_engine(components))


async def start(components: Components) -> None:
    """Start the model backend (loads weights for vllm)."""
    await shared_prediction_engine(components).start()


async def stop(components: Components) -> None:
    """Stop the model backend."""
    await shared_prediction_engine(components).close()
