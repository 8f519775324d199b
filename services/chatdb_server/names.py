"""Resource names (AIP-122): parsing ``collection/{id}/...`` patterns into their ids.

Every service parses the names in its requests here, so a malformed name is always
the same clear INVALID_ARGUMENT naming the request field:

    parse_name("dataSources/shop/tables/orders", DATA_SOURCE_TABLE, "name")
    -> {"data_source": "shop", "table": "orders"}
"""

from __future__ import annotations

import re
from functools import cache

from chatdb_server.errors import InvalidArgument

ID_PATTERN = r"[a-z][a-z0-9-]{0,62}"
"""A resource id: 1-63 characters of [a-z0-9-] starting with a letter."""
TABLE_PATTERN = r"[^/\s][^/]{0,254}"
"""A table segment: the table's name in the database, schema-qualified ("sales.orders")."""

DATA_SOURCE = "dataSources/{data_source}"
DATA_SOURCE_TABLE = "dataSources/{data_source}/tables/{table}"
TRAINING_JOB = "trainingJobs/{training_job}"

SEGMENT_PATTERNS: dict[str, str] = {"table": TABLE_PATTERN}
"""Variables whose segment is not a plain id; every other variable is an ``ID_PATTERN``."""

_VARIABLE = re.compile(r"\{([a-z_]+)\}")
_ID = re.compile(ID_PATTERN)


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        variable = match.group(1)
        parts.append(f"(?P<{variable}>{SEGMENT_PATTERNS.get(variable, ID_PATTERN)})")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


def parse_name(name: str, pattern: str, field: str) -> dict[str, str]:
    """The variables of ``name`` matched against ``pattern``; InvalidArgument naming ``field`` otherwise."""
    if not name:
        raise InvalidArgument(field, f"is required, in the form {pattern}")
    match = _compile(pattern).fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"{name[:200]!r} is not a resource name of the form {pattern}")
    return match.groupdict()


def format_name(pattern: str, **values: str) -> str:
    """The resource name of ``pattern`` with its variables filled in."""
    return pattern.format(**values)


def validate_id(value: str, field: str) -> str:
    """``value`` when it is a valid resource id; InvalidArgument naming ``field`` otherwise."""
    if not _ID.fullmatch(value):
        raise InvalidArgument(field, "must be 1-63 characters of lower-case letters, digits and '-', "
                                     "starting with a letter")
    return value


def data_source_id(name: str, field: str = "name") -> str:
    """The id in ``dataSources/{id}``."""
    return parse_name(name, DATA_SOURCE, field)["data_source"]


def table_name_parts(name: str, field: str = "name") -> tuple[str, str]:
    """(data source id, table) of ``dataSources/{id}/tables/{table}``."""
    parts = parse_name(name, DATA_SOURCE_TABLE, field)
    return parts["data_source"], parts["table"]
