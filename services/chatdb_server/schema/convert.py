"""SchemaService's domain records ↔ protobuf messages.

Sample rows are stored JSON-safe (dates, decimals and bytes as text); here they are
read back by their column's value type and put on the wire by the same conversion
as query results, so a sample date travels as a Date and a price as a decimal. A
value that does not fit its column's type (SQLite stores anything anywhere,
truncated text) travels as what it is rather than being lost.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from typing import Any

from google.protobuf import duration_pb2

from chatdb import wire
from chatdb.common.v1 import dialect_pb2, join_pb2, value_pb2
from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb_server.schema.diff import TableChange
from chatdb_server.schema.records import DataSourceInfo, DataSourceSpec, RefreshReport
from chatdb_server.schema.sampling import TRUNCATED
from chatdb_server.sql.connection import ConnectionReport
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import ColumnStructure, JoinEdge, StoredTable
from chatdb_server.sql.values import to_value, value_type_enum

_DIALECTS = {Dialect.POSTGRESQL: dialect_pb2.DIALECT_POSTGRESQL, Dialect.MYSQL: dialect_pb2.DIALECT_MYSQL,
             Dialect.SQLITE: dialect_pb2.DIALECT_SQLITE}
_KINDS = {"TABLE": schema_pb2.TABLE_KIND_TABLE, "VIEW": schema_pb2.TABLE_KIND_VIEW}
_TRAINING_STATES = {"UNTRAINED": schema_pb2.TRAINING_STATE_UNTRAINED, "TRAINED": schema_pb2.TRAINING_STATE_TRAINED,
                    "STALE": schema_pb2.TRAINING_STATE_STALE}



def dialect_to_proto(dialect: Dialect) -> dialect_pb2.Dialect:
    """The wire enum of a dialect."""
    return _DIALECTS[dialect]


def spec_from_proto(message: schema_pb2.DataSource) -> DataSourceSpec:
    """The settable fields of a DataSource message."""
    interval = message.refresh_interval  # read as numbers: a hostile Duration must not overflow a timedelta
    return DataSourceSpec(display_name=message.display_name, dsn=message.dsn, schemas=tuple(message.schemas),
                          default_adapter=message.default_adapter, labels=dict(message.labels),
                          refresh_interval=interval.seconds + interval.nanos / 1e9, auto_retrain=message.auto_retrain,
                          min_confidence=message.min_confidence)


def data_source_to_proto(info: DataSourceInfo) -> schema_pb2.DataSource:
    """A DataSource message: everything but the DSN, which is input only."""
    return schema_pb2.DataSource(
        name=info.name, display_name=info.display_name, dialect=dialect_to_proto(info.dialect),
        redacted_dsn=info.redacted_dsn, schemas=list(info.schemas), default_adapter=info.default_adapter,
        labels=info.labels, table_count=info.table_count, create_time=wire.timestamp(info.create_time),
        update_time=wire.timestamp(info.update_time), discover_time=wire.timestamp(info.discover_time),
        refresh_interval=duration_pb2.Duration(seconds=info.refresh_interval_s), auto_retrain=info.auto_retrain,
        next_refresh_time=wire.timestamp(info.next_refresh_time), min_confidence=info.min_confidence)


def table_to_proto(source_id: str, table: StoredTable, full: bool) -> schema_pb2.Table:
    """A Table message; sample rows only when ``full``."""
    structure = table.structure
    message = schema_pb2.Table(
        name=f"dataSources/{source_id}/tables/{structure.name}", table=structure.name, schema=structure.schema,
        kind=_KINDS.get(structure.kind, schema_pb2.TABLE_KIND_UNSPECIFIED),
        columns=[schema_pb2.Column(name=c.name, data_type=c.data_type, value_type=value_type_enum(c.value_type),  # type: ignore[arg-type]
                                   nullable=c.nullable, default_value=c.default, comment=c.comment,
                                   primary_key=c.primary_key) for c in structure.columns],
        primary_key=list(structure.primary_key),
        foreign_keys=[schema_pb2.ForeignKey(name=fk.name, columns=list(fk.columns), referred_table=fk.referred_table,
                                            referred_columns=list(fk.referred_columns), on_delete=fk.on_delete,
                                            on_update=fk.on_update) for fk in structure.foreign_keys],
        indexes=[schema_pb2.Index(name=ix.name, columns=list(ix.columns), unique=ix.unique)
                 for ix in structure.indexes],
        row_estimate=structure.row_estimate, comment=structure.comment, description=table.description,
        fingerprint=table.fingerprint, training_state=_TRAINING_STATES[table.training_state],
        discover_time=wire.timestamp(table.discover_time), train_time=wire.timestamp(table.train_time))
    if full:
        message.sample_rows.extend(sample_row_to_proto(row, structure.columns) for row in structure.sample_rows)
    return message


def edge_to_proto(edge: JoinEdge) -> join_pb2.JoinEdge:
    """A JoinEdge message."""
    return join_pb2.JoinEdge(
        from_table=edge.from_table, from_columns=list(edge.from_columns), to_table=edge.to_table,
        to_columns=list(edge.to_columns),
        kind=join_pb2.JOIN_EDGE_KIND_INFERRED if edge.inferred else join_pb2.JOIN_EDGE_KIND_DECLARED,
        confidence=edge.confidence, reason=edge.reason)


def _change_to_proto(change: TableChange) -> schema_pb2.TableChange:
    return schema_pb2.TableChange(table=change.table, changes=list(change.changes),
                                  old_fingerprint=change.old_fingerprint, new_fingerprint=change.new_fingerprint)


def refresh_to_proto(report: RefreshReport) -> schema_service_pb2.RefreshSchemaResponse:
    """The RefreshSchema reply."""
    return schema_service_pb2.RefreshSchemaResponse(
        added_tables=list(report.added), removed_tables=list(report.removed),
        changed_tables=[_change_to_proto(c) for c in report.changed], unchanged_count=report.unchanged_count,
        stale_tables=list(report.stale), discover_time=wire.timestamp(report.discover_time))


def connection_to_proto(report: ConnectionReport) -> schema_service_pb2.TestConnectionResponse:
    """The TestConnection reply."""
    latency = duration_pb2.Duration()
    latency.FromTimedelta(dt.timedelta(seconds=report.latency_s))
    return schema_service_pb2.TestConnectionResponse(dialect=dialect_to_proto(report.dialect),
                                                     server_version=report.server_version, latency=latency)


def sample_row_to_proto(row: Sequence[Any], columns: Sequence[ColumnStructure]) -> value_pb2.Row:
    """A stored sample row as typed values, in column order."""
    return value_pb2.Row(values=[sample_value_to_proto(v, c.value_type) for v, c in zip(row, columns, strict=False)])


def sample_value_to_proto(stored: Any, value_type: str) -> value_pb2.Value:
    """One stored (JSON-safe) sample value as a typed Value; as itself when it does not fit ``value_type``."""
    try:
        revived = _revive(stored, value_type)
    except (ValueError, TypeError, ArithmeticError):
        revived = None
    return to_value(stored) if revived is None else to_value(revived, value_type)


def _revive(stored: Any, value_type: str) -> Any:
    """The Python value ``stored`` was written from, read as ``value_type``; None when it is not one."""
    if stored is None or (isinstance(stored, bool) and value_type != "BOOL"):
        return None
    if isinstance(stored, str) and stored.endswith(TRUNCATED) and value_type != "STRING":
        return None
    if value_type == "INTEGER" and isinstance(stored, int | str):
        return int(stored)
    if value_type == "DOUBLE":
        return float(stored)
    if value_type == "DECIMAL":
        exact = decimal.Decimal(str(stored))
        return exact if exact.is_finite() else None
    if value_type == "BOOL":
        return bool(stored) if isinstance(stored, bool) or stored in (0, 1) else None
    if value_type == "BYTES" and isinstance(stored, str) and stored.startswith("0x"):
        return bytes.fromhex(stored[2:])
    if value_type == "TIMESTAMP" and isinstance(stored, str):
        return dt.datetime.fromisoformat(stored)
    if value_type == "DATE" and isinstance(stored, str):
        return dt.date.fromisoformat(stored[:10])
    if value_type == "TIME" and isinstance(stored, str):
        return dt.time.fromisoformat(stored)
    if value_type == "JSON":
        return json.loads(stored) if isinstance(stored, str) else stored
    if value_type == "STRING" and isinstance(stored, str):
        return stored
    return None
