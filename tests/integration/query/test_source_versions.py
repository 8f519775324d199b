"""The change signal on both metadata stores (SQLite and PostgreSQL), between two replicas that share one:
every change an answer depends on bumps the source's generation when it commits, and a replica's kept
source contexts follow the other replica's changes on its next question, not after a timer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatdb_server.access.permissions import Role
from chatdb_server.access.policies import ColumnAction, PolicyStore
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.errors import InvalidArgument, NotFound
from chatdb_server.metadata.generations import SourceVersion, bump_generation
from chatdb_server.query.pipeline_sources import SourceContexts
from chatdb_server.schema.records import DataSourceSpec
from chatdb_server.sql.structure import SourceRef
from tests.support.acting import acting_as
from tests.support.databases import PG_ADMIN_URL, postgres_database, sync_engine_for
from tests.unit.training.job_fixtures import TrainingStack, make_shop_database, open_stack, register_sqlite

TENANT = "acme"


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The store both replicas share: SQLite in their data dir (empty URL), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    with postgres_database() as dsn:
        yield make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@pytest.fixture
async def replicas(tmp_path: Path, metadata_url: str) -> AsyncIterator[tuple[TrainingStack, TrainingStack]]:
    """Two replicas' stores and catalogs over one metadata store (and one vector store)."""
    first = await open_stack(tmp_path / "chatdb", metadata_url=metadata_url)
    second = await open_stack(tmp_path / "chatdb", metadata_url=metadata_url, vectors=first.vectors)
    try:
        yield first, second
    finally:
        await second.store.close()
        await first.close()


async def shop(stack: TrainingStack, tmp_path: Path, source_id: str = "shop") -> SourceRef:
    return await register_sqlite(stack.catalog, TENANT, source_id, make_shop_database(tmp_path / f"{source_id}.db"))


async def test_every_change_an_answer_depends_on_bumps_the_generation_once(
        replicas: tuple[TrainingStack, TrainingStack], tmp_path: Path) -> None:
    writer, reader = replicas
    source = await shop(writer, tmp_path)
    policies = PolicyStore(writer.store)
    structures = [t.structure for t in await writer.catalog.stored_tables(source)]
    fingerprints = {t.structure.name: t.fingerprint for t in await writer.catalog.stored_tables(source)}
    made: dict[str, Any] = {}

    async def version() -> SourceVersion:
        return await reader.catalog.version(TENANT, source.name)

    async def bumps(change: Callable[[], Awaitable[Any]], by: int = 1) -> None:
        before = await version()
        await change()
        after = await version()
        assert after.same_source(before) and after.generation == before.generation + by, change

    async def add_example() -> None:
        made["example"] = await writer.service.examples.create(source, "How many customers?",
                                                               "SELECT COUNT(*) FROM customers")

    async def add_mask() -> None:
        made["mask"] = await policies.create_column_policy(source, structures, "customers", "city", ColumnAction.MASK)

    async def add_row_policy() -> None:
        made["rows"] = await policies.create_row_policy(source, structures, "orders", "customer_id = :customer")

    async def exclude_city() -> None:
        await policies.delete_column_policy(source, made["mask"].policy_id)
        made["exclude"] = await policies.create_column_policy(source, structures, "customers", "city",
                                                              ColumnAction.EXCLUDE)

    await bumps(lambda: writer.catalog.mark_trained(source, fingerprints))  # a training job's commit
    await bumps(lambda: writer.catalog.clear_trained(source, ["orders"]))
    await bumps(lambda: writer.catalog.refresh(TENANT, "shop"))
    await bumps(lambda: writer.catalog.update(TENANT, "shop", DataSourceSpec(display_name="Shop"), ["display_name"]))
    await bumps(add_example)
    await bumps(lambda: writer.service.examples.delete(source, made["example"].example_id))
    await bumps(add_mask)
    await bumps(add_row_policy)
    await bumps(lambda: policies.delete_row_policy(source, made["rows"].policy_id))
    await bumps(exclude_city, by=2)
    await bumps(lambda: writer.catalog.purge_excluded(source))  # the stored samples of city go

    unchanged = await version()
    await writer.catalog.purge_excluded(source)  # nothing left to purge
    await writer.catalog.stored_tables(source)
    await writer.catalog.resolve(TENANT, source.name)
    with pytest.raises(NotFound):
        await policies.delete_row_policy(source, made["rows"].policy_id)  # a change that did not happen
    assert await version() == unchanged


async def test_a_bump_shows_when_its_transaction_commits(replicas: tuple[TrainingStack, TrainingStack],
                                                         tmp_path: Path) -> None:
    writer, reader = replicas
    source = await shop(writer, tmp_path)
    before = await reader.catalog.version(TENANT, source.name)
    async with writer.store.session() as session:
        await bump_generation(session, source.pk)
        assert await reader.catalog.version(TENANT, source.name) == before
    assert (await reader.catalog.version(TENANT, source.name)).generation == before.generation + 1


async def test_version_refuses_what_resolve_refuses(replicas: tuple[TrainingStack, TrainingStack],
                                                    tmp_path: Path) -> None:
    writer, reader = replicas
    source = await shop(writer, tmp_path)
    await shop(writer, tmp_path, "other")
    with pytest.raises(NotFound):
        await reader.catalog.version(TENANT, "dataSources/missing")
    with pytest.raises(NotFound):
        await reader.catalog.version("another-tenant", source.name)
    with pytest.raises(InvalidArgument) as malformed:
        await reader.catalog.version(TENANT, "tables/shop", "parent")
    assert malformed.value.metadata["field"] == "parent"
    limited = Principal("apiKeys/k1", TENANT, frozenset({Role.ASKER}), CredentialKind.API_KEY,
                        data_sources=frozenset({"other"}))
    with acting_as(limited), pytest.raises(NotFound):
        await reader.catalog.version(TENANT, source.name)


async def test_kept_contexts_follow_the_other_replicas_changes_on_the_next_question(
        replicas: tuple[TrainingStack, TrainingStack], tmp_path: Path) -> None:
    writer, reader = replicas
    source = await shop(writer, tmp_path)
    contexts = SourceContexts(reader.catalog, policies=PolicyStore(reader.store))
    untrained = await contexts.get(TENANT, source.name)
    assert untrained.trained == [] and untrained.version is not None
    assert await contexts.get(TENANT, source.name) is untrained  # kept while nothing changes

    await writer.catalog.mark_trained(source, {"customers": (await writer.catalog.stored_tables(
        source, ["customers"]))[0].fingerprint})
    trained = await contexts.get(TENANT, source.name)
    assert [t.structure.name for t in trained.trained] == ["customers"]
    assert trained.version is not None and trained.version.generation == untrained.version.generation + 1
    assert await contexts.get(TENANT, source.name) is trained

    structures = [t.structure for t in trained.tables]
    await PolicyStore(writer.store).create_row_policy(source, structures, "orders", "customer_id = :customer")
    policed = await contexts.get(TENANT, source.name)
    assert [p.table for p in policed.policies.rows] == ["orders"]

    limited = Principal("apiKeys/k1", TENANT, frozenset({Role.ASKER}), CredentialKind.API_KEY,
                        data_sources=frozenset({"elsewhere"}))
    with acting_as(limited), pytest.raises(NotFound):  # a kept context is never handed to a caller refused it
        await contexts.get(TENANT, source.name)

    await writer.catalog.delete(TENANT, "shop")
    with pytest.raises(NotFound):
        await contexts.get(TENANT, source.name)
    again = await register_sqlite(writer.catalog, TENANT, "shop", tmp_path / "shop.db")  # the same id, another source
    recreated = await contexts.get(TENANT, source.name)  # SQLite may even give it the same row id
    assert recreated.version is not None and not recreated.version.same_source(policed.version)
    assert recreated.source.pk == again.pk and recreated.trained == [] and recreated.policies.rows == ()


@pytest.mark.parametrize("metadata_url", ["postgresql"], indirect=True)
async def test_a_replica_reads_versions_again_after_the_store_dropped_its_connections(
        replicas: tuple[TrainingStack, TrainingStack], tmp_path: Path, metadata_url: str) -> None:
    writer, reader = replicas
    source = await shop(writer, tmp_path)
    before = await reader.catalog.version(TENANT, source.name)
    database = make_url(metadata_url).database
    admin = sync_engine_for(PG_ADMIN_URL)
    try:
        with admin.connect() as conn:
            ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar()
        assert ended and ended > 0
    finally:
        admin.dispose()
    assert await reader.catalog.version(TENANT, source.name) == before
