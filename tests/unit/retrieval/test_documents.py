"""The table document: what it says about a table, and what its options add or leave out."""

from __future__ import annotations

from chatdb_server.retrieval.documents import DocumentOptions, table_document
from chatdb_server.sql.structure import ColumnStructure, ForeignKeyStructure, JoinEdge, TableStructure

ORDERS = TableStructure(
    name="CustomerOrders",
    columns=(
        ColumnStructure("OrderID", "INTEGER", "INTEGER", primary_key=True),
        ColumnStructure("cust_id", "INTEGER", "INTEGER"),
        ColumnStructure("shipped_at", "TIMESTAMP", "TIMESTAMP", comment="when the parcel left the depot"),
        ColumnStructure("status", "VARCHAR(20)"),
    ),
    primary_key=("OrderID",),
    foreign_keys=(ForeignKeyStructure(("cust_id",), "customers", ("id",)),),
    comment="One row per order placed in the web shop",
    sample_values={"status": ("shipped", "cancelled", "pending", "returned")},
)
JOINS = [
    JoinEdge("CustomerOrders", ("cust_id",), "customers", ("id",), inferred=False, confidence=1.0),
    JoinEdge("order_lines", ("order_id",), "CustomerOrders", ("OrderID",), inferred=True, confidence=0.8),
    JoinEdge("payments", ("customer_id",), "customers", ("id",), inferred=False, confidence=1.0),
]


def test_names_are_given_as_words_first_with_the_raw_name() -> None:
    document = table_document(ORDERS, JOINS)
    first_line = document.splitlines()[0]
    assert first_line == "table customer orders (CustomerOrders)"
    assert "order id (primary key)" in document
    assert "shipped at" in document and "status" in document


def test_keys_references_and_joins_are_named() -> None:
    document = table_document(ORDERS, JOINS)
    assert "cust id (references customers)" in document
    joins_line = next(line for line in document.splitlines() if line.startswith("joins: "))
    assert joins_line == "joins: customers, order lines"
    assert "payments" not in document


def test_description_comments_and_column_comments_are_included_once() -> None:
    document = table_document(ORDERS, JOINS, description="One row per order placed in the web shop")
    assert document.count("One row per order placed in the web shop") == 1
    assert "when the parcel left the depot" in document
    other = table_document(ORDERS, JOINS, description="Orders of retail customers")
    assert other.splitlines()[1] == "Orders of retail customers"


def test_types_and_sample_values_are_optional_and_off_by_default() -> None:
    default = table_document(ORDERS, JOINS)
    assert "varchar" not in default and "shipped" not in default.replace("shipped at", "")
    rich = table_document(ORDERS, JOINS, options=DocumentOptions(column_types=True, sample_values=2))
    assert "status (varchar(20))" in rich
    assert "values: status: shipped, cancelled" in rich
    assert "pending" not in rich


def test_abbreviations_expand_only_when_asked() -> None:
    assert "customer id" not in table_document(ORDERS, JOINS)
    expanded = table_document(ORDERS, JOINS, options=DocumentOptions(expand_abbreviations=True))
    assert "customer id (references customers)" in expanded


def test_columns_are_bounded() -> None:
    wide = TableStructure(name="wide", columns=tuple(ColumnStructure(f"col_{i}", "INT") for i in range(100)))
    document = table_document(wide, [], options=DocumentOptions(max_columns=10))
    assert "col 9" in document and "col 10" not in document

