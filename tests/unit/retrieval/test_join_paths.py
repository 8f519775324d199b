"""Bridge tables: what must be added to join the retrieved tables."""

from __future__ import annotations

from chatdb_server.retrieval.join_paths import bridge_tables, join_graph
from chatdb_server.sql.structure import JoinEdge


def edge(a: str, b: str) -> JoinEdge:
    return JoinEdge(a, ("x",), b, ("y",), inferred=False, confidence=1.0)


SHOP = join_graph([
    edge("orders", "customers"), edge("order_items", "orders"), edge("order_items", "products"),
    edge("products", "suppliers"), edge("payments", "orders"), edge("employees", "employees"),
])


def test_bridges_on_the_shortest_path_between_hits() -> None:
    assert bridge_tables(["customers", "products"], SHOP) == ["orders", "order_items"]


def test_adjacent_hits_need_no_bridge() -> None:
    assert bridge_tables(["orders", "customers", "payments"], SHOP) == []


def test_each_hit_connects_to_the_nearest_chosen_table() -> None:
    # suppliers joins the tree through products once products is chosen: no second path.
    assert bridge_tables(["customers", "products", "suppliers"], SHOP) == ["orders", "order_items"]


def test_hits_beyond_max_hops_stay_unconnected() -> None:
    assert bridge_tables(["customers", "suppliers"], SHOP, max_hops=3) == []
    assert bridge_tables(["customers", "suppliers"], SHOP, max_hops=4) == ["orders", "order_items", "products"]


def test_unknown_and_isolated_tables_add_nothing() -> None:
    assert bridge_tables(["customers", "employees", "ghost"], SHOP) == []
    assert bridge_tables([], SHOP) == []


def test_graph_can_be_restricted_to_known_tables() -> None:
    graph = join_graph([edge("orders", "customers"), edge("orders", "old_table")], {"orders", "customers"})
    assert graph == {"orders": {"customers"}, "customers": {"orders"}}
