"""Builds SchemaService from a process's Components, and starts and stops its refresh scheduler.

The scheduler's RetrainPort (``chatdb_server.schema.ports``) meets TrainingService's job queue here:
a SCHEMA job for the STALE tables is stored QUEUED in the shared metadata store, where whichever
replica runs training workers claims it, in this process or another.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.schema.refresh_schedule import RefreshSchedule, RefreshScheduler
from chatdb_server.schema.servicer import SchemaServicer
from chatdb_server.server.components import Components
from chatdb_server.server.shared import shared_catalog
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.job_model import JobType
from chatdb_server.training.jobs import JobStore


class QueuedRetraining:
    """The RetrainPort: a SCHEMA training job queued in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._jobs = JobStore(store)

    async def retrain(self, source: SourceRef, tables: Sequence[str]) -> str:
        """Queue a SCHEMA job for ``tables``; its name."""
        return (await self._jobs.create(source, JobType.SCHEMA, list(tables))).name


def refresh_scheduler(components: Components) -> RefreshScheduler:
    """The process's scheduler of data-source refreshes."""
    scheduler: RefreshScheduler = components.shared("schema.scheduler", lambda: RefreshScheduler(
        shared_catalog(components), RefreshSchedule(components.store), QueuedRetraining(components.store),
        poll_s=components.settings.refresh_poll_s))
    return scheduler


async def build_servicer(components: Components) -> SchemaServicer:
    """SchemaService over the shared catalog."""
    return SchemaServicer(shared_catalog(components))


async def start(components: Components) -> None:
    """Start refreshing sources whose scheduled refresh is due."""
    await refresh_scheduler(components).start()


async def stop(components: Components) -> None:
    """Stop the refresh scheduler."""
    await refresh_scheduler(components).stop()
