"""The resource a call acts on, read off its request (``name`` or ``parent``) or, for a create that let
the server choose the id, off the created resource in its response. The audit log names it."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

_NAME_FIELDS = ("name", "parent")


def _named(message: Any) -> str:
    if not isinstance(message, Message):
        return ""
    fields = message.DESCRIPTOR.fields_by_name
    for field in _NAME_FIELDS:
        if field in fields and isinstance(value := getattr(message, field), str) and value:
            return value
    return ""


def request_resource(request: Any) -> str:
    """``name`` or ``parent`` of the request; empty when it has neither."""
    return _named(request)


def response_resource(response: Any) -> str:
    """The name of the one resource a response carries (a create's result); empty otherwise."""
    if not isinstance(response, Message):
        return ""
    found = [_named(getattr(response, f.name)) for f in response.DESCRIPTOR.fields
             if f.message_type is not None and not f.is_repeated and response.HasField(f.name)]
    named = [n for n in found if n]
    return named[0] if len(named) == 1 else ""


def data_source_of(resource: str) -> str:
    """The data source id of ``dataSources/{id}/...``; empty for other resources."""
    if not resource.startswith("dataSources/"):
        return ""
    return resource.split("/", 2)[1]
