"""Parsing the resource names TrainingService owns: jobs and examples."""

from __future__ import annotations

import re
import uuid

from chatdb.errors import InvalidArgument
from chatdb.training.job_model import JOB_NAME_PREFIX

_ID = r"[a-z0-9][a-z0-9_-]{0,62}"
_JOB_NAME = re.compile(rf"^{re.escape(JOB_NAME_PREFIX)}(?P<job>{_ID})$")
_EXAMPLE_NAME = re.compile(rf"^(?P<parent>dataSources/[^/]+)/examples/(?P<example>{_ID})$")


def new_id() -> str:
    """A fresh resource id (32 lowercase hex digits)."""
    return uuid.uuid4().hex


def parse_job_name(name: str, field: str = "name") -> str:
    """The job id of ``trainingJobs/{id}``; InvalidArgument naming ``field`` otherwise."""
    match = _JOB_NAME.match(name or "")
    if not match:
        raise InvalidArgument(field, "must be a training job name like trainingJobs/{training_job}")
    return match["job"]


def parse_example_name(name: str, field: str = "name") -> tuple[str, str]:
    """``(parent, example_id)`` of ``dataSources/{id}/examples/{example}``."""
    match = _EXAMPLE_NAME.match(name or "")
    if not match:
        raise InvalidArgument(field, "must be an example name like dataSources/{data_source}/examples/{example}")
    return match["parent"], match["example"]


def example_name(source_id: str, example_id: str) -> str:
    """Resource name of an example."""
    return f"dataSources/{source_id}/examples/{example_id}"
