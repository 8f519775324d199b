"""What a training job is, independent of storage and wire format.

States, types and stages are valued by the names the metadata store keeps, which are
the proto enum names without their prefix (``RUNNING``, ``FINE_TUNE``, ``VECTORIZE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JOB_NAME_PREFIX = "trainingJobs/"


class JobState(StrEnum):
    """The lifecycle of a job."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        """Whether the job will never change again."""
        return self in TERMINAL_STATES

    @property
    def active(self) -> bool:
        """Whether a worker holds the job (running, or stopping on request)."""
        return self in (JobState.RUNNING, JobState.CANCELLING)


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class JobType(StrEnum):
    """What a job does."""

    SCHEMA = "SCHEMA"
    FINE_TUNE = "FINE_TUNE"


class Stage(StrEnum):
    """Where a running job is."""

    UNSPECIFIED = "UNSPECIFIED"
    FETCH = "FETCH"
    ANALYZE = "ANALYZE"
    VECTORIZE = "VECTORIZE"
    DATASET = "DATASET"
    TRAIN = "TRAIN"
    REGISTER = "REGISTER"
    DONE = "DONE"


SCHEMA_STAGE_PERCENT = {Stage.FETCH: 25, Stage.ANALYZE: 50, Stage.VECTORIZE: 75, Stage.DONE: 100}
"""Progress a schema job reports on entering each stage."""



@dataclass(frozen=True)
class TrainingJob:
    """A snapshot of one job as stored; ``version`` grows with every visible change."""

    job_id: str
    tenant: str
    source_pk: int
    source_id: str
    job_type: JobType
    state: JobState
    stage: Stage
    progress_percent: int
    tables: tuple[str, ...]
    trained_table_count: int
    total_table_count: int
    error_reason: str
    error_message: str
    attempt: int
    config: dict[str, Any]
    result: dict[str, Any]
    worker_id: str
    cancel_requested: bool
    version: int
    create_time: datetime
    update_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    heartbeat_time: datetime | None = None
    staged_tables: tuple[str, ...] = field(default=())
    """Tables whose vectors this attempt wrote but has not committed (rolled back on failure)."""
    pk: int = 0
    """Row key in the metadata store (internal)."""

    @property
    def name(self) -> str:
        """Resource name, ``trainingJobs/{id}``."""
        return JOB_NAME_PREFIX + self.job_id

    @property
    def data_source(self) -> str:
        """The source's resource name, ``dataSources/{id}``."""
        return f"dataSources/{self.source_id}"

    @property
    def namespace(self) -> str:
        """Vector-store namespace of the job's source (same rule as ``SourceRef.namespace``)."""
        return f"{self.tenant}/{self.source_id}"
