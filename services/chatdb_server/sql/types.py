"""How a database column type travels on the wire: a type name → a ValueType name.

One mapping for the whole suite, so a column's ``value_type`` in a discovered schema
and the type of the same column in a result set always agree. Names are
``chatdb.common.v1.ValueType`` values without their prefix.
"""

from __future__ import annotations

import re

INTEGER = "INTEGER"
DOUBLE = "DOUBLE"
DECIMAL = "DECIMAL"
BOOL = "BOOL"
STRING = "STRING"
BYTES = "BYTES"
TIMESTAMP = "TIMESTAMP"
DATE = "DATE"
TIME = "TIME"
JSON = "JSON"

_EXACT: dict[str, str] = {
    **dict.fromkeys(("BOOL", "BOOLEAN"), BOOL),
    **dict.fromkeys(("INT", "INTEGER", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT", "INT2", "INT4", "INT8",
                     "SERIAL", "SMALLSERIAL", "BIGSERIAL", "YEAR", "UNSIGNED BIG INT", "OID"), INTEGER),
    **dict.fromkeys(("REAL", "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION"), DOUBLE),
    **dict.fromkeys(("NUMERIC", "DECIMAL", "DEC", "FIXED", "NUMBER", "MONEY"), DECIMAL),
    **dict.fromkeys(("DATE",), DATE),
    **dict.fromkeys(("TIME", "TIMETZ", "TIME WITHOUT TIME ZONE", "TIME WITH TIME ZONE"), TIME),
    **dict.fromkeys(("TIMESTAMP", "TIMESTAMPTZ", "DATETIME", "SMALLDATETIME", "DATETIME2",
                     "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE"), TIMESTAMP),
    **dict.fromkeys(("JSON", "JSONB"), JSON),
    **dict.fromkeys(("BYTEA", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY",
                     "LONG VARBINARY"), BYTES),
    **dict.fromkeys(("INTERVAL", "UUID", "POINT", "INET", "CIDR", "ENUM", "SET", "XML", "BIT"), STRING),
}
_PARAMETERS = re.compile(r"\([^)]*\)")
_MODIFIERS = re.compile(r"\b(UNSIGNED|SIGNED|ZEROFILL)\b")


def value_type_for_database_type(database_type: str) -> str:
    """The ValueType name of values of ``database_type`` (e.g. "NUMERIC(10, 2)" → "DECIMAL").

    Known names of PostgreSQL, MySQL/MariaDB and SQLite map exactly; other names
    follow SQLite's type-affinity rules; arrays and anything unknown travel as text.
    """
    text = database_type.strip().upper()
    if not text or text.endswith("[]") or text.startswith("_"):
        return STRING
    base = " ".join(_MODIFIERS.sub(" ", _PARAMETERS.sub(" ", text)).split())
    if base in _EXACT:
        return _EXACT[base]
    if base.startswith(("TIMESTAMP", "DATETIME")):
        return TIMESTAMP
    if base.startswith("TIME "):
        return TIME
    if "INT" in base and "POINT" not in base and "INTERVAL" not in base:
        return INTEGER
    if any(marker in base for marker in ("CHAR", "CLOB", "TEXT")):
        return STRING
    if "BLOB" in base or "BINARY" in base:
        return BYTES
    if any(marker in base for marker in ("REAL", "FLOA", "DOUB")):
        return DOUBLE
    if "NUMERIC" in base or "DECIMAL" in base:
        return DECIMAL
    return STRING
