"""Schema discovery: reflect tables and views of a target database, then sample them.

Structure comes from ``sqlalchemy.inspect`` on a read-only connection (PostgreSQL,
MySQL/MariaDB, SQLite); each table is named as SQL must name it from the
connection's default schema: "orders" in the default schema, "sales.orders" outside.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import Inspector, ObjectKind
from sqlalchemy.types import NullType

from chatdb_server.access.exclusions import NO_EXCLUSIONS, Exclusions
from chatdb_server.errors import ChatDBError
from chatdb_server.schema.sampling import DEFAULT_LIMITS, SampleLimits, catalog_row_estimates, sample_table
from chatdb_server.sql.connection import REACH_ERRORS, open_engine, unreachable
from chatdb_server.sql.dialects import ReflectionExtras, support
from chatdb_server.sql.dsn import Dialect, ParsedDsn
from chatdb_server.sql.structure import ColumnStructure, ForeignKeyStructure, IndexStructure, TableStructure
from chatdb_server.sql.types import value_type_for_database_type

_DEFAULT_FK_ACTIONS = {"", "NO ACTION"}
_CHARSET_SUFFIX = re.compile(r"\s+(CHARACTER SET|COLLATE)\s+\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Discovery:
    """The tables and views of a database, and the requested schemas it does not have."""

    tables: tuple[TableStructure, ...]
    missing_schemas: tuple[str, ...] = ()


async def discover(dsn: ParsedDsn, schemas: Sequence[str] = (), limits: SampleLimits = DEFAULT_LIMITS,
                   exclusions: Exclusions = NO_EXCLUSIONS) -> Discovery:
    """Reflect and sample every table and view; SOURCE_UNREACHABLE when the database cannot be read.

    ``schemas`` names schemas to discover where the dialect has them (PostgreSQL; the default
    schema when empty); MySQL and SQLite discover the connection's database. Columns in
    ``exclusions`` are reflected but never sampled.
    """
    try:
        async with open_engine(dsn) as engine:
            async with engine.connect() as conn:
                reflected, missing, default_schema = await conn.run_sync(_reflect, dsn.dialect, tuple(schemas))
                estimates = await catalog_row_estimates(conn, dsn.dialect, default_schema)
            tables = []
            for table in reflected:
                sample = await sample_table(engine, dsn.dialect, table, estimates.get(table.name), limits,
                                            exclusions.of(table.name))
                tables.append(dataclasses.replace(table, row_estimate=sample.row_estimate, sample_rows=sample.rows,
                                                  sample_values=sample.values))
    except ChatDBError:
        raise
    except REACH_ERRORS as error:
        raise unreachable(dsn, error) from None
    return Discovery(tuple(sorted(tables, key=lambda t: t.name)), missing)


def _reflect(conn: Connection, dialect: Dialect,
             schemas: tuple[str, ...]) -> tuple[list[TableStructure], tuple[str, ...], str]:
    inspector = sa.inspect(conn)
    default = inspector.default_schema_name or ""
    targets: list[str] = [default]
    missing: tuple[str, ...] = ()
    if support(dialect).selectable_schemas and schemas:
        existing = set(inspector.get_schema_names())
        wanted = list(dict.fromkeys(s.strip() for s in schemas if s.strip()))
        targets = [s for s in wanted if s in existing]
        missing = tuple(s for s in wanted if s not in existing)
    tables: list[TableStructure] = []
    for schema in targets:
        tables.extend(_reflect_schema(conn, inspector, dialect, None if schema == default else schema, default))
    return tables, missing, default


def _reflect_schema(conn: Connection, inspector: Inspector, dialect: Dialect, schema: str | None,
                    default: str) -> Iterable[TableStructure]:
    any_kind = ObjectKind.ANY
    # Reflection's TypedDicts are read as plain dicts below.
    views = set(inspector.get_view_names(schema=schema))
    dialect_support = support(dialect)
    if dialect_support.has_materialized_views:
        views |= set(inspector.get_materialized_view_names(schema=schema))
    columns: dict[Any, Any] = inspector.get_multi_columns(schema=schema, kind=any_kind)
    primary_keys: dict[Any, Any] = inspector.get_multi_pk_constraint(schema=schema, kind=ObjectKind.TABLE)
    foreign_keys: dict[Any, Any] = inspector.get_multi_foreign_keys(schema=schema, kind=ObjectKind.TABLE)
    indexes: dict[Any, Any] = inspector.get_multi_indexes(schema=schema, kind=any_kind)
    uniques: dict[Any, Any] = inspector.get_multi_unique_constraints(schema=schema, kind=ObjectKind.TABLE)
    comments: dict[Any, Any]
    try:
        comments = inspector.get_multi_table_comment(schema=schema, kind=any_kind)
    except NotImplementedError:  # SQLite has no comments
        comments = {}
    for key, reflected_columns in columns.items():
        name = key[1]
        primary_key = tuple(c for c in (primary_keys.get(key) or {}).get("constrained_columns") or () if c)
        extras = dialect_support.reflection_extras(conn, name) if dialect_support.reflection_extras else None
        yield TableStructure(
            name=_qualified(schema, name),
            schema=schema or "",
            kind="VIEW" if name in views else "TABLE",
            columns=tuple(_column(c, conn, primary_key, extras) for c in reflected_columns),
            primary_key=primary_key,
            foreign_keys=tuple(_foreign_key(fk, default, extras) for fk in foreign_keys.get(key, ())),
            indexes=_indexes(indexes.get(key, ()),
                             [*uniques.get(key, ()), *(extras.unique_constraints if extras else ())]),
            comment=((comments.get(key) or {}).get("text") or "").strip(),
        )


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _type_text(column: dict[str, Any], conn: Connection) -> str:
    """The column's type as the database names it, without MySQL's character set and collation."""
    kind = column["type"]
    if isinstance(kind, NullType):
        return ""
    try:
        text = str(kind.compile(dialect=conn.dialect))
    except sa.exc.CompileError:
        return str(kind.__class__.__name__).upper()
    return _CHARSET_SUFFIX.sub("", text)


def _column(column: dict[str, Any], conn: Connection, primary_key: tuple[str, ...],
            extras: ReflectionExtras | None) -> ColumnStructure:
    name = column["name"]
    data_type = _type_text(column, conn)
    if extras is not None:
        data_type = extras.declared_types.get(name, data_type).strip() or data_type
    default = column.get("default")
    return ColumnStructure(
        name=name,
        data_type=data_type,
        value_type=value_type_for_database_type(data_type),
        nullable=bool(column.get("nullable", True)) and name not in primary_key,
        default="" if default is None else str(default),
        comment=(column.get("comment") or "").strip(),
        primary_key=name in primary_key,
    )


def _action(value: str | None) -> str:
    action = (value or "").strip().upper()
    return "" if action in _DEFAULT_FK_ACTIONS else action


def _foreign_key(fk: dict[str, Any], default_schema: str, extras: ReflectionExtras | None) -> ForeignKeyStructure:
    options = fk.get("options") or {}
    on_delete, on_update = options.get("ondelete"), options.get("onupdate")
    columns = tuple(fk["constrained_columns"])
    if extras is not None and columns in extras.fk_actions:
        on_delete, on_update = extras.fk_actions[columns]
    referred_schema = fk.get("referred_schema")
    return ForeignKeyStructure(
        columns=columns,
        referred_table=_qualified(None if referred_schema in (None, default_schema) else referred_schema,
                                  fk["referred_table"]),
        referred_columns=tuple(fk["referred_columns"]),
        name=fk.get("name") or "",
        on_delete=_action(on_delete),
        on_update=_action(on_update),
    )


def _indexes(indexes: Iterable[dict[str, Any]], uniques: Iterable[dict[str, Any]]) -> tuple[IndexStructure, ...]:
    """Indexes and unique constraints, each once (databases report a unique constraint as both)."""
    found: dict[tuple[tuple[str, ...], bool], IndexStructure] = {}
    candidates = [(ix.get("name"), ix.get("column_names") or (), bool(ix.get("unique"))) for ix in indexes]
    candidates += [(uq.get("name"), uq.get("column_names") or (), True) for uq in uniques]
    for name, column_names, unique in candidates:
        columns = tuple(c for c in column_names if c)
        if columns and (columns, unique) not in found:
            found[(columns, unique)] = IndexStructure(name=name or "", columns=columns, unique=unique)
    return tuple(sorted(found.values(), key=lambda ix: (ix.name, ix.columns)))
