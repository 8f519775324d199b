"""Requests as every servicer may assume them: decoded, with every enum value one the contract defines.

gRPC decodes a request with the method's deserializer before any handler runs, and a deserializer
that raises ends the call UNKNOWN with a traceback in the log. proto3 enums are open: a number the
contract does not define (``rating: 99``) decodes into the message and each servicer would have to
notice it. :func:`checked_deserializer` does both checks once for every method: it never raises, and
hands the handler a :class:`Malformed` stand-in instead of a message that cannot be used, which the
access interceptor answers INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from chatdb_server.errors import InvalidArgument

REQUEST_FIELD = "request"
"""The field a request that does not decode at all is reported under."""


@dataclass(frozen=True)
class Malformed:
    """What a request that cannot be served decoded into: the INVALID_ARGUMENT to answer it with."""

    error: InvalidArgument


Deserializer = Callable[[bytes], Any]


def checked_deserializer(deserializer: Deserializer | None) -> Deserializer:
    """``deserializer`` that returns a :class:`Malformed` instead of raising or returning a message with an
    undefined enum value; requests of methods without a deserializer pass as they are."""
    if deserializer is None:
        return lambda data: data
    expected = getattr(getattr(deserializer, "__self__", None), "DESCRIPTOR", None)
    message_type = expected.full_name if isinstance(expected, Descriptor) else "the method's request message"

    def deserialize(data: bytes) -> Any:
        try:
            request = deserializer(data)
        except Exception as exc:  # DecodeError, or anything else the bytes make a decoder raise
            return Malformed(InvalidArgument(REQUEST_FIELD, f"the request bytes do not decode as {message_type} "
                                                            f"({type(exc).__name__})"))
        if isinstance(request, Message):
            problem = undefined_enum(request)
            if problem is not None:
                return Malformed(problem)
        return request

    return deserialize


def undefined_enum(message: Message) -> InvalidArgument | None:
    """The first enum field of ``message`` (nested messages, lists and maps included) holding a number its
    enum does not define, as the INVALID_ARGUMENT naming it; None when there is none."""
    stack: list[tuple[str, Message]] = [("", message)]
    while stack:
        prefix, current = stack.pop()
        if not _may_hold_enums(current.DESCRIPTOR):
            continue
        for field, value in current.ListFields():
            enum_type = _item_enum(field)
            for key, item in _items(field, value):
                where = f"{prefix}{field.name}{key}"
                if isinstance(item, Message):
                    stack.append((f"{where}.", item))
                elif enum_type is not None:
                    problem = _check_enum(enum_type, where, item)
                    if problem is not None:
                        return problem
    return None


def _items(field: FieldDescriptor, value: Any) -> list[tuple[str, Any]]:
    """The field's values with their place in it: ``[i]`` in a list, ``[key]`` in a map."""
    if _is_map(field):
        return [(f"[{key!r}]", item) for key, item in value.items()]
    if field.is_repeated:
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    return [("", value)]


def _item_enum(field: FieldDescriptor) -> EnumDescriptor | None:
    """The enum type of the field's values (a map's values), or None."""
    if _is_map(field):
        field = field.message_type.fields_by_name["value"]
    return field.enum_type if field.type == FieldDescriptor.TYPE_ENUM else None


def _check_enum(enum_type: EnumDescriptor, where: str, number: int) -> InvalidArgument | None:
    if number in enum_type.values_by_number:
        return None
    defined = ", ".join(v.name for v in enum_type.values if v.number != 0)
    return InvalidArgument(where, f"{number} is not a {enum_type.name} value; use one of {defined}")


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


@cache
def _may_hold_enums(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold an enum value anywhere inside it."""
    seen: set[str] = set()
    stack = [descriptor]
    while stack:
        current = stack.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        for field in current.fields:
            if field.type == FieldDescriptor.TYPE_ENUM:
                return True
            if field.message_type is not None:
                stack.append(field.message_type)
    return False
