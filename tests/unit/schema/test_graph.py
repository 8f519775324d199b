"""The join graph: declared keys as they are, inferred joins only with real evidence."""

from __future__ import annotations

from chatdb_server.schema.graph import declared_edges, inferred_edges, join_graph
from chatdb_server.sql.structure import JoinEdge
from tests.unit.schema.builders import col, fk, table

AUTHOR = table("author", col("aid"), col("name", "TEXT"), pk=("aid",))
PAPER = table("paper", col("pid"), col("title", "TEXT"), pk=("pid",))
WRITES = table("writes", col("aid"), col("pid"), pk=("aid", "pid"))
CUSTOMERS = table("customers", col("id"), col("name", "VARCHAR(80)"), pk=("id",))
ORDERS = table("orders", col("id"), col("customer_id"), col("placed", "DATE"), pk=("id",))


def _edge(edges: list[JoinEdge], from_table: str, column: str) -> JoinEdge | None:
    return next((e for e in edges if e.from_table == from_table and e.from_columns == (column,)), None)


def test_column_named_like_another_tables_key_is_inferred() -> None:
    edges = inferred_edges([AUTHOR, PAPER, WRITES])
    aid, pid = _edge(edges, "writes", "aid"), _edge(edges, "writes", "pid")
    assert aid is not None and (aid.to_table, aid.to_columns) == ("author", ("aid",))
    assert pid is not None and (pid.to_table, pid.to_columns) == ("paper", ("pid",))
    assert aid.inferred and 0.5 < aid.confidence < 1.0
    assert "primary key of author" in aid.reason


def test_prefix_id_points_at_plural_table() -> None:
    edge = _edge(inferred_edges([CUSTOMERS, ORDERS]), "orders", "customer_id")
    assert edge is not None
    assert (edge.to_table, edge.to_columns) == ("customers", ("id",))
    assert edge.reason == "column name customer_id matches customers.id"


def test_irregular_plural_and_camel_case() -> None:
    categories = table("categories", col("id"), pk=("id",))
    products = table("products", col("id"), col("CategoryId"), pk=("id",))
    edge = _edge(inferred_edges([categories, products]), "products", "CategoryId")
    assert edge is not None and edge.to_table == "categories"


def test_declared_foreign_key_is_not_repeated_as_inferred() -> None:
    orders = table("orders", col("id"), col("customer_id"), pk=("id",),
                   fks=(fk(("customer_id",), "customers", ("id",), name="fk_orders_customer"),))
    edges = join_graph([CUSTOMERS, orders])
    assert len(edges) == 1
    assert not edges[0].inferred and edges[0].confidence == 1.0
    assert edges[0].reason == "foreign key fk_orders_customer"


def test_reverse_of_declared_key_is_not_inferred() -> None:
    # The declared writes.aid -> author.aid must not come back as an inferred edge in either direction.
    writes = table("writes", col("aid"), col("pid"), pk=("aid", "pid"), fks=(fk(("aid",), "author", ("aid",)),))
    edges = join_graph([AUTHOR, writes])
    assert [(e.from_table, e.to_table, e.inferred) for e in edges] == [("writes", "author", False)]


def test_composite_foreign_key_keeps_column_order() -> None:
    items = table("order_items", col("order_id"), col("line"), pk=("order_id", "line"))
    notes = table("notes", col("a"), col("b"), fks=(fk(("a", "b"), "order_items", ("order_id", "line")),))
    [edge] = declared_edges([items, notes])
    assert edge.from_columns == ("a", "b") and edge.to_columns == ("order_id", "line")


def test_declared_key_to_a_table_outside_the_discovery_is_left_out() -> None:
    orders = table("orders", col("id"), col("region_id"), pk=("id",),
                   fks=(fk(("region_id",), "other.regions", ("id",)),))
    assert declared_edges([orders]) == []


def test_incompatible_types_are_not_joined() -> None:
    customers = table("customers", col("id"), pk=("id",))
    orders = table("orders", col("id"), col("customer_id", "DATE"), pk=("id",))
    assert inferred_edges([customers, orders]) == []


def test_integer_and_decimal_keys_are_compatible() -> None:
    customers = table("customers", col("id", "NUMERIC"), pk=("id",))
    assert _edge(inferred_edges([customers, ORDERS]), "orders", "customer_id") is not None


def test_generic_key_names_do_not_link_tables() -> None:
    a = table("alpha", col("id"), col("name", "TEXT"), pk=("id",))
    b = table("beta", col("id"), col("name", "TEXT"), pk=("name",))
    assert inferred_edges([a, b]) == []


def test_ambiguous_key_owner_is_skipped() -> None:
    a = table("alpha", col("code_no"), pk=("code_no",))
    b = table("beta", col("code_no"), pk=("code_no",))
    c = table("gamma", col("code_no"), col("x"))
    assert _edge(inferred_edges([a, b, c]), "gamma", "code_no") is None


def test_same_schema_target_is_preferred() -> None:
    public = table("customers", col("id"), pk=("id",))
    sales = table("sales.customers", col("id"), pk=("id",), schema="sales")
    orders = table("sales.orders", col("id"), col("customer_id"), pk=("id",), schema="sales")
    edge = _edge(inferred_edges([public, sales, orders]), "sales.orders", "customer_id")
    assert edge is not None and edge.to_table == "sales.customers"


def test_self_reference_through_a_qualified_prefix() -> None:
    category = table("category", col("id"), col("parent_category_id"), pk=("id",))
    edge = _edge(inferred_edges([category]), "category", "parent_category_id")
    assert edge is not None and edge.to_table == "category"
    assert edge.confidence < 0.85  # the last word only, a weaker match


def test_views_refer_but_are_not_referred_to() -> None:
    view = table("order_totals", col("order_id"), col("total", "NUMERIC(10, 2)"), kind="VIEW")
    orders = table("orders", col("id"), pk=("id",))
    uses_view = table("x", col("order_totals_id"))
    edges = inferred_edges([view, orders, uses_view])
    assert _edge(edges, "order_totals", "order_id") is not None
    assert _edge(edges, "x", "order_totals_id") is None


def test_exact_type_match_raises_confidence() -> None:
    same = _edge(inferred_edges([CUSTOMERS, ORDERS]), "orders", "customer_id")
    orders = table("orders", col("id"), col("customer_id", "BIGINT"), pk=("id",))
    other = _edge(inferred_edges([CUSTOMERS, orders]), "orders", "customer_id")
    assert same is not None and other is not None and same.confidence > other.confidence


def test_declared_edges_come_first() -> None:
    orders = table("orders", col("id"), col("customer_id"), pk=("id",),
                   fks=(fk(("customer_id",), "customers", ("id",)),))
    reviews = table("reviews", col("id"), col("order_id"), pk=("id",))
    edges = join_graph([CUSTOMERS, orders, reviews])
    assert [e.inferred for e in edges] == [False, True]


def test_column_spelling_table_and_its_key() -> None:
    country = table("country", col("Code", "CHAR(3)"), col("Name", "TEXT"), pk=("Code",))
    city = table("city", col("ID"), col("CountryCode", "CHAR(3)"), pk=("ID",))
    edge = _edge(inferred_edges([country, city]), "city", "CountryCode")
    assert edge is not None and (edge.to_table, edge.to_columns) == ("country", ("Code",))
    assert edge.reason == "column name CountryCode is country and its key Code"
