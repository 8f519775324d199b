"""The join graph laid out for an SVG picture: tables on a circle, declared joins as solid lines and
inferred ones dashed, each line titled with its columns (and confidence) for screen readers and hover."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatdb.common.v1 import join_pb2

WIDTH = 720
HEIGHT = 480
MARGIN = 90


@dataclass(frozen=True)
class Node:
    """A table at (x, y)."""

    name: str
    x: float
    y: float


@dataclass(frozen=True)
class Edge:
    """A join from one table to another; ``declared`` for a foreign key, else inferred."""

    x1: float
    y1: float
    x2: float
    y2: float
    declared: bool
    title: str


@dataclass(frozen=True)
class GraphPicture:
    """Everything the SVG template draws."""

    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]

    @property
    def declared_count(self) -> int:
        """Joins declared as foreign keys."""
        return sum(edge.declared for edge in self.edges)

    @property
    def inferred_count(self) -> int:
        """Joins inferred from names and types."""
        return len(self.edges) - self.declared_count


def lay_out(tables: Sequence[str], edges: Sequence[Any]) -> GraphPicture:
    """Place ``tables`` evenly on a circle and draw each ``chatdb.common.v1.JoinEdge`` between them."""
    names = sorted({*tables, *(e.from_table for e in edges), *(e.to_table for e in edges)})
    radius_x, radius_y = WIDTH / 2 - MARGIN, HEIGHT / 2 - MARGIN / 2
    nodes: dict[str, Node] = {}
    for index, name in enumerate(names):
        angle = 2 * math.pi * index / max(len(names), 1) - math.pi / 2
        nodes[name] = Node(name, round(WIDTH / 2 + radius_x * math.cos(angle), 1),
                           round(HEIGHT / 2 + radius_y * math.sin(angle), 1))
    lines = []
    for edge in edges:
        start, end = nodes[edge.from_table], nodes[edge.to_table]
        declared = edge.kind == join_pb2.JOIN_EDGE_KIND_DECLARED
        how = "declared foreign key" if declared else f"inferred, confidence {edge.confidence:.2f}"
        title = (f"{edge.from_table}({', '.join(edge.from_columns)}) → "
                 f"{edge.to_table}({', '.join(edge.to_columns)}): {how}")
        lines.append(Edge(start.x, start.y, end.x, end.y, declared, title))
    return GraphPicture(WIDTH, HEIGHT, list(nodes.values()), lines)
