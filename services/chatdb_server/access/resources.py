"""AccessService's resource names: ``apiKeys/{id}`` and ``dataSources/{ds}/columnPolicies|rowPolicies/{id}``.

Key and policy ids are random hex, which may start with a digit, so they are parsed here
rather than as the letter-first ids of :mod:`chatdb_server.names`; malformed names are the
same INVALID_ARGUMENT naming the request field.
"""

from __future__ import annotations

import re

from chatdb_server.errors import InvalidArgument
from chatdb_server.names import ID_PATTERN

COLUMN_POLICIES = "columnPolicies"
ROW_POLICIES = "rowPolicies"

_KEY = re.compile(r"apiKeys/(?P<id>[a-z0-9]{1,64})")
_POLICY = re.compile(rf"dataSources/(?P<source>{ID_PATTERN})/(?P<collection>[A-Za-z]+)/(?P<id>[a-z0-9]{{1,64}})")


def api_key_id(name: str, field: str = "name") -> str:
    """The id in ``apiKeys/{id}``."""
    match = _KEY.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"{name[:200]!r} is not a resource name of the form apiKeys/{{api_key}}")
    return match.group("id")


def policy_name_parts(name: str, collection: str, field: str = "name") -> tuple[str, str]:
    """(data source name, policy id) of ``dataSources/{ds}/{collection}/{id}``."""
    match = _POLICY.fullmatch(name)
    if match is None or match.group("collection") != collection:
        raise InvalidArgument(field, f"{name[:200]!r} is not a resource name of the form "
                                     f"dataSources/{{data_source}}/{collection}/{{id}}")
    return f"dataSources/{match.group('source')}", match.group("id")
