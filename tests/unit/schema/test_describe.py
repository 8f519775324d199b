"""Table descriptions written at discovery, from names, comments, columns and links."""

from __future__ import annotations

import dataclasses

from chatdb_server.schema.describe import describe_table, humanize
from chatdb_server.schema.graph import join_graph
from tests.unit.schema.builders import col, fk, table

CUSTOMERS = table("customers", col("id"), col("full_name", "TEXT"), col("city", "TEXT"), pk=("id",))
ORDERS = table("orders", col("id"), col("customer_id"), col("OrderDate", "DATE"), pk=("id",),
               fks=(fk(("customer_id",), "customers", ("id",)),))


def test_humanize_splits_snake_and_camel_case() -> None:
    assert humanize("order_items") == "order items"
    assert humanize("OrderDate") == "order date"
    assert humanize("sales.customer_addresses") == "customer addresses"


def test_description_names_entity_attributes_key_and_links() -> None:
    edges = join_graph([CUSTOMERS, ORDERS])
    text = describe_table(dataclasses.replace(ORDERS, row_estimate=1200), edges)
    assert text.startswith("Table orders (1,200 rows) holds orders.")
    assert "customer id, order date" in text
    assert "Identified by id." in text
    assert "Refers to customers." in text
    assert "Referenced by orders." in describe_table(CUSTOMERS, edges)


def test_comment_wins_over_the_name_and_views_say_so() -> None:
    view = dataclasses.replace(CUSTOMERS, kind="VIEW", comment="People who bought something.", primary_key=())
    text = describe_table(view)
    assert text.startswith("View customers: People who bought something.")
    assert "Identified by" not in text


def test_wide_tables_name_a_bounded_number_of_columns() -> None:
    wide = table("wide", *[col(f"c{i}") for i in range(40)])
    text = describe_table(wide)
    assert "c11" in text and "c12" not in text and "and 28 more" in text
