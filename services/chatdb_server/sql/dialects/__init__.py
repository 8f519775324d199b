"""Per-dialect knowledge, one module per dialect, behind one registry.

``support(dialect)`` returns the :class:`DialectSupport` of a dialect; generic code
(engines, connections, the executor, the guard, schema sampling and discovery) dispatches
through it, so everything PostgreSQL, MySQL/MariaDB or SQLite needs lives in its module.
"""

from __future__ import annotations

from chatdb_server.sql.dialects import mysql, postgresql, sqlite
from chatdb_server.sql.dialects.base import CONNECT_TIMEOUT_S, DialectSupport, GuardRules, ReflectionExtras
from chatdb_server.sql.dsn import Dialect

__all__ = ["CONNECT_TIMEOUT_S", "DialectSupport", "GuardRules", "ReflectionExtras", "support"]

_REGISTRY: dict[Dialect, DialectSupport] = {s.dialect: s for s in (postgresql.SUPPORT, mysql.SUPPORT, sqlite.SUPPORT)}


def support(dialect: Dialect) -> DialectSupport:
    """What ChatDB knows about ``dialect``."""
    return _REGISTRY[dialect]
