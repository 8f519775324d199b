"""The adapter registry: versions on disk and in the metadata store, name resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatdb_server.errors import AlreadyExists, InvalidArgument, NotFound
from chatdb_server.generation.adapters import (
    AdapterRecord,
    AdapterRegistry,
    claim_version_dir,
    parse_adapter_resource,
    write_metadata,
)
from chatdb_server.metadata.db import MetadataStore


@pytest.fixture
def registry(metadata_store: MetadataStore, tmp_path: Path) -> AdapterRegistry:
    return AdapterRegistry(metadata_store, tmp_path / "models")


async def add(registry: AdapterRegistry, adapter: str, tenant: str = "default") -> AdapterRecord:
    version, path = claim_version_dir(registry.model_store, tenant, adapter)
    record = AdapterRecord(tenant=tenant, adapter=adapter, version=version, base_model="/models/base",
                           path=str(path), data_source="dataSources/shop", dataset_size=12, loss_curve=(2.0, 1.5))
    write_metadata(record)
    return await registry.register(record)


@pytest.mark.parametrize(("name", "parsed"), [
    ("adapters/shop-sql", ("shop-sql", None)),
    ("adapters/shop-sql/versions/3", ("shop-sql", 3)),
])
def test_resource_names_parse(name: str, parsed: tuple[str, int | None]) -> None:
    assert parse_adapter_resource(name) == parsed


@pytest.mark.parametrize("name", ["shop-sql", "adapters/", "adapters/Shop", "adapters/a/versions/0",
                                  "adapters/a/versions/x", "adapters/a/b", "models/a"])
def test_malformed_names_are_invalid_arguments(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_adapter_resource(name)
    assert caught.value.violations[0].field == "name"


def test_versions_are_claimed_not_reused(tmp_path: Path) -> None:
    first = claim_version_dir(tmp_path, "default", "a")
    second = claim_version_dir(tmp_path, "default", "a")
    jumped = claim_version_dir(tmp_path, "default", "a", at_least=7)
    assert [first[0], second[0], jumped[0]] == [1, 2, 7]
    assert first[1] == tmp_path / "adapters" / "default" / "a" / "v1" and first[1].is_dir()


async def test_register_list_and_resolve_newest_or_exact(registry: AdapterRegistry) -> None:
    one = await add(registry, "shop-sql")
    two = await add(registry, "shop-sql")
    await add(registry, "other")
    assert [r.resource_name for r in await registry.list("default")] == [
        "adapters/other/versions/1", "adapters/shop-sql/versions/1", "adapters/shop-sql/versions/2"]
    assert (await registry.resolve("default", "adapters/shop-sql")).version == two.version == 2
    exact = await registry.resolve("default", "adapters/shop-sql/versions/1")
    assert exact.path == one.path and exact.loss_curve == (2.0, 1.5) and exact.dataset_size == 12
    assert exact.create_time.tzinfo is not None
    metadata = json.loads((Path(one.path) / "metadata.json").read_text())
    assert metadata["base_model"] == "/models/base" and metadata["version"] == 1


async def test_unknown_adapters_and_other_tenants_are_not_found(registry: AdapterRegistry) -> None:
    await add(registry, "shop-sql", tenant="acme")
    for name in ("adapters/shop-sql", "adapters/nope", "adapters/shop-sql/versions/1"):
        with pytest.raises(NotFound) as caught:
            await registry.resolve("default", name)
        assert caught.value.reason == "UNKNOWN_MODEL"
    with pytest.raises(NotFound):
        await registry.resolve("acme", "adapters/shop-sql/versions/2")
    assert await registry.newest_version("acme", "shop-sql") == 1
    assert await registry.newest_version("default", "shop-sql") == 0


async def test_registering_a_version_twice_is_refused(registry: AdapterRegistry) -> None:
    record = await add(registry, "shop-sql")
    with pytest.raises(AlreadyExists):
        await registry.register(record)
