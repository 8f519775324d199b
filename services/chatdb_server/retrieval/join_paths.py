"""Which extra tables are needed to JOIN a set of retrieved tables: bridges on shortest join paths.

A question about students and courses may retrieve ``student`` and ``course`` but not the
``enrollment`` table between them, without which no SQL can connect the two. Starting from the
best hit, every other hit is connected to the tables already chosen by the shortest path in the
join graph (declared foreign keys and inferred joins, both directions); the tables on those paths
are the bridges. This is the usual greedy approximation of a Steiner tree, ample for schemas.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from chatdb_server.sql.structure import JoinEdge


def join_graph(joins: Iterable[JoinEdge], tables: set[str] | None = None) -> dict[str, set[str]]:
    """Undirected adjacency of ``joins`` (restricted to ``tables`` when given), without self-loops."""
    graph: dict[str, set[str]] = {}
    for edge in joins:
        a, b = edge.from_table, edge.to_table
        if a == b or (tables is not None and (a not in tables or b not in tables)):
            continue
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    return graph


def bridge_tables(hits: Sequence[str], graph: dict[str, set[str]], max_hops: int = 3) -> list[str]:
    """Tables not in ``hits`` that lie on shortest paths joining each hit to the ones before it.

    Hits farther than ``max_hops`` joins from every chosen table stay unconnected (a path that
    long is more likely a coincidence of the schema than what the question means).
    """
    if not hits:
        return []
    chosen: dict[str, None] = {hits[0]: None}
    bridges: dict[str, None] = {}
    for hit in hits[1:]:
        if hit in chosen:
            continue
        path = _shortest_path_to(hit, set(chosen), graph, max_hops)
        for table in path:
            if table not in chosen:
                chosen[table] = None
                if table not in hits:
                    bridges[table] = None
        chosen[hit] = None
    return list(bridges)


def _shortest_path_to(start: str, targets: set[str], graph: dict[str, set[str]], max_hops: int) -> list[str]:
    """Nodes strictly between ``start`` and the nearest of ``targets`` (empty when none within reach)."""
    parents: dict[str, str | None] = {start: None}
    frontier: deque[tuple[str, int]] = deque([(start, 0)])
    while frontier:
        node, hops = frontier.popleft()
        if node in targets and node != start:
            between = []
            step = parents[node]
            while step is not None and step != start:
                between.append(step)
                step = parents[step]
            return between
        if hops == max_hops:
            continue
        for neighbour in sorted(graph.get(node, ())):
            if neighbour not in parents:
                parents[neighbour] = node
                frontier.append((neighbour, hops + 1))
    return []
