"""SchemaService operations: data sources, their tables and the join graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb_client.operations.core import (
    SCHEMA,
    Listing,
    Operation,
    child_name,
    field_mask,
    identity,
    listing,
    nothing,
    source_name,
)
from chatdb_client.results import to_duration


def create_data_source(dsn: str, display_name: str = "", data_source_id: str = "", schemas: Sequence[str] = (),
                       refresh_interval: float | None = None,
                       auto_retrain: bool = False) -> Operation[schema_pb2.DataSource]:
    """Register a database; its connection is tested and its schema discovered first. With
    ``refresh_interval`` (seconds, at least 60) the server discovers it again on that schedule, and with
    ``auto_retrain`` retrains the tables a refresh found stale."""
    source = schema_pb2.DataSource(dsn=dsn, display_name=display_name, schemas=list(schemas),
                                   auto_retrain=auto_retrain)
    if refresh_interval is not None:
        source.refresh_interval.CopyFrom(to_duration(refresh_interval))
    request = schema_service_pb2.CreateDataSourceRequest(data_source=source, data_source_id=data_source_id)
    return Operation(SCHEMA, "CreateDataSource", request, lambda reply: reply.data_source)


def get_data_source(source: str) -> Operation[schema_pb2.DataSource]:
    """One data source, by id or ``dataSources/{id}``."""
    request = schema_service_pb2.GetDataSourceRequest(name=source_name(source))
    return Operation(SCHEMA, "GetDataSource", request, lambda reply: reply.data_source)


def list_data_sources(page_size: int = 0) -> Listing[schema_pb2.DataSource]:
    """The tenant's data sources, oldest first (``page_size`` per call, 0 for the server's default)."""
    request = schema_service_pb2.ListDataSourcesRequest(page_size=page_size)
    return listing(SCHEMA, "ListDataSources", request, "data_sources")


def update_data_source(source: str, *, display_name: str | None = None, dsn: str | None = None,
                       schemas: Sequence[str] | None = None, default_adapter: str | None = None,
                       labels: Mapping[str, str] | None = None, refresh_interval: float | None = None,
                       auto_retrain: bool | None = None,
                       min_confidence: float | None = None) -> Operation[schema_pb2.DataSource]:
    """Change the fields given (the others stay); a new DSN is tested before it is stored.
    ``refresh_interval`` is in seconds, 0 for no scheduled refresh; ``min_confidence`` (0 to 1) is the
    confidence below which Ask answers "I could not answer this reliably" instead, 0 for never."""
    changes: dict[str, Any] = {"display_name": display_name, "dsn": dsn, "schemas": schemas,
                               "default_adapter": default_adapter, "labels": labels,
                               "refresh_interval": refresh_interval, "auto_retrain": auto_retrain,
                               "min_confidence": min_confidence}
    given = {field: value for field, value in changes.items() if value is not None}
    if not given:
        raise ValueError("name at least one field to update")
    updated = schema_pb2.DataSource(name=source_name(source))
    for field, value in given.items():
        if field == "schemas":
            updated.schemas.extend(value)
        elif field == "labels":
            updated.labels.update(value)
        elif field == "refresh_interval":
            updated.refresh_interval.CopyFrom(to_duration(value))
        else:
            setattr(updated, field, value)
    request = schema_service_pb2.UpdateDataSourceRequest(data_source=updated, update_mask=field_mask(list(given)))
    return Operation(SCHEMA, "UpdateDataSource", request, lambda reply: reply.data_source)


def delete_data_source(source: str) -> Operation[None]:
    """Delete a data source and everything stored for it."""
    request = schema_service_pb2.DeleteDataSourceRequest(name=source_name(source))
    return Operation(SCHEMA, "DeleteDataSource", request, nothing)


def test_connection(source: str = "", dsn: str = "") -> Operation[Any]:
    """Connect to a stored source, or to a DSN not registered yet (``TestConnectionResponse``:
    ``dialect``, ``server_version``, ``latency``). A refused connection raises FailedPrecondition."""
    if bool(source) == bool(dsn):
        raise ValueError("give a data source or a DSN, not both")
    request = (schema_service_pb2.TestConnectionRequest(name=source_name(source)) if source
               else schema_service_pb2.TestConnectionRequest(dsn=dsn))
    return Operation(SCHEMA, "TestConnection", request, identity)


def list_tables(source: str, full: bool = False, page_size: int = 0) -> Listing[schema_pb2.Table]:
    """A source's tables and views in name order; ``full`` adds sample rows."""
    view = schema_pb2.TABLE_VIEW_FULL if full else schema_pb2.TABLE_VIEW_BASIC
    request = schema_service_pb2.ListTablesRequest(parent=source_name(source), page_size=page_size, view=view)
    return listing(SCHEMA, "ListTables", request, "tables")


def get_table(source: str, table: str, full: bool = True) -> Operation[schema_pb2.Table]:
    """One table with its columns, keys, indexes and (``full``) sample rows: ``get_table("shop", "orders")``,
    or ``get_table("", "dataSources/shop/tables/orders")``."""
    view = schema_pb2.TABLE_VIEW_FULL if full else schema_pb2.TABLE_VIEW_BASIC
    request = schema_service_pb2.GetTableRequest(name=child_name(source, "tables", table), view=view)
    return Operation(SCHEMA, "GetTable", request, lambda reply: reply.table)


def refresh_schema(source: str) -> Operation[Any]:
    """Discover the schema again (``RefreshSchemaResponse``: tables added, removed, changed, stale)."""
    request = schema_service_pb2.RefreshSchemaRequest(name=source_name(source))
    return Operation(SCHEMA, "RefreshSchema", request, identity)


def get_schema_graph(source: str, min_confidence: float = 0.0) -> Operation[Any]:
    """The join graph (``GetSchemaGraphResponse``: ``tables`` and ``edges``), declared joins first."""
    request = schema_service_pb2.GetSchemaGraphRequest(parent=source_name(source), min_confidence=min_confidence)
    return Operation(SCHEMA, "GetSchemaGraph", request, identity)
