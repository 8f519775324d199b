"""Join paths over the schema's join graph (declared and inferred edges), shortest first."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.schema_index import ColumnEntry, SchemaIndex, TableEntry
from chatdb_server.retrieval.context import SchemaContext


@dataclass(frozen=True)
class Edge:
    """left.left_columns = right.right_columns, with a cost (inferred edges cost more)."""

    left: TableEntry
    left_columns: tuple[ColumnEntry, ...]
    right: TableEntry
    right_columns: tuple[ColumnEntry, ...]
    cost: float

    def reversed(self) -> Edge:
        return Edge(self.right, self.right_columns, self.left, self.left_columns, self.cost)


class JoinGraph:
    """Tables as nodes, join edges as weighted links."""

    def __init__(self, index: SchemaIndex, schema: SchemaContext) -> None:
        self._edges: dict[int, list[Edge]] = {id(t): [] for t in index.tables}
        for join in schema.joins:
            left, right = index.table(join.from_table), index.table(join.to_table)
            if left is None or right is None or left is right:
                continue
            left_cols = tuple(index.column(left.name, c) for c in join.from_columns)
            right_cols = tuple(index.column(right.name, c) for c in join.to_columns)
            if any(c is None for c in left_cols + right_cols):
                continue
            unsure = 1.0 - max(0.0, min(1.0, join.confidence))
            cost = costs.DECLARED_JOIN if not join.inferred else costs.DECLARED_JOIN + unsure
            self._add(Edge(left, left_cols, right, right_cols, cost))  # type: ignore[arg-type]
        self._infer(index)

    def _add(self, edge: Edge) -> None:
        self._edges[id(edge.left)].append(edge)
        self._edges[id(edge.right)].append(edge.reversed())

    def _infer(self, index: SchemaIndex) -> None:
        """Link a column to another table's key of the same name (or ``<table>_id``) where no edge exists.

        Costs more than any given edge, so declared and inferred joins from the schema win.
        """
        for table in index.tables:
            key = table.key
            if key is None:
                continue
            wanted = {key.name.lower()}
            if key.words == ("id",):
                wanted.add("_".join((*table.words, "id")))
                wanted.add("".join((*table.words, "id")))
            for other in index.tables:
                if other is table:
                    continue
                if self.direct(other, table) is not None:
                    continue
                for column in other.columns:
                    if column.name.lower() in wanted and column.words != ("id",):
                        self._add(Edge(other, (column,), table, (key,), costs.GUESSED_JOIN))
                        break

    def neighbours(self, table: TableEntry) -> list[Edge]:
        return self._edges.get(id(table), [])

    def path(self, sources: list[TableEntry], target: TableEntry) -> list[Edge] | None:
        """Cheapest chain of edges from any source table to the target."""
        if any(s is target for s in sources):
            return []
        frontier: list[tuple[float, int, TableEntry, list[Edge]]] = []
        counter = 0
        for source in sources:
            frontier.append((0.0, counter, source, []))
            counter += 1
        heapq.heapify(frontier)
        seen: set[int] = set()
        while frontier:
            cost, _, table, path = heapq.heappop(frontier)
            if id(table) in seen:
                continue
            seen.add(id(table))
            if table is target:
                return path
            for edge in self._edges.get(id(table), []):
                if id(edge.right) not in seen:
                    counter += 1
                    heapq.heappush(frontier, (cost + edge.cost, counter, edge.right, [*path, edge]))
        return None

    def connect(self, root: TableEntry, others: list[TableEntry]) -> tuple[list[TableEntry], list[Edge]] | None:
        """A join tree from root reaching every other table (shortest paths, nearest first)."""
        tree = [root]
        edges: list[Edge] = []
        pending = [t for t in others if t is not root]
        while pending:
            best: tuple[int, list[Edge], TableEntry] | None = None
            for table in pending:
                path = self.path(tree, table)
                if path is None:
                    return None
                if best is None or len(path) < len(best[1]):
                    best = (len(path), path, table)
            assert best is not None
            _, path, table = best
            for edge in path:
                if all(t is not edge.right for t in tree):
                    tree.append(edge.right)
                    edges.append(edge)
            pending = [t for t in pending if all(t is not x for x in tree)]
        return tree, edges

    def direct(self, left: TableEntry, right: TableEntry) -> Edge | None:
        """The cheapest edge between two tables, if any."""
        edges = [e for e in self._edges.get(id(left), []) if e.right is right]
        return min(edges, key=lambda e: e.cost) if edges else None
