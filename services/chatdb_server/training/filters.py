"""The ListTrainingJobs filter: a strict subset of AIP-160.

Grammar: ``term (AND term)*`` with ``term := field "=" value``. Fields are
``data_source`` (a quoted source name, ``"dataSources/x"``), ``state`` and ``type``
(enum names, with or without their proto prefix, optionally quoted). Each field may
appear once; anything else is rejected with INVALID_ARGUMENT on ``filter`` rather than
being ignored, so a typo never silently lists every job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from chatdb_server.errors import InvalidArgument
from chatdb_server.training.job_model import JobState, JobType

FILTER_FIELD = "filter"
_TERM = re.compile(
    r'\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>[=!<>:~]+)\s*'
    r'(?P<value>"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)\s*')
_AND = re.compile(r"AND\s+|AND$")
_SOURCE_NAME = re.compile(r"^dataSources/(?P<id>[^/\s]+)$")
_STATE_PREFIX = "TRAINING_JOB_STATE_"
_TYPE_PREFIX = "TRAINING_JOB_TYPE_"
E = TypeVar("E", JobState, JobType)


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a listing keeps; None means any."""

    source_id: str | None = None
    state: JobState | None = None
    job_type: JobType | None = None


def parse_job_filter(text: str) -> JobFilter:
    """Parse a ListTrainingJobs filter; InvalidArgument("filter", ...) when it is not understood."""
    values: dict[str, str] = {}
    position = 0
    source = text.strip()
    if not source:
        return JobFilter()
    while True:
        match = _TERM.match(source, position)
        if not match:
            raise _invalid(f"expected `field = value` at position {position + 1}")
        field, op, value = match["field"], match["op"], match["value"]
        if field not in ("data_source", "state", "type"):
            raise _invalid(f"unknown field {field!r}; use data_source, state or type")
        if op != "=":
            raise _invalid(f"operator {op!r} is not supported; use =")
        if field in values:
            raise _invalid(f"{field} appears more than once")
        values[field] = value
        position = match.end()
        if position == len(source):
            break
        joiner = _AND.match(source, position)
        if not joiner or joiner.end() == len(source):
            raise _invalid(f"expected AND and another term at position {position + 1}; only AND is supported")
        position = joiner.end()
    return JobFilter(
        source_id=_source_id(values["data_source"]) if "data_source" in values else None,
        state=_enum_value(values["state"], JobState, _STATE_PREFIX, "state") if "state" in values else None,
        job_type=_enum_value(values["type"], JobType, _TYPE_PREFIX, "type") if "type" in values else None,
    )


def _source_id(value: str) -> str:
    if not value.startswith('"'):
        raise _invalid('data_source needs a quoted name, e.g. data_source = "dataSources/sales"')
    match = _SOURCE_NAME.match(_unquote(value))
    if not match:
        raise _invalid("data_source must be a data source name like \"dataSources/sales\"")
    return match["id"]


def _enum_value(value: str, enum: type[E], prefix: str, field: str) -> E:
    raw = _unquote(value) if value.startswith('"') else value
    bare = raw.removeprefix(prefix)
    try:
        return enum(bare)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise _invalid(f"{field} {raw!r} is not one of {allowed}") from None


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def _invalid(description: str) -> InvalidArgument:
    return InvalidArgument(FILTER_FIELD, description)
