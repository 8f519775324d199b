"""Column and row policies: kept in a real metadata store, checked when created, and narrowed to what
binds one principal (exempt roles, attributes, the cache key that separates callers)."""

from __future__ import annotations

import pytest

from chatdb_server.access.permissions import Role
from chatdb_server.access.policies import (
    ColumnAction,
    ColumnPolicy,
    EffectivePolicies,
    PolicyStore,
    RowPolicy,
    SourcePolicies,
    check_predicate,
)
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.errors import AlreadyExists, InvalidArgument, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.sql.structure import ColumnStructure, SourceRef, TableStructure
from tests.unit.training.job_fixtures import add_source

CUSTOMERS = TableStructure(name="customers", columns=tuple(
    ColumnStructure(name, "TEXT") for name in ("id", "name", "Region", "ssn", "email")))
ORDERS = TableStructure(name="orders", columns=(ColumnStructure("id", "INTEGER"), ColumnStructure("region", "TEXT")))
TABLES = (CUSTOMERS, ORDERS)


def principal(*roles: Role, **attributes: str) -> Principal:
    return Principal("apiKeys/k1", "acme", frozenset(roles), CredentialKind.API_KEY, attributes=attributes)


@pytest.fixture
def store(metadata_store: MetadataStore) -> PolicyStore:
    return PolicyStore(metadata_store)


@pytest.fixture
async def source(metadata_store: MetadataStore) -> SourceRef:
    return await add_source(metadata_store, "acme", "shop")


async def test_column_and_row_policies_are_created_listed_and_deleted(store: PolicyStore, source: SourceRef) -> None:
    masked = await store.create_column_policy(source, TABLES, "CUSTOMERS", "EMAIL", ColumnAction.MASK, ["admin"])
    excluded = await store.create_column_policy(source, TABLES, "customers", "ssn", ColumnAction.EXCLUDE)
    row = await store.create_row_policy(source, TABLES, "orders", "  region = :region  ", ["editor"])
    assert (masked.table, masked.column, masked.exempt_roles) == ("customers", "email", frozenset({Role.ADMIN}))
    assert masked.name == f"dataSources/shop/columnPolicies/{masked.policy_id}"
    assert row.predicate == "region = :region" and row.parameters == frozenset({"region"})
    assert row.name == f"dataSources/shop/rowPolicies/{row.policy_id}"

    listed = await store.policies(source)
    assert [p.policy_id for p in listed.columns] == [masked.policy_id, excluded.policy_id]
    assert [p.action for p in listed.columns] == [ColumnAction.MASK, ColumnAction.EXCLUDE]
    assert listed.rows == (row,) and listed.rows[0].create_time is not None

    await store.delete_column_policy(source, masked.policy_id)
    await store.delete_row_policy(source, row.policy_id)
    remaining = await store.policies(source)
    assert [p.policy_id for p in remaining.columns] == [excluded.policy_id] and remaining.rows == ()
    with pytest.raises(NotFound):
        await store.delete_row_policy(source, row.policy_id)
    with pytest.raises(NotFound):
        await store.delete_column_policy(source, "nope")


async def test_policies_are_per_source(store: PolicyStore, source: SourceRef, metadata_store: MetadataStore) -> None:
    other = await add_source(metadata_store, "acme", "other")
    await store.create_row_policy(source, TABLES, "orders", "region = 'EU'")
    assert (await store.policies(other)) == SourcePolicies()
    assert len((await store.policies(source)).rows) == 1


async def test_a_column_has_one_policy_and_must_exist(store: PolicyStore, source: SourceRef) -> None:
    await store.create_column_policy(source, TABLES, "customers", "ssn", ColumnAction.EXCLUDE)
    with pytest.raises(AlreadyExists):
        await store.create_column_policy(source, TABLES, "Customers", "SSN", ColumnAction.MASK)
    with pytest.raises(InvalidArgument) as no_table:
        await store.create_column_policy(source, TABLES, "payments", "id", ColumnAction.MASK)
    assert no_table.value.violations[0].field == "column_policy.table"
    with pytest.raises(InvalidArgument) as no_column:
        await store.create_column_policy(source, TABLES, "orders", "ssn", ColumnAction.MASK)
    assert no_column.value.violations[0].field == "column_policy.column"
    with pytest.raises(InvalidArgument) as bad_role:
        await store.create_column_policy(source, TABLES, "orders", "region", ColumnAction.MASK, ["janitor"])
    assert bad_role.value.violations[0].field == "column_policy.exempt_roles"


@pytest.mark.parametrize("predicate", [
    "region = :region", "Region IN ('EU', 'US') AND id > 3", "lower(region) = :region OR name IS NULL"])
def test_plain_conditions_over_the_table_pass(predicate: str) -> None:
    check_predicate(predicate, CUSTOMERS, "row_policy.predicate")


@pytest.mark.parametrize(("predicate", "complaint"), [
    ("", "condition of 1"),
    ("x" * 2001, "condition of 1"),
    ("region = ", "does not parse"),
    ("id IN (SELECT id FROM orders)", "without subqueries"),
    ("EXISTS (SELECT 1)", "without subqueries"),
    ("SELECT 1", "without subqueries"),
    ("orders.region = :region", "not a column of customers"),
    ("amount > 3", "not a column of customers"),
])
def test_other_predicates_are_refused(predicate: str, complaint: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_predicate(predicate, CUSTOMERS, "row_policy.predicate")
    assert refused.value.violations[0].field == "row_policy.predicate"
    assert complaint in refused.value.violations[0].description


async def test_a_row_policy_is_checked_when_created(store: PolicyStore, source: SourceRef) -> None:
    with pytest.raises(InvalidArgument):
        await store.create_row_policy(source, TABLES, "orders", "ssn = :ssn")
    with pytest.raises(InvalidArgument) as no_table:
        await store.create_row_policy(source, TABLES, "payments", "id = 1")
    assert no_table.value.violations[0].field == "row_policy.table"
    assert (await store.policies(source)).rows == ()


SHOP = SourcePolicies(
    columns=(ColumnPolicy("c1", "shop", "Customers", "SSN", ColumnAction.EXCLUDE),
             ColumnPolicy("c2", "shop", "customers", "email", ColumnAction.MASK, frozenset({Role.EDITOR}))),
    rows=(RowPolicy("r1", "shop", "Orders", "region = :region", frozenset({Role.ADMIN})),
          RowPolicy("r2", "shop", "orders", "id > 0")))


def test_no_principal_is_bound_by_nothing() -> None:
    assert SHOP.for_principal(None) == EffectivePolicies() and SHOP.for_principal(None).empty


def test_a_principal_is_bound_by_every_policy_its_roles_are_not_exempt_from() -> None:
    asker = SHOP.for_principal(principal(Role.ASKER, region="EU"))
    assert asker.excluded == {("customers", "ssn")} and asker.masked == {("customers", "email")}
    assert asker.row_predicates == {"orders": ("region = :region", "id > 0")}
    assert asker.attributes == {"region": "EU"} and asker.excluded_columns("CUSTOMERS") == {"ssn"}

    editor = SHOP.for_principal(principal(Role.EDITOR, region="EU"))
    assert editor.masked == frozenset() and editor.excluded == {("customers", "ssn")}

    admin = SHOP.for_principal(principal(Role.ADMIN, Role.EDITOR))
    assert admin.row_predicates == {"orders": ("id > 0",)} and admin.attributes == {}


def test_attributes_are_kept_only_where_a_row_policy_may_bind_them() -> None:
    columns_only = SourcePolicies(columns=SHOP.columns)
    assert columns_only.for_principal(principal(Role.ASKER, region="EU")).attributes == {}


def test_the_cache_key_separates_callers_on_whom_policies_act_differently() -> None:
    eu = SHOP.for_principal(principal(Role.ASKER, region="EU"))
    assert eu.cache_key() == SHOP.for_principal(principal(Role.VIEWER, region="EU")).cache_key()
    assert eu.cache_key() != SHOP.for_principal(principal(Role.ASKER, region="US")).cache_key()
    assert eu.cache_key() != SHOP.for_principal(principal(Role.EDITOR, region="EU")).cache_key()
    assert EffectivePolicies().cache_key() == "" and eu.cache_key() != ""
