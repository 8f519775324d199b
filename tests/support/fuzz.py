"""Hypothesis strategies that build any request message of the contract from its descriptor.

Strings mix random text with values a hostile caller would try (resource names of real and
foreign resources, path tricks, SQL, DSNs aimed at the server itself, huge and odd values);
numbers include the type's bounds; enums include numbers the contract does not define; nested
messages go two levels deep. Well-known types get valid values of their own (a Timestamp the
library can hold), so every example reaches the server's own validation.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message
from hypothesis import strategies as st

FieldDescriptor = descriptor.FieldDescriptor

HOSTILE_STRINGS = (
    "", " ", "dataSources/shop", "dataSources/shop/tables/customers", "dataSources/shop/queries/q1",
    "dataSources/shop/examples/e1", "dataSources/shop/columnPolicies/p1", "dataSources/shop/rowPolicies/p1",
    "dataSources/../../etc", "dataSources/", "dataSources/shop/tables/", "trainingJobs/j1", "apiKeys/0123456789abcdef",
    "models/template", "adapters/x/versions/1", "SELECT 1", "SELECT * FROM customers", "DROP TABLE customers",
    "SELECT pg_sleep(60)", "'; DELETE FROM customers; --", "region = :region", "1=1) OR (1=1",
    "sqlite:////etc/passwd", "sqlite:///chatdb-data/metadata.db", "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://u:p@169.254.169.254:5432/db", "mysql://root@localhost/mysql?unix_socket=/tmp/x",
    "postgresql://u:p@[::1]:5432/db?sslmode=verify-full&sslrootcert=/etc/shadow", "oracle://u@h/db",
    "\x00", "\u202e\u0000\ud7ff", "😀" * 20, "a" * 5000, "%s%n%x", "{}", "[]", "null", "*", "..", "/",
    "display_name,dsn", "customers", "ssn", "admin", "operator", "viewer", "no-such-role",
)


def _integers(field: FieldDescriptor) -> st.SearchStrategy[int]:
    bits = 64 if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64,
                                FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64) else 32
    unsigned = field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED32,
                              FieldDescriptor.TYPE_FIXED64)
    low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return st.one_of(st.sampled_from(sorted({low, high, 0, 1, -1 if not unsigned else 2, 10_000, 1_000_000})),
                     st.integers(low, high))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=60))
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return st.floats(allow_nan=True, allow_infinity=True, width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64)
    if kind == FieldDescriptor.TYPE_ENUM:
        defined = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(defined), st.integers(-3, 1000))
    return _integers(field)


_WELL_KNOWN: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "google.protobuf.Timestamp": st.fixed_dictionaries({"seconds": st.integers(-62_135_596_800, 253_402_300_799),
                                                        "nanos": st.integers(0, 999_999_999)}),
    "google.protobuf.Duration": st.fixed_dictionaries({"seconds": st.integers(-315_576_000_000, 315_576_000_000),
                                                       "nanos": st.integers(0, 999_999_999)}),
    "google.protobuf.FieldMask": st.fixed_dictionaries({"paths": st.lists(
        st.one_of(st.sampled_from(("display_name", "dsn", "schemas", "name", "x.y", "")), st.text(max_size=20)),
        max_size=4)}),
}


def message_strategy(message: descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of type ``message``: each field unset or set to a generated value."""
    cls = message_factory.GetMessageClass(message)
    known = _WELL_KNOWN.get(message.full_name)
    if known is not None:
        return known.map(lambda values: cls(**values))
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in message.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, item = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            fields[field.name] = st.one_of(st.none(), st.dictionaries(_scalar(key), _scalar(item), max_size=3))
            continue
        if field.message_type is not None:
            if depth >= 2:
                continue
            value: st.SearchStrategy[Any] = message_strategy(field.message_type, depth + 1)
        else:
            value = _scalar(field)
        fields[field.name] = st.one_of(st.none(), st.lists(value, max_size=3) if field.is_repeated else value)
    return st.fixed_dictionaries(fields).map(lambda values: _build(cls, values))


def _build(cls: type[Message], values: dict[str, Any]) -> Message:
    built = cls()
    for name, value in values.items():
        if value is None:
            continue
        field = cls.DESCRIPTOR.fields_by_name[name]
        target = getattr(built, name)
        if isinstance(value, dict):
            target.update(value)
        elif field.is_repeated:
            if field.message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(built, name, value)
    return built
