"""Fingerprints follow structure only; diffs say in words what changed."""

from __future__ import annotations

import dataclasses

from chatdb_server.schema.diff import diff_schemas, table_changes
from chatdb_server.schema.fingerprint import table_fingerprint
from chatdb_server.sql.structure import IndexStructure, TableStructure
from tests.unit.schema.builders import col, fk, table

ORDERS = table("orders", col("id"), col("customer_id"), col("total", "NUMERIC(10, 2)"), col("note", "TEXT"),
               pk=("id",), fks=(fk(("customer_id",), "customers", ("id",), name="fk_c"),
                                fk(("id",), "ledger", ("order_id",), name="fk_l")),
               indexes=(IndexStructure("ix_a", ("customer_id",)), IndexStructure("ix_b", ("total",), unique=True)))


def test_fingerprint_is_a_sha256_hex_digest() -> None:
    value = table_fingerprint(ORDERS)
    assert len(value) == 64 and int(value, 16) >= 0


def test_fingerprint_ignores_data_and_listing_order() -> None:
    same = dataclasses.replace(
        ORDERS, row_estimate=12345, sample_rows=((1, 2, "3.00", "x"),), sample_values={"note": ("x",)},
        foreign_keys=tuple(reversed(ORDERS.foreign_keys)), indexes=tuple(reversed(ORDERS.indexes)),
        comment="a new comment")
    assert table_fingerprint(same) == table_fingerprint(ORDERS)


def test_fingerprint_is_stable_through_storage() -> None:
    assert table_fingerprint(TableStructure.from_json(ORDERS.to_json())) == table_fingerprint(ORDERS)


def test_fingerprint_changes_with_structure() -> None:
    base = table_fingerprint(ORDERS)
    variants = {
        "column added": dataclasses.replace(ORDERS, columns=(*ORDERS.columns, col("email", "TEXT"))),
        "type changed": dataclasses.replace(ORDERS, columns=(*ORDERS.columns[:2], col("total", "NUMERIC(12, 2)"),
                                                             ORDERS.columns[3])),
        "nullability": dataclasses.replace(ORDERS, columns=(*ORDERS.columns[:3], col("note", "TEXT", nullable=False))),
        "primary key": dataclasses.replace(ORDERS, primary_key=("id", "customer_id")),
        "foreign key": dataclasses.replace(ORDERS, foreign_keys=ORDERS.foreign_keys[:1]),
        "index": dataclasses.replace(ORDERS, indexes=ORDERS.indexes[:1]),
        "kind": dataclasses.replace(ORDERS, kind="VIEW"),
    }
    fingerprints = {what: table_fingerprint(t) for what, t in variants.items()}
    assert base not in fingerprints.values()
    assert len(set(fingerprints.values())) == len(variants)


def test_table_changes_read_like_sentences() -> None:
    new = dataclasses.replace(
        ORDERS,
        columns=(ORDERS.columns[0], ORDERS.columns[1], col("total", "NUMERIC(12, 2)"), col("email", "TEXT")),
        foreign_keys=ORDERS.foreign_keys[:1],
        indexes=(*ORDERS.indexes, IndexStructure("ix_email", ("email",), unique=True)))
    changes = table_changes(ORDERS, new)
    assert "column added: email" in changes
    assert "column removed: note" in changes
    assert "column type changed: total NUMERIC(10, 2) → NUMERIC(12, 2)" in changes
    assert "foreign key removed: fk_l (id) → ledger(order_id)" in changes
    assert "index added: unique ix_email (email)" in changes


def test_nullability_and_key_changes() -> None:
    new = dataclasses.replace(ORDERS, columns=(*ORDERS.columns[:3], col("note", "TEXT", nullable=False)),
                              primary_key=("id", "customer_id"))
    changes = table_changes(ORDERS, new)
    assert "column now NOT NULL: note" in changes
    assert "primary key changed: (id) → (id, customer_id)" in changes


def test_diff_sorts_tables_into_added_removed_changed_unchanged() -> None:
    customers = table("customers", col("id"), pk=("id",))
    old = {"orders": ORDERS, "customers": customers, "legacy": table("legacy", col("x"))}
    changed_orders = dataclasses.replace(ORDERS, columns=(*ORDERS.columns, col("email", "TEXT")))
    new = {"orders": changed_orders, "customers": dataclasses.replace(customers, row_estimate=99),
           "reviews": table("reviews", col("id"))}
    diff = diff_schemas(old, new)
    assert diff.added == ("reviews",)
    assert diff.removed == ("legacy",)
    assert diff.unchanged == ("customers",)
    [change] = diff.changed
    assert change.table == "orders" and change.changes == ("column added: email",)
    assert change.old_fingerprint == table_fingerprint(ORDERS)
    assert change.new_fingerprint == table_fingerprint(changed_orders)


def test_identical_discoveries_have_no_changes() -> None:
    diff = diff_schemas({"orders": ORDERS}, {"orders": ORDERS})
    assert diff.changed == () and diff.added == () and diff.removed == () and diff.unchanged == ("orders",)
