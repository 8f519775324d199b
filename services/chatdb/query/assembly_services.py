"""Builders of SchemaService, TrainingService and PredictionService from their public classes, so a
process can host all four (``chatdb serve``) with one catalog, vector store, embedder and engine."""

from __future__ import annotations

from chatdb.prediction.servicer import PredictionServicer
from chatdb.query.assembly import (
    shared_catalog,
    shared_embedder,
    shared_prediction_engine,
    shared_vectors,
)
from chatdb.schema.servicer import SchemaServicer
from chatdb.server.components import Components
from chatdb.training.service import TrainingService
from chatdb.training.servicer import TrainingServicer


def shared_training_service(components: Components) -> TrainingService:
    """The process's TrainingService domain (jobs, examples, worker)."""
    service: TrainingService = components.shared("training.service", lambda: TrainingService(
        components.store, shared_catalog(components), shared_vectors(components), shared_embedder(components),
        components.pages, components.settings))
    return service


async def build_schema_servicer(components: Components) -> SchemaServicer:
    """SchemaService over the shared catalog."""
    return SchemaServicer(shared_catalog(components))


async def build_training_servicer(components: Components) -> TrainingServicer:
    """TrainingService over the shared domain."""
    return TrainingServicer(shared_training_service(components))


async def start_training(components: Components) -> None:
    """Start the training worker."""
    await shared_training_service(components).start()


async def stop_training(components: Components) -> None:
    """Stop the training worker, giving running jobs the grace period."""
    await shared_training_service(components).stop()


async def build_prediction_servicer(components: Components) -> PredictionServicer:
    """PredictionService over the shared engine."""
    return PredictionServicer(shared_prediction_engine(components))


async def start_prediction(components: Components) -> None:
    """Start the model backend (loads weights for vllm)."""
    await shared_prediction_engine(components).start()


async def stop_prediction(components: Components) -> None:
    """Stop the model backend."""
    await shared_prediction_engine(components).close()
