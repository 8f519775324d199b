"""Builds TrainingService from a process's Components, and starts and stops its worker.

FINE_TUNE jobs are handled where fine-tuning can run here (the finetune extras and a
base model); elsewhere CreateTrainingJob refuses them with a clear reason."""

from __future__ import annotations

from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.server.components import Components
from chatdb_server.server.shared import shared_catalog, shared_embedder, shared_vectors
from chatdb_server.training.finetune.handler import fine_tune_handler_for
from chatdb_server.training.job_model import JobType
from chatdb_server.training.service import TrainingService
from chatdb_server.training.servicer import TrainingServicer


def training_service(components: Components) -> TrainingService:
    """The process's TrainingService domain (jobs, examples, worker)."""
    def build() -> TrainingService:
        settings, store, catalog = components.settings, components.store, shared_catalog(components)
        service = TrainingService(store, catalog, shared_vectors(components), shared_embedder(components),
                                  components.pages, settings)
        handler = fine_tune_handler_for(settings, store, catalog, TemplateGenerator())
        if handler is not None:
            service.register_handler(JobType.FINE_TUNE, handler)
        return service

    service: TrainingService = components.shared("training.service", build)
    return service


async def build_servicer(components: Components) -> TrainingServicer:
    """TrainingService over the shared domain."""
    return TrainingServicer(training_service(components))


async def start(components: Components) -> None:
    """Start the training worker."""
    await training_service(components).start()


async def stop(components: Components) -> None:
    """Stop the training worker, giving running jobs the grace period."""
    await training_service(components).stop()
