"""SchemaCatalog: the data sources of every tenant and what is known of their structure.

The SchemaService servicer is a thin layer over this class, and the other services
call it in-process (``resolve``, ``stored_tables``, ``join_edges``, ``mark_trained``)
and register listeners to drop what they keep for a source (vectors, examples,
pools) when it is deleted or loses tables.

The full DSN is stored sealed with the SecretBox; only the redacted DSN is ever
shown or logged. Every query filters by tenant, and a caller whose credential is limited to
some data sources finds no other (NOT_FOUND, as for a source that does not exist).

Columns EXCLUDE policies name (``chatdb_server.access.exclusions``) are never sampled at
discovery, and the stored descriptions never mention them; :meth:`SchemaCatalog.purge_excluded`
cleans what was stored before a policy existed.

Every DSN that enters (create, update, test connection) passes the SourceAdmission rules
(``chatdb_server.sql.admission``) first, and a stored source's DSN carries them to every
connection its engines open.

Every write here that an answer depends on (update, refresh, tables marked trained or untrained,
purged exclusions) bumps the source's generation in its own transaction
(``chatdb_server.metadata.generations``); :meth:`SchemaCatalog.version` is the cheap read every
replica compares its cached copies with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.access.context import current_principal
from chatdb_server.access.exclusions import (
    NO_EXCLUSIONS,
    Exclusions,
    ExclusionSource,
    PolicyExclusions,
)
from chatdb_server.access.policies import PolicyStore
from chatdb_server.crypto import SecretBox
from chatdb_server.errors import (
    AlreadyExists,
    ChatDBError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.generations import VERSION_QUERY, SourceVersion, bump_generation
from chatdb_server.metadata.models import (
    DataSourceRow,
    ExampleRow,
    QueryRow,
    ResultCacheRow,
    SchemaTableRow,
    TrainingJobRow,
    as_utc,
    utcnow,
)
from chatdb_server.names import DATA_SOURCE, DATA_SOURCE_TABLE, data_source_id, format_name, validate_id
from chatdb_server.pagination import PageTokens
from chatdb_server.schema.diff import diff_schemas
from chatdb_server.schema.discovery import discover
from chatdb_server.schema.drift_events import emit_drift
from chatdb_server.schema.exclusions import describe_visible, purge_rows
from chatdb_server.schema.fingerprint import table_fingerprint
from chatdb_server.schema.graph import join_graph
from chatdb_server.schema.records import UPDATABLE_FIELDS, DataSourceInfo, DataSourceSpec, RefreshReport
from chatdb_server.sql.admission import SourceAdmission
from chatdb_server.sql.connection import SOURCE_UNREACHABLE, ConnectionReport, probe_connection
from chatdb_server.sql.dsn import Dialect, ParsedDsn, parse_dsn
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable, TableStructure

log = get_logger(__name__)

SourceDeletedListener = Callable[[SourceRef], Awaitable[None]]
TablesRemovedListener = Callable[[SourceRef, list[str]], Awaitable[None]]

DEFAULT_SOURCE_PAGE = 50
DEFAULT_TABLE_PAGE = 100
_NOT_ID_CHARS = re.compile(r"[^a-z0-9]+")
_CHILD_ROWS = (SchemaTableRow, TrainingJobRow, ExampleRow, QueryRow, ResultCacheRow)


class SchemaCatalog:
    """Data sources, their discovered tables and join graphs, per tenant."""

    def __init__(self, store: MetadataStore, box: SecretBox, pages: PageTokens,
                 exclusions: ExclusionSource | None = None, *, admission: SourceAdmission,
                 min_refresh_interval_s: float = 60.0) -> None:
        """``exclusions`` defaults to the EXCLUDE policies in ``store``; ``admission`` decides which DSNs may enter;
        ``min_refresh_interval_s`` is the shortest scheduled refresh interval a source may ask for."""
        self._store = store
        self._min_refresh_s = min_refresh_interval_s
        self._box = box
        self._pages = pages
        self._admission = admission
        self._exclusions = exclusions or PolicyExclusions(PolicyStore(store))
        self._delete_listeners: list[SourceDeletedListener] = []
        self._removed_listeners: list[TablesRemovedListener] = []

    # ---------------------------------------------------------------- listeners

    def add_delete_listener(self, listener: SourceDeletedListener) -> None:
        """Call ``listener`` before a data source's metadata is deleted; its failure stops the deletion."""
        self._delete_listeners.append(listener)

    def add_tables_removed_listener(self, listener: TablesRemovedListener) -> None:
        """Call ``listener`` with the tables a refresh found gone, before they are forgotten."""
        self._removed_listeners.append(listener)

    # ------------------------------------------------------------ data sources

    async def create(self, tenant: str, spec: DataSourceSpec, source_id: str = "") -> DataSourceInfo:
        """Validate, test the connection, discover the schema, then store the source."""
        spec.validate(min_refresh_interval_s=self._min_refresh_s)
        if source_id:
            validate_id(source_id, "data_source_id")
        allowed = _allowed_sources()
        if allowed is not None and source_id not in allowed:
            raise PermissionDenied("a credential limited to some data sources may create only those, by id",
                                   "SOURCE_NOT_ALLOWED", {"data_source_id": source_id})
        dsn = await self._admission.admit(parse_dsn(spec.dsn, "data_source.dsn"), "data_source.dsn")
        if source_id:
            await self._ensure_free(tenant, source_id)
        await probe_connection(dsn)
        tables = await self._discover(dsn, spec.schemas, "data_source.schemas")
        now = utcnow()
        chosen = source_id
        try:
            async with self._store.session() as session:
                chosen = chosen or await self._free_id(session, tenant, spec.display_name or dsn.database)
                row = DataSourceRow(
                    tenant=tenant, source_id=chosen, display_name=spec.display_name, dialect=dsn.dialect.value,
                    dsn_sealed=self._box.seal(spec.dsn.strip()), dsn_redacted=dsn.redacted,
                    schemas=list(spec.schemas), default_adapter=spec.default_adapter, labels=dict(spec.labels),
                    table_count=len(tables), create_time=now, update_time=now, discover_time=now)
                _schedule(row, spec.refresh_interval, now)
                row.auto_retrain = spec.auto_retrain
                row.min_confidence = spec.min_confidence
                session.add(row)
                await session.flush()
                session.add_all(_table_rows(row, tables, now))
        except IntegrityError:
            raise AlreadyExists(format_name(DATA_SOURCE, data_source=chosen)) from None
        log.info("schema.source_created", source=row.source_id, dialect=dsn.dialect.value, dsn=dsn.redacted,
                 tables=len(tables))
        return _info(row)

    async def get(self, tenant: str, source_id: str) -> DataSourceInfo:
        """One source; NotFound when the tenant has none by that id."""
        async with self._store.session() as session:
            return _info(await self._row(session, tenant, source_id))

    async def list_sources(self, tenant: str, page_size: int = 0,
                           page_token: str = "") -> tuple[list[DataSourceInfo], str]:
        """A page of the tenant's sources, oldest first, and the next page token."""
        scope = f"{tenant}|dataSources"
        query = select(DataSourceRow).where(DataSourceRow.tenant == tenant)
        allowed = _allowed_sources()
        if allowed is not None:
            scope += f"|{','.join(sorted(allowed))}"
            query = query.where(DataSourceRow.source_id.in_(sorted(allowed)))
        page = self._pages.page(page_size, page_token, scope, default=DEFAULT_SOURCE_PAGE)
        async with self._store.session() as session:
            rows = (await session.scalars(
                query.order_by(DataSourceRow.create_time, DataSourceRow.pk).offset(page.offset).limit(page.size + 1)
            )).all()
        more = len(rows) > page.size
        shown = [_info(r) for r in rows[:page.size]]
        return shown, self._pages.next_token(page, len(shown), more, scope)

    async def update(self, tenant: str, source_id: str, spec: DataSourceSpec, paths: Sequence[str]) -> DataSourceInfo:
        """Change the fields named in ``paths``; a new DSN or schema list is tested and discovered first."""
        fields = _update_fields(paths)
        spec = spec.masked(fields)
        spec.validate(min_refresh_interval_s=self._min_refresh_s)
        source = await self.resolve(tenant, format_name(DATA_SOURCE, data_source=source_id))
        dsn = (await self._admission.admit(parse_dsn(spec.dsn, "data_source.dsn"), "data_source.dsn")
               if "dsn" in fields else source.dsn)
        rediscovered: list[TableStructure] | None = None
        if fields & {"dsn", "schemas"}:
            await probe_connection(dsn)
            async with self._store.session() as session:
                current_schemas = (await self._row(session, tenant, source_id)).schemas
            schemas = spec.schemas if "schemas" in fields else tuple(current_schemas)
            exclusions = await self.exclusions(source)
            rediscovered = await self._discover(dsn, schemas, "data_source.schemas", exclusions)
            await self._notify_removed(source, rediscovered)
        async with self._store.session() as session:
            row = await self._row(session, tenant, source_id)
            if "display_name" in fields:
                row.display_name = spec.display_name
            if "default_adapter" in fields:
                row.default_adapter = spec.default_adapter
            if "labels" in fields:
                row.labels = dict(spec.labels)
            if "refresh_interval" in fields:
                _schedule(row, spec.refresh_interval, utcnow())
            if "auto_retrain" in fields:
                row.auto_retrain = spec.auto_retrain
            if "min_confidence" in fields:
                row.min_confidence = spec.min_confidence
            if "schemas" in fields:
                row.schemas = list(spec.schemas)
            if "dsn" in fields:
                row.dsn_sealed = self._box.seal(spec.dsn.strip())
                row.dsn_redacted = dsn.redacted
                row.dialect = dsn.dialect.value
            if rediscovered is not None:
                await _store_discovery(session, row, rediscovered, exclusions)
            row.update_time = utcnow()
            await bump_generation(session, row.pk)
        log.info("schema.source_updated", source=source_id, fields=sorted(fields))
        return _info(row)

    async def delete(self, tenant: str, source_id: str) -> None:
        """Delete the source and everything stored for it; listeners drop what other services keep."""
        source = await self.resolve(tenant, format_name(DATA_SOURCE, data_source=source_id))
        for listener in self._delete_listeners:
            await _call_listener(listener, source)
        async with self._store.session() as session:
            for model in _CHILD_ROWS:
                await session.execute(delete(model).where(model.source_pk == source.pk))
            await session.execute(delete(DataSourceRow).where(DataSourceRow.pk == source.pk))
        log.info("schema.source_deleted", source=source_id)

    async def test_connection(self, tenant: str, *, name: str = "", dsn: str = "") -> ConnectionReport:
        """Connect to a stored source (``name``) or to an unstored ``dsn``: server version and latency."""
        if name:
            return await probe_connection((await self.resolve(tenant, name, field="name")).dsn)
        return await probe_connection(await self._admission.admit(parse_dsn(dsn, "dsn"), "dsn"))

    # ------------------------------------------------------------------ tables

    async def list_tables(self, tenant: str, source_id: str, page_size: int = 0,
                          page_token: str = "") -> tuple[list[StoredTable], str, int]:
        """A page of the source's tables in name order, the next page token and the total count."""
        scope = f"{tenant}|dataSources/{source_id}|tables"
        page = self._pages.page(page_size, page_token, scope, default=DEFAULT_TABLE_PAGE)
        async with self._store.session() as session:
            row = await self._row(session, tenant, source_id)
            total = int((await session.scalar(
                select(func.count()).select_from(SchemaTableRow).where(SchemaTableRow.source_pk == row.pk))) or 0)
            rows = (await session.scalars(
                select(SchemaTableRow).where(SchemaTableRow.source_pk == row.pk)
                .order_by(SchemaTableRow.table_name).offset(page.offset).limit(page.size))).all()
        tables = [_stored(r) for r in rows]
        more = page.offset + len(tables) < total
        return tables, self._pages.next_token(page, len(tables), more, scope), total

    async def get_table(self, tenant: str, source_id: str, table: str) -> StoredTable:
        """One table by its name in the database (exact, else the one case-insensitive match)."""
        async with self._store.session() as session:
            row = await self._row(session, tenant, source_id)
            rows = (await session.scalars(select(SchemaTableRow).where(
                SchemaTableRow.source_pk == row.pk, func.lower(SchemaTableRow.table_name) == table.lower()))).all()
        exact = [r for r in rows if r.table_name == table]
        found = exact or (rows if len(rows) == 1 else [])
        if not found:
            raise NotFound(format_name(DATA_SOURCE_TABLE, data_source=source_id, table=table), "table")
        return _stored(found[0])

    async def refresh(self, tenant: str, source_id: str, *, scheduled: bool = False) -> RefreshReport:
        """Discover again and store the result: changed tables keep their trained fingerprint (so turn STALE).
        Drift found queues its webhook event in the same transaction (``scheduled`` says who asked)."""
        source = await self.resolve(tenant, format_name(DATA_SOURCE, data_source=source_id))
        async with self._store.session() as session:
            schemas = tuple((await self._row(session, tenant, source_id)).schemas)
        exclusions = await self.exclusions(source)
        tables = await self._discover(source.dsn, schemas, None, exclusions)
        await self._notify_removed(source, tables)
        async with self._store.session() as session:
            row = await self._row(session, tenant, source_id)
            report = await _store_discovery(session, row, tables, exclusions)
            await bump_generation(session, row.pk)
            await emit_drift(session, tenant, source_id, report, scheduled=scheduled)
        log.info("schema.refreshed", source=source_id, added=len(report.added), removed=len(report.removed),
                 changed=len(report.changed), stale=len(report.stale))
        return report

    async def graph(self, tenant: str, source_id: str,
                    min_confidence: float = 0.0) -> tuple[list[str], list[JoinEdge]]:
        """Every table name and the join edges, inferred ones below ``min_confidence`` left out."""
        source = await self.resolve(tenant, format_name(DATA_SOURCE, data_source=source_id))
        structures = [t.structure for t in await self.stored_tables(source)]
        edges = [e for e in join_graph(structures) if not e.inferred or e.confidence >= min_confidence]
        return [t.name for t in structures], edges

    # ------------------------------------------------- read API for services

    async def resolve(self, tenant: str, name: str, field: str = "name") -> SourceRef:
        """The tenant's source called ``dataSources/{id}``, with its live DSN (never log it).

        InvalidArgument naming ``field`` for a malformed name; NotFound for an unknown one.
        """
        source_id = data_source_id(name, field)
        async with self._store.session() as session:
            row = await self._row(session, tenant, source_id)
        try:
            dsn = self._admission.guarded(parse_dsn(self._box.open(row.dsn_sealed), "dsn"))
        except ValueError:
            raise FailedPrecondition(f"the stored credentials of {name} were sealed with another secret key; "
                                     "update the data source's dsn", SOURCE_UNREACHABLE) from None
        return SourceRef(pk=row.pk, tenant=row.tenant, source_id=row.source_id, dialect=dsn.dialect, dsn=dsn,
                         default_adapter=row.default_adapter, min_confidence=row.min_confidence or 0.0)

    async def version(self, tenant: str, name: str, field: str = "name") -> SourceVersion:
        """The current row and generation of the tenant's source ``name``, read fresh in one small read (no
        transaction): what a replica compares the copies it keeps of the source with. Errors as :meth:`resolve`."""
        source_id = data_source_id(name, field)
        allowed = _allowed_sources()
        row = None
        if allowed is None or source_id in allowed:
            row = await self._store.read_first(VERSION_QUERY, {"tenant": tenant, "source_id": source_id})
        if row is None:
            raise NotFound(format_name(DATA_SOURCE, data_source=source_id), "data source")
        return SourceVersion.of(row)

    async def stored_tables(self, source: SourceRef, names: Sequence[str] | None = None) -> list[StoredTable]:
        """The source's stored tables in name order: all, or those named (unknown names are skipped)."""
        query = select(SchemaTableRow).where(SchemaTableRow.source_pk == source.pk,
                                             SchemaTableRow.tenant == source.tenant)
        if names is not None:
            query = query.where(SchemaTableRow.table_name.in_(list(names)))
        async with self._store.session() as session:
            rows = (await session.scalars(query.order_by(SchemaTableRow.table_name))).all()
        return [_stored(r) for r in rows]

    async def join_edges(self, source: SourceRef) -> list[JoinEdge]:
        """Declared and inferred joins between the source's stored tables."""
        return join_graph([t.structure for t in await self.stored_tables(source)])

    async def mark_trained(self, source: SourceRef, fingerprints: Mapping[str, str]) -> None:
        """Record that each named table was trained at the given fingerprint (one statement for them all)."""
        statement = (update(SchemaTableRow)
                     .where(SchemaTableRow.source_pk == source.pk,
                            SchemaTableRow.table_name == bindparam("trained_name"))
                     .values(trained_fingerprint=bindparam("trained_at"), train_time=utcnow()))
        async with self._store.session() as session:
            if fingerprints:  # executemany on the connection: the ORM's bulk form would want primary keys
                await (await session.connection()).execute(statement, [
                    {"trained_name": table, "trained_at": fingerprint} for table, fingerprint in fingerprints.items()])
            await bump_generation(session, source.pk)

    async def clear_trained(self, source: SourceRef, tables: Sequence[str] | None = None) -> None:
        """Forget that tables were trained (all when ``tables`` is None): they become UNTRAINED."""
        query = update(SchemaTableRow).where(SchemaTableRow.source_pk == source.pk)
        if tables is not None:
            query = query.where(SchemaTableRow.table_name.in_(list(tables)))
        async with self._store.session() as session:
            await session.execute(query.values(trained_fingerprint=None, train_time=None))
            await bump_generation(session, source.pk)

    async def exclusions(self, source: SourceRef) -> Exclusions:
        """The columns of ``source`` EXCLUDE policies name (for everyone: exempt roles do not matter here)."""
        return await self._exclusions.exclusions(source)

    async def purge_excluded(self, source: SourceRef) -> list[str]:
        """Drop the stored samples of excluded columns and describe tables without them; the tables changed.

        Discovery never samples an excluded column; this cleans what was stored before its policy existed.
        The structure keeps the column (exempt roles may query it): only its samples and mentions go.
        """
        exclusions = await self.exclusions(source)
        async with self._store.session() as session:
            changed = purge_rows((await session.scalars(select(SchemaTableRow).where(
                SchemaTableRow.source_pk == source.pk).order_by(SchemaTableRow.table_name))).all(), exclusions)
            if changed:
                await bump_generation(session, source.pk)
        if changed:
            log.info("schema.exclusions_purged", source=source.source_id, tables=changed)
        return changed

    # ----------------------------------------------------------------- helpers

    async def _row(self, session: AsyncSession, tenant: str, source_id: str) -> DataSourceRow:
        allowed = _allowed_sources()
        row = None
        if allowed is None or source_id in allowed:
            row = await session.scalar(select(DataSourceRow).where(DataSourceRow.tenant == tenant,
                                                                   DataSourceRow.source_id == source_id))
        if row is None:
            raise NotFound(format_name(DATA_SOURCE, data_source=source_id), "data source")
        return row

    async def _ensure_free(self, tenant: str, source_id: str) -> None:
        async with self._store.session() as session:
            if await _id_taken(session, tenant, source_id):
                raise AlreadyExists(format_name(DATA_SOURCE, data_source=source_id))

    async def _free_id(self, session: AsyncSession, tenant: str, hint: str) -> str:
        """An unused id derived from ``hint`` ("Sample shop" → "sample-shop", then "sample-shop-2", ...)."""
        stem = _NOT_ID_CHARS.sub("-", hint.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()).strip("-")[:50]
        stem = stem if stem[:1].isalpha() else f"source-{stem}".strip("-")
        candidate, number = stem, 1
        while await _id_taken(session, tenant, candidate):
            number += 1
            candidate = f"{stem}-{number}"
        return candidate

    async def _discover(self, dsn: ParsedDsn, schemas: Sequence[str], schemas_field: str | None,
                        exclusions: Exclusions = NO_EXCLUSIONS) -> list[TableStructure]:
        """Discover (excluded columns unsampled); unknown schemas are bad input on create/update and simply
        absent on refresh."""
        found = await discover(dsn, schemas, exclusions=exclusions)
        if found.missing_schemas and schemas_field is not None:
            raise InvalidArgument(schemas_field, f"schema(s) not found in the database: "
                                                 f"{', '.join(found.missing_schemas)}")
        return list(found.tables)

    async def _notify_removed(self, source: SourceRef, tables: Iterable[TableStructure]) -> None:
        present = {t.name for t in tables}
        async with self._store.session() as session:
            stored = (await session.scalars(select(SchemaTableRow.table_name).where(
                SchemaTableRow.source_pk == source.pk))).all()
        removed = sorted(set(stored) - present)
        if removed:
            for listener in self._removed_listeners:
                await _call_listener(listener, source, removed)


def _allowed_sources() -> frozenset[str] | None:
    """The source ids the caller's credential is limited to; None when it is not (or there is no caller)."""
    principal = current_principal()
    return None if principal is None else principal.data_sources


async def _id_taken(session: AsyncSession, tenant: str, source_id: str) -> bool:
    return await session.scalar(select(DataSourceRow.pk).where(
        DataSourceRow.tenant == tenant, DataSourceRow.source_id == source_id)) is not None


async def _call_listener(listener: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run a listener; a failure other than a domain error becomes UNAVAILABLE (the operation can be retried)."""
    try:
        await listener(*args)
    except ChatDBError:
        raise
    except Exception as error:
        log.exception("schema.listener_failed", listener=getattr(listener, "__qualname__", repr(listener)))
        raise Unavailable(f"could not remove what another service keeps for this source: {type(error).__name__}; "
                          "retry later") from None


def _update_fields(paths: Sequence[str]) -> set[str]:
    if not paths:
        raise InvalidArgument("update_mask", f"is required; name the fields to update: {', '.join(UPDATABLE_FIELDS)}")
    fields = set()
    for path in paths:
        field = path.removeprefix("data_source.")
        if field not in UPDATABLE_FIELDS:
            raise InvalidArgument("update_mask",
                                  f"{path!r} cannot be updated; updatable: {', '.join(UPDATABLE_FIELDS)}")
        fields.add(field)
    return fields


def _table_rows(source: DataSourceRow, tables: Sequence[TableStructure], now: Any) -> list[SchemaTableRow]:
    descriptions = describe_visible(tables, NO_EXCLUSIONS)  # a new source has no policies yet
    return [SchemaTableRow(tenant=source.tenant, source_pk=source.pk, table_name=t.name, schema_name=t.schema,
                           kind=t.kind, structure=t.to_json(), description=descriptions[t.name],
                           fingerprint=table_fingerprint(t), discover_time=now, trained_fingerprint=None)
            for t in tables]


async def _store_discovery(session: AsyncSession, source: DataSourceRow, tables: Sequence[TableStructure],
                           exclusions: Exclusions) -> RefreshReport:
    """Replace the stored tables of ``source`` by a new discovery; the report of what changed."""
    now = utcnow()
    existing = {r.table_name: r for r in (await session.scalars(
        select(SchemaTableRow).where(SchemaTableRow.source_pk == source.pk))).all()}
    new = {t.name: t for t in tables}
    diff = diff_schemas({name: TableStructure.from_json(r.structure) for name, r in existing.items()}, new)
    if diff.removed:
        await session.execute(delete(SchemaTableRow).where(SchemaTableRow.source_pk == source.pk,
                                                           SchemaTableRow.table_name.in_(diff.removed)))
    descriptions = describe_visible(tables, exclusions)
    stale = []
    for name, table in new.items():
        fingerprint = table_fingerprint(table)
        row = existing.get(name)
        if row is None:
            session.add(SchemaTableRow(tenant=source.tenant, source_pk=source.pk, table_name=name,
                                       schema_name=table.schema, kind=table.kind, structure=table.to_json(),
                                       description=descriptions[name], fingerprint=fingerprint,
                                       discover_time=now, trained_fingerprint=None))
            continue
        if row.trained_fingerprint is not None and row.trained_fingerprint == row.fingerprint != fingerprint:
            stale.append(name)
        row.schema_name, row.kind, row.structure = table.schema, table.kind, table.to_json()
        row.description, row.fingerprint, row.discover_time = descriptions[name], fingerprint, now
    source.table_count = len(new)
    source.discover_time = now
    return RefreshReport(added=diff.added, removed=diff.removed, changed=diff.changed,
                         unchanged_count=len(diff.unchanged), stale=tuple(sorted(stale)), discover_time=now)


def _info(row: DataSourceRow) -> DataSourceInfo:
    return DataSourceInfo(
        tenant=row.tenant, source_id=row.source_id, display_name=row.display_name, dialect=Dialect(row.dialect),
        redacted_dsn=row.dsn_redacted, schemas=tuple(row.schemas or ()), default_adapter=row.default_adapter,
        labels=dict(row.labels or {}), table_count=row.table_count,
        create_time=as_utc(row.create_time) or utcnow(), update_time=as_utc(row.update_time) or utcnow(),
        discover_time=as_utc(row.discover_time), refresh_interval_s=row.refresh_interval_s or 0,
        auto_retrain=bool(row.auto_retrain), next_refresh_time=as_utc(row.next_refresh_time),
        min_confidence=row.min_confidence or 0.0)


def _schedule(row: DataSourceRow, interval_s: float, now: datetime) -> None:
    """Set the source's refresh interval (whole seconds, rounded up); its first scheduled refresh is one interval
    from ``now``, none when the interval is 0."""
    row.refresh_interval_s = math.ceil(interval_s)
    row.next_refresh_time = now + timedelta(seconds=row.refresh_interval_s) if row.refresh_interval_s else None


def _stored(row: SchemaTableRow) -> StoredTable:
    return StoredTable(structure=TableStructure.from_json(row.structure), description=row.description,
                       fingerprint=row.fingerprint, trained_fingerprint=row.trained_fingerprint,
                       discover_time=as_utc(row.discover_time), train_time=as_utc(row.train_time))
