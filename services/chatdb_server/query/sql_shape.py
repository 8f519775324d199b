"""The shape of an answer's SQL that its sentence and chart depend on: which aggregate each output column
is, the table the question is about, whether rows are grouped, and how they are ordered and limited.

Read from the SQL with sqlglot, in the source's dialect; SQL that does not parse (or is not a plain
SELECT) has an empty shape, and callers then describe the rows alone.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from chatdb_server.sql.dsn import Dialect

logging.getLogger("sqlglot").setLevel(logging.ERROR)

AGGREGATES: dict[type[exp.Expression], str] = {
    exp.Count: "COUNT", exp.Avg: "AVG", exp.Sum: "SUM", exp.Min: "MIN", exp.Max: "MAX"}
"""The aggregates a sentence can name, by sqlglot node."""
PARTS_OF_A_WHOLE = frozenset({"COUNT", "SUM"})
"""Aggregates whose values per group add up to a whole (a pie can show them)."""


@dataclass(frozen=True)
class OutputColumn:
    """One column of the SELECT list: its aggregate (``COUNT`` ... or empty) and what it aggregates."""

    aggregate: str = ""
    argument: str = ""
    """The aggregated column's name (empty for ``COUNT(*)`` or an expression)."""
    distinct: bool = False


@dataclass(frozen=True)
class SqlShape:
    """What the SQL says about its rows."""

    columns: tuple[OutputColumn, ...] = ()
    table: str = ""
    """The first table of FROM (unqualified): what the question counts or lists."""
    grouped: bool = False
    order_descending: bool | None = None
    """The first ORDER BY key's direction; None when unordered."""
    order_column: str = ""
    """The first ORDER BY key's column name, or the aggregate (``COUNT``...) it orders by."""
    order_argument: str = ""
    """When the first ORDER BY key is an aggregate: the column it aggregates (empty for ``COUNT(*)``)."""
    limit: int | None = None

    def aggregate_of(self, index: int) -> str:
        """The aggregate of output column ``index`` (empty when unknown or none)."""
        return self.columns[index].aggregate if index < len(self.columns) else ""


@functools.lru_cache(maxsize=2048)
def sql_shape(sql: str, dialect: Dialect) -> SqlShape:
    """The shape of ``sql``; an empty shape when it is not a SELECT sqlglot reads. Remembered per text (the
    shape is immutable): a repeated question's answer comes back with the same SQL."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect.value)
    except (SqlglotError, ValueError):
        return SqlShape()
    if not isinstance(tree, exp.Select):
        return SqlShape()
    columns = tuple(_output_column(e) for e in tree.expressions)
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.find(exp.Table) if source is not None else None
    order = tree.args.get("order")
    first_key = order.expressions[0] if order is not None and order.expressions else None
    return SqlShape(columns=columns, table=table.name if table is not None else "",
                    grouped=tree.args.get("group") is not None,
                    order_descending=bool(first_key.args.get("desc")) if first_key is not None else None,
                    order_column=_order_name(first_key.this) if first_key is not None else "",
                    order_argument=_output_column(first_key.this).argument if first_key is not None else "",
                    limit=_limit(tree))


def _output_column(expression: exp.Expression) -> OutputColumn:
    node = expression.this if isinstance(expression, exp.Alias) else expression
    for kind, name in AGGREGATES.items():
        if isinstance(node, kind):
            inner = node.this
            distinct = isinstance(inner, exp.Distinct)
            if distinct:
                inner = inner.expressions[0] if inner.expressions else None
            return OutputColumn(name, inner.name if isinstance(inner, exp.Column) else "", distinct)
    return OutputColumn()


def _order_name(key: exp.Expression) -> str:
    for kind, name in AGGREGATES.items():
        if isinstance(key, kind):
            return name
    return key.name if isinstance(key, exp.Column) else ""


def _limit(tree: exp.Select) -> int | None:
    limit = tree.args.get("limit")
    value = limit.expression if limit is not None else None
    if isinstance(value, exp.Literal) and value.is_int:
        return int(value.this)
    return None
