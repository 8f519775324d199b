"""AccessService's rules, against a real metadata store and a real SchemaCatalog over a SQLite source:
keys stay in their tenant and never outrank their creator, policies attach to sources the caller
may see, an EXCLUDE policy purges stored samples, the audit log is the caller's tenant's."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatdb_server.access.audit import AuditEvent, AuditLog
from chatdb_server.access.context import close_facts, open_facts
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.access.policies import ColumnAction, PolicyStore
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.access.service import AccessService, AuditQuery, KeySpec
from chatdb_server.crypto import SecretBox
from chatdb_server.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unavailable
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import utcnow
from chatdb_server.pagination import PageTokens
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.schema.records import DataSourceSpec
from chatdb_server.sql.structure import SourceRef
from tests.support.acting import acting_as
from tests.support.trusted_targets import trusted_admission

SECRET_SSNS = ("078-05-1120", "219-09-9999")


def write_shop(path: Path) -> Path:
    """customers (with a social security number nobody should see) and orders."""
    with sqlite3.connect(path) as conn:
        conn.executescript(f"""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, ssn TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);
            INSERT INTO customers VALUES (1, 'Ada', '{SECRET_SSNS[0]}'), (2, 'Linus', '{SECRET_SSNS[1]}');
            INSERT INTO orders VALUES (1, 1, 10.5), (2, 2, 20.0);
        """)
    return path


class CatalogPurge:
    """The exclusion hook with the schema half only (vector documents are the integration test's)."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.catalog = catalog
        self.fail = False

    async def exclusions_changed(self, source: SourceRef) -> list[str]:
        if self.fail:
            raise Unavailable("the vector store is down")
        return await self.catalog.purge_excluded(source)


@dataclass
class Stack:
    service: AccessService
    catalog: SchemaCatalog
    keys: ApiKeyStore
    audit: AuditLog
    hook: CatalogPurge


@pytest.fixture
async def stack(metadata_store: MetadataStore, tmp_path: Path) -> AsyncIterator[Stack]:
    key = Fernet.generate_key()
    pages = PageTokens(key)
    catalog = SchemaCatalog(metadata_store, SecretBox(key), pages,
                            admission=trusted_admission(tmp_path / "data", metadata_store.url))
    for tenant, source_id in (("acme", "shop"), ("acme", "other"), ("globex", "shop")):
        path = write_shop(tmp_path / f"{tenant}-{source_id}.db")
        await catalog.create(tenant, DataSourceSpec(dsn=f"sqlite:///{path}"), source_id=source_id)
    keys, audit, hook = ApiKeyStore(metadata_store), AuditLog(metadata_store, pages), CatalogPurge(catalog)
    yield Stack(AccessService(keys, PolicyStore(metadata_store), audit, catalog, pages, hook), catalog, keys, audit,
                hook)


def principal(*roles: Role, tenant: str = "acme", sources: frozenset[str] | None = None) -> Principal:
    return Principal(subject=f"apiKeys/{'-'.join(roles)}", tenant=tenant, roles=frozenset(roles),
                     kind=CredentialKind.API_KEY, data_sources=sources)


ADMIN = principal(Role.ADMIN)
OPERATOR = principal(Role.OPERATOR)


# --- keys ---------------------------------------------------------------------------------------------


async def test_a_created_key_is_the_callers_tenants_and_its_secret_authenticates(stack: Stack) -> None:
    with acting_as(ADMIN):
        issued = await stack.service.create_key("acme", KeySpec(roles=("asker",), data_sources=("shop",),
                                                                display_name="reports"))
    key = await stack.keys.authenticate(issued.secret)
    assert (key.tenant, key.roles, key.data_sources, key.display_name) == ("acme", {Role.ASKER}, ("shop",),
                                                                           "reports")
    listed, _ = await stack.service.list_keys("acme")
    assert [k.name for k in listed] == [issued.key.name]
    assert (await stack.service.list_keys("globex"))[0] == []


@pytest.mark.parametrize(("caller", "roles"), [
    pytest.param(ADMIN, ("operator",), id="admin_mints_operator"),
    pytest.param(principal(Role.EDITOR), ("admin",), id="editor_mints_admin"),
    pytest.param(principal(Role.ASKER), ("editor", "viewer"), id="asker_mints_editor"),
])
async def test_a_key_never_outranks_its_creator(stack: Stack, caller: Principal, roles: tuple[str, ...]) -> None:
    with acting_as(caller), pytest.raises(PermissionDenied) as refused:
        await stack.service.create_key("acme", KeySpec(roles=roles))
    assert refused.value.reason == "ROLE_ESCALATION"
    assert await stack.keys.list() == []


async def test_an_operator_mints_operators_and_keys_of_other_tenants_an_admin_does_not(stack: Stack) -> None:
    with acting_as(OPERATOR):
        issued = await stack.service.create_key("acme", KeySpec(tenant="globex", roles=("operator", "admin")))
    assert issued.key.tenant == "globex" and issued.key.roles == {Role.OPERATOR, Role.ADMIN}
    with acting_as(ADMIN), pytest.raises(PermissionDenied) as refused:
        await stack.service.create_key("acme", KeySpec(tenant="globex", roles=("viewer",)))
    assert refused.value.reason == "TENANT_MISMATCH"
    assert [k.tenant for k in await stack.keys.list()] == ["globex"]


async def test_a_source_limited_creator_mints_only_keys_limited_to_its_sources(stack: Stack) -> None:
    limited = principal(Role.ADMIN, sources=frozenset({"shop"}))
    with acting_as(limited):
        for sources in ((), ("shop", "other")):
            with pytest.raises(PermissionDenied) as refused:
                await stack.service.create_key("acme", KeySpec(roles=("viewer",), data_sources=sources))
            assert refused.value.reason == "SOURCE_ESCALATION"
        issued = await stack.service.create_key("acme", KeySpec(roles=("viewer",), data_sources=("shop",)))
    assert issued.key.data_sources == ("shop",)


@pytest.mark.parametrize(("spec", "field"), [
    pytest.param(KeySpec(roles=("superuser",)), "api_key.roles", id="unknown_role"),
    pytest.param(KeySpec(roles=()), "api_key.roles", id="no_role"),
    pytest.param(KeySpec(roles=("viewer",), data_sources=("Not An Id",)), "api_key.data_sources", id="bad_source"),
    pytest.param(KeySpec(tenant="a b", roles=("viewer",)), "api_key.tenant", id="bad_tenant"),
    pytest.param(KeySpec(roles=("viewer",), expire_time=utcnow() - timedelta(days=1)), "api_key.expire_time",
                 id="expired"),
])
async def test_bad_key_fields_are_invalid_arguments_naming_the_field(stack: Stack, spec: KeySpec, field: str) -> None:
    with acting_as(OPERATOR), pytest.raises(InvalidArgument) as refused:
        await stack.service.create_key("acme", spec)
    assert refused.value.violations[0].field == field


async def test_keys_are_revoked_only_within_their_tenant(stack: Stack) -> None:
    with acting_as(ADMIN):
        issued = await stack.service.create_key("acme", KeySpec(roles=("viewer",)))
    with pytest.raises(NotFound):
        await stack.service.revoke_key("globex", issued.key.name)
    assert (await stack.keys.list())[0].revoke_time is None
    revoked = await stack.service.revoke_key("acme", issued.key.name)
    assert revoked.revoke_time is not None
    with pytest.raises(InvalidArgument) as refused:
        await stack.service.revoke_key("acme", "keys/abc")
    assert refused.value.violations[0].field == "name"


async def test_keys_are_listed_a_page_at_a_time(stack: Stack) -> None:
    with acting_as(ADMIN):
        made = [(await stack.service.create_key("acme", KeySpec(roles=("viewer",)))).key.name for _ in range(3)]
    first, token = await stack.service.list_keys("acme", page_size=2)
    second, last = await stack.service.list_keys("acme", page_size=2, page_token=token)
    assert [k.name for k in first + second] == made and token and last == ""
    with pytest.raises(InvalidArgument):
        await stack.service.list_keys("globex", page_size=2, page_token=token)


async def test_a_change_names_its_resource_in_the_calls_audit_facts(stack: Stack) -> None:
    facts, token = open_facts()
    try:
        issued = await stack.service.create_key("acme", KeySpec(roles=("viewer",)))
    finally:
        close_facts(token)
    assert facts.resource == issued.key.name


# --- policies -----------------------------------------------------------------------------------------


async def stored_text(catalog: SchemaCatalog, tenant: str = "acme", source: str = "shop") -> str:
    """Everything stored of the source's tables (structures with samples, descriptions), as text."""
    ref = await catalog.resolve(tenant, f"dataSources/{source}")
    return repr([(t.structure.to_json(), t.description) for t in await catalog.stored_tables(ref)])


async def holds_secrets(catalog: SchemaCatalog, tenant: str = "acme") -> list[bool]:
    """Whether each secret value is stored for the tenant's shop."""
    text = await stored_text(catalog, tenant)
    return [ssn in text for ssn in SECRET_SSNS]


async def test_an_exclude_policy_purges_the_columns_stored_samples_and_mentions(stack: Stack) -> None:
    assert all(await holds_secrets(stack.catalog))
    assert "ssn" in (await stack.catalog.get_table("acme", "shop", "customers")).description
    policy = await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "SSN",
                                                      ColumnAction.EXCLUDE, ["admin"])
    assert (policy.name, policy.column, policy.exempt_roles) == (
        f"dataSources/shop/columnPolicies/{policy.policy_id}", "ssn", {Role.ADMIN})
    stored = await stack.catalog.get_table("acme", "shop", "customers")
    assert not any(await holds_secrets(stack.catalog))
    assert "ssn" not in stored.description and "ssn" not in stored.structure.sample_values
    assert stored.structure.column("ssn") is not None  # exempt roles may still query it
    assert "Ada" in await stored_text(stack.catalog)  # other columns keep their samples
    assert all(await holds_secrets(stack.catalog, "globex"))  # other tenants' untouched


async def test_a_refresh_does_not_sample_an_excluded_column_again(stack: Stack) -> None:
    await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn", ColumnAction.EXCLUDE)
    await stack.catalog.refresh("acme", "shop")
    text = await stored_text(stack.catalog)
    assert not any(ssn in text for ssn in SECRET_SSNS) and "Linus" in text


async def test_a_mask_policy_keeps_samples_and_purges_nothing(stack: Stack) -> None:
    await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn", ColumnAction.MASK)
    assert all(await holds_secrets(stack.catalog))


async def test_a_failed_purge_takes_the_policy_back(stack: Stack) -> None:
    stack.hook.fail = True
    with pytest.raises(Unavailable):
        await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn",
                                                 ColumnAction.EXCLUDE)
    assert await stack.service.list_column_policies("acme", "dataSources/shop") == []
    stack.hook.fail = False
    await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn", ColumnAction.EXCLUDE)
    assert not any(await holds_secrets(stack.catalog))


@pytest.mark.parametrize(("table", "column", "field"), [
    pytest.param("suppliers", "name", "column_policy.table", id="unknown_table"),
    pytest.param("customers", "salary", "column_policy.column", id="unknown_column"),
])
async def test_column_policies_name_existing_tables_and_columns(stack: Stack, table: str, column: str,
                                                                field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await stack.service.create_column_policy("acme", "dataSources/shop", table, column, ColumnAction.MASK)
    assert refused.value.violations[0].field == field
    assert await stack.service.list_column_policies("acme", "dataSources/shop") == []


async def test_column_policies_are_listed_deleted_once_and_one_per_column(stack: Stack) -> None:
    policy = await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn",
                                                      ColumnAction.MASK)
    with pytest.raises(AlreadyExists):
        await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn",
                                                 ColumnAction.EXCLUDE)
    assert [p.name for p in await stack.service.list_column_policies("acme", "dataSources/shop")] == [policy.name]
    assert await stack.service.list_column_policies("acme", "dataSources/other") == []
    with pytest.raises(NotFound):
        await stack.service.delete_column_policy("globex", policy.name)
    await stack.service.delete_column_policy("acme", policy.name)
    with pytest.raises(NotFound):
        await stack.service.delete_column_policy("acme", policy.name)
    with pytest.raises(InvalidArgument) as refused:
        await stack.service.delete_column_policy("acme", policy.name.replace("columnPolicies", "rowPolicies"))
    assert refused.value.violations[0].field == "name"


async def test_row_policies_are_conditions_over_the_tables_columns(stack: Stack) -> None:
    policy = await stack.service.create_row_policy("acme", "dataSources/shop", "orders", "total < :limit",
                                                   ["operator"])
    assert policy.parameters == {"limit"}
    for predicate in ("total < (SELECT 1)", "price > 3", "total <"):
        with pytest.raises(InvalidArgument) as refused:
            await stack.service.create_row_policy("acme", "dataSources/shop", "orders", predicate)
        assert refused.value.violations[0].field == "row_policy.predicate"
    assert [p.name for p in await stack.service.list_row_policies("acme", "dataSources/shop")] == [policy.name]
    await stack.service.delete_row_policy("acme", policy.name)
    assert await stack.service.list_row_policies("acme", "dataSources/shop") == []


async def test_a_source_limited_caller_finds_no_other_source(stack: Stack) -> None:
    with acting_as(principal(Role.ADMIN, sources=frozenset({"other"}))):
        with pytest.raises(NotFound):
            await stack.service.create_column_policy("acme", "dataSources/shop", "customers", "ssn",
                                                     ColumnAction.EXCLUDE)
        with pytest.raises(NotFound):
            await stack.catalog.get("acme", "shop")
        listed, _ = await stack.catalog.list_sources("acme")
        assert [s.source_id for s in listed] == ["other"]
        assert await stack.service.list_column_policies("acme", "dataSources/other") == []
    assert all(await holds_secrets(stack.catalog))


async def test_policies_of_an_unknown_or_malformed_source(stack: Stack) -> None:
    with pytest.raises(NotFound):
        await stack.service.list_row_policies("acme", "dataSources/nowhere")
    with pytest.raises(InvalidArgument) as refused:
        await stack.service.list_row_policies("acme", "shop")
    assert refused.value.violations[0].field == "parent"


# --- audit --------------------------------------------------------------------------------------------


async def test_audit_events_are_the_callers_tenants_unless_it_is_an_operator(stack: Stack) -> None:
    for tenant in ("acme", "globex"):
        await stack.audit.append(AuditEvent(principal="apiKeys/k", tenant=tenant, method="/m", data_source="shop"))
    with acting_as(ADMIN):
        mine, _ = await stack.service.list_audit_events("acme", AuditQuery())
    with acting_as(OPERATOR):
        every, _ = await stack.service.list_audit_events("acme", AuditQuery())
    assert [e.tenant for e in mine] == ["acme"]
    assert sorted(e.tenant for e in every) == ["acme", "globex"]


async def test_audit_filters_are_checked(stack: Stack) -> None:
    await stack.audit.append(AuditEvent(principal="apiKeys/k", tenant="acme", method="/m", data_source="shop"))
    limited = principal(Role.ADMIN, sources=frozenset({"shop"}))
    with acting_as(limited):
        with pytest.raises(PermissionDenied):
            await stack.service.list_audit_events("acme", AuditQuery())
        with pytest.raises(NotFound):
            await stack.service.list_audit_events("acme", AuditQuery(data_source="dataSources/other"))
        shown, _ = await stack.service.list_audit_events("acme", AuditQuery(data_source="dataSources/shop"))
    assert [e.data_source for e in shown] == ["shop"]
    now = utcnow()
    with pytest.raises(InvalidArgument) as refused:
        await stack.service.list_audit_events("acme", AuditQuery(start_time=now, end_time=now))
    assert refused.value.violations[0].field == "end_time"
    with pytest.raises(InvalidArgument) as bad_source:
        await stack.service.list_audit_events("acme", AuditQuery(data_source="shop"))
    assert bad_source.value.violations[0].field == "data_source"
