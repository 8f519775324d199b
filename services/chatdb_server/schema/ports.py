"""What SchemaService needs from the other services, named as protocols (implemented in ``server/``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chatdb_server.sql.structure import SourceRef


class RetrainPort(Protocol):
    """Queues training for tables a scheduled refresh found STALE (TrainingService's job queue)."""

    async def retrain(self, source: SourceRef, tables: Sequence[str]) -> str:
        """Queue a SCHEMA training job for ``tables`` of ``source``; the job's name."""
