"""What every operation is made of: the RPC to make with its request and the reader of its reply,
pages of listings, and the names and enum values callers may give in short form."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf import field_mask_pb2, timestamp_pb2

from chatdb.common.v1 import dialect_pb2

T = TypeVar("T")

SCHEMA = "chatdb.schema.v1.SchemaService"
TRAINING = "chatdb.training.v1.TrainingService"
QUERY = "chatdb.query.v1.QueryService"
PREDICTION = "chatdb.prediction.v1.PredictionService"
ACCESS = "chatdb.access.v1.AccessService"
WEBHOOK = "chatdb.webhook.v1.WebhookService"

SOURCE_PREFIX = "dataSources/"


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One RPC to make: the service's full name, the method, the request and the
    reader of the reply (for streams, of each message). ``timeout`` None means the
    client's default deadline (unary) or no deadline (streams)."""

    service: str
    method: str
    request: Any
    read: Callable[[Any], T]
    timeout: float | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    next_page_token: str


@dataclass(frozen=True)
class Listing(Generic[T]):
    """A listing RPC with its filters fixed: ``page(token)`` is the operation that reads one page
    (``""`` the first). The clients follow ``next_page_token`` until it is empty."""

    page: Callable[[str], Operation[Page[T]]]


def listing(service: str, method: str, request: Any, field: str) -> Listing[Any]:
    """A listing whose request takes ``page_token`` and whose reply holds the items in ``field``."""
    def page(token: str) -> Operation[Page[Any]]:
        paged = type(request)()
        paged.CopyFrom(request)
        paged.page_token = token
        return Operation(service, method, paged,
                         lambda reply: Page(list(getattr(reply, field)), reply.next_page_token))

    return Listing(page)


def source_name(source: str) -> str:
    """``"dataSources/{id}"`` for a data source given by id or by resource name."""
    if not source:
        raise ValueError("a data source id or name is required")
    return source if source.startswith(SOURCE_PREFIX) else SOURCE_PREFIX + source


def child_name(source: str, collection: str, child: str) -> str:
    """``"dataSources/{id}/{collection}/{child}"``; ``child`` may already be that full name."""
    if not child:
        raise ValueError(f"a name in {collection} is required")
    if child.startswith(SOURCE_PREFIX):
        return child
    return f"{source_name(source)}/{collection}/{child}"


def resource_name(prefix: str, value: str) -> str:
    """``"{prefix}/{id}"`` for a resource given by id or by resource name."""
    if not value:
        raise ValueError(f"a {prefix} id or name is required")
    return value if value.startswith(prefix + "/") else f"{prefix}/{value}"


def enum_value(enum: Any, prefix: str, value: str | int) -> int:
    """The number of an enum value given by number, full name or short name in any case
    (``"mask"`` for ``COLUMN_ACTION_MASK``). ValueError naming the choices for an unknown one."""
    if isinstance(value, int):
        return value
    name = value.upper()
    name = name if name.startswith(prefix) else prefix + name
    names = list(enum.DESCRIPTOR.values_by_name)
    if name not in names:
        choices = ", ".join(n.removeprefix(prefix).lower() for n in names if not n.endswith("UNSPECIFIED"))
        raise ValueError(f"unknown {prefix.rstrip('_').lower()} {value!r}; choose from {choices}")
    return int(enum.Value(name))


def dialect_value(dialect: str | int) -> int:
    """A ``chatdb.common.v1.Dialect`` from ``"postgresql"``, ``"mysql"``, ``"sqlite"`` or the enum value."""
    return enum_value(dialect_pb2.Dialect, "DIALECT_", dialect)


def timestamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp of an aware datetime (a naive one is taken to be UTC)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    return stamp


def field_mask(paths: list[str]) -> field_mask_pb2.FieldMask:
    """A FieldMask of ``paths``."""
    return field_mask_pb2.FieldMask(paths=paths)


def identity(reply: Any) -> Any:
    """A reply returned as the message itself."""
    return reply


def nothing(reply: Any) -> None:
    """A reply with nothing in it (``Delete*``)."""


class Deadline:
    """What is left of ``timeout`` seconds (None: no bound) across several calls."""

    def __init__(self, timeout: float | None) -> None:
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        """Seconds left; a spent deadline leaves a millisecond, so the next call fails DEADLINE_EXCEEDED."""
        return None if self._end is None else max(self._end - time.monotonic(), 0.001)
