"""What is known of a data source's structure, shared by every service.

``TableStructure`` is what discovery produces and what ``schema_tables.structure``
stores (as ``to_json()``); training, retrieval, the guard and the generators read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from chatdb_server.sql.dsn import Dialect, ParsedDsn


@dataclass(frozen=True)
class ColumnStructure:
    """A discovered column."""

    name: str
    data_type: str
    value_type: str = "STRING"
    """A chatdb.common.v1.ValueType name without prefix: INTEGER, DOUBLE, DECIMAL, BOOL,
    STRING, BYTES, TIMESTAMP, DATE, TIME, JSON."""
    nullable: bool = True
    default: str = ""
    comment: str = ""
    primary_key: bool = False


@dataclass(frozen=True)
class ForeignKeyStructure:
    """A declared foreign key."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    name: str = ""
    on_delete: str = ""
    on_update: str = ""


@dataclass(frozen=True)
class IndexStructure:
    """An index or unique constraint."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class TableStructure:
    """A discovered table or view."""

    name: str
    """As named in the database; schema-qualified ("sales.orders") outside the default schema."""
    schema: str = ""
    kind: str = "TABLE"
    """TABLE or VIEW."""
    columns: tuple[ColumnStructure, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKeyStructure, ...] = ()
    indexes: tuple[IndexStructure, ...] = ()
    comment: str = ""
    row_estimate: int = -1
    sample_rows: tuple[tuple[Any, ...], ...] = ()
    """A few rows, JSON-safe values (text for dates, decimals and bytes), long values truncated."""
    sample_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Up to a few distinct values per text-like column, for value linking."""

    def column(self, name: str) -> ColumnStructure | None:
        """The column called ``name`` (case-insensitive)."""
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form for the metadata store."""
        data = asdict(self)
        data["sample_values"] = {k: list(v) for k, v in self.sample_values.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableStructure:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=data["name"], schema=data.get("schema", ""), kind=data.get("kind", "TABLE"),
            columns=tuple(ColumnStructure(**c) for c in data.get("columns", ())),
            primary_key=tuple(data.get("primary_key", ())),
            foreign_keys=tuple(ForeignKeyStructure(
                columns=tuple(f["columns"]), referred_table=f["referred_table"],
                referred_columns=tuple(f["referred_columns"]), name=f.get("name", ""),
                on_delete=f.get("on_delete", ""), on_update=f.get("on_update", ""))
                for f in data.get("foreign_keys", ())),
            indexes=tuple(IndexStructure(name=i["name"], columns=tuple(i["columns"]), unique=i.get("unique", False))
                          for i in data.get("indexes", ())),
            comment=data.get("comment", ""), row_estimate=data.get("row_estimate", -1),
            sample_rows=tuple(tuple(r) for r in data.get("sample_rows", ())),
            sample_values={k: tuple(v) for k, v in data.get("sample_values", {}).items()},
        )


@dataclass(frozen=True)
class JoinEdge:
    """A declared or inferred join: from_table.from_columns = to_table.to_columns.

    The one join model of the suite: the schema's join graph stores it, retrieval and the
    schema context carry it, generators read it."""

    from_table: str
    from_columns: tuple[str, ...]
    to_table: str
    to_columns: tuple[str, ...]
    inferred: bool = False
    confidence: float = 1.0
    """1.0 for a declared foreign key; an inferred join's confidence is below it."""
    reason: str = ""


@dataclass(frozen=True)
class SourceRef:
    """A resolved data source, as other services need it. Holds the live DSN: never log it."""

    pk: int
    tenant: str
    source_id: str
    dialect: Dialect
    dsn: ParsedDsn
    default_adapter: str = ""
    min_confidence: float = 0.0
    """Ask's confidence threshold: a less confident answer is refused (0 refuses none)."""

    @property
    def name(self) -> str:
        """Resource name, ``dataSources/{id}``."""
        return f"dataSources/{self.source_id}"

    @property
    def namespace(self) -> str:
        """Vector-store namespace of this source: tenant and source, never shared."""
        return f"{self.tenant}/{self.source_id}"


@dataclass(frozen=True)
class StoredTable:
    """A table as stored in the metadata store, with its training state."""

    structure: TableStructure
    description: str
    fingerprint: str
    trained_fingerprint: str | None
    discover_time: datetime | None = None
    """When the structure was last discovered."""
    train_time: datetime | None = None
    """When the table was last trained; None when never."""

    @property
    def training_state(self) -> str:
        """UNTRAINED, TRAINED or STALE."""
        if self.trained_fingerprint is None:
            return "UNTRAINED"
        return "TRAINED" if self.trained_fingerprint == self.fingerprint else "STALE"


def known_columns(tables: Iterable[TableStructure]) -> dict[str, set[str]]:
    """The guard's view of a source: lower-case table name → its lower-case column names."""
    return {t.name.lower(): {c.name.lower() for c in t.columns} for t in tables}
