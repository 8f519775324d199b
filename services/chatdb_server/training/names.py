"""The resource names TrainingService owns: training jobs and examples (parsed by :mod:`chatdb_server.names`)."""

from __future__ import annotations

import uuid

from chatdb_server.names import DATA_SOURCE, TRAINING_JOB, format_name, parse_name

EXAMPLE = "dataSources/{data_source}/examples/{example}"


def new_id(kind: str) -> str:
    """A fresh resource id: ``kind``'s initial then 32 hex digits (ids must start with a letter)."""
    return kind[0].lower() + uuid.uuid4().hex


def parse_job_name(name: str, field: str = "name") -> str:
    """The job id of ``trainingJobs/{id}``; InvalidArgument naming ``field`` otherwise."""
    return parse_name(name, TRAINING_JOB, field)["training_job"]


def parse_example_name(name: str, field: str = "name") -> tuple[str, str]:
    """``(data source name, example id)`` of ``dataSources/{id}/examples/{example}``."""
    parts = parse_name(name, EXAMPLE, field)
    return format_name(DATA_SOURCE, data_source=parts["data_source"]), parts["example"]


def example_name(source_id: str, example_id: str) -> str:
    """Resource name of an example."""
    return format_name(EXAMPLE, data_source=source_id, example=example_id)
