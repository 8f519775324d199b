"""The events a webhook may subscribe to, as the code that causes them reports them.

An event is named ``<resource kind>.<what happened>`` (``training_job.succeeded``); the proto's
``WebhookEventType`` values are the same names in upper case with a prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """What happened."""

    TRAINING_JOB_SUCCEEDED = "training_job.succeeded"
    TRAINING_JOB_FAILED = "training_job.failed"
    TRAINING_JOB_CANCELLED = "training_job.cancelled"
    FINE_TUNE_JOB_SUCCEEDED = "fine_tune_job.succeeded"
    FINE_TUNE_JOB_FAILED = "fine_tune_job.failed"
    FINE_TUNE_JOB_CANCELLED = "fine_tune_job.cancelled"
    SCHEMA_DRIFT_DETECTED = "schema.drift_detected"


@dataclass(frozen=True)
class Event:
    """One thing that happened to a tenant's resource, with the details a receiver needs."""

    tenant: str
    event_type: EventType
    resource: str
    """The resource's name, e.g. ``trainingJobs/job-1`` or ``dataSources/shop``."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """JSON-serialisable details: the resource as it stands after the event."""
