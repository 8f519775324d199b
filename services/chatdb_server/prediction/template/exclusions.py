"""Negated relations: "customers with no orders", "countries that do not speak English" become
``key NOT IN (SELECT link FROM ... WHERE ...)`` rather than a join."""

from __future__ import annotations

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.plan import Condition, Exclusion
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import TableEntry
from chatdb_server.prediction.template.state import ReadingState


def exclusions(q: Question, subject: TableEntry, state: ReadingState, tables: list[TableEntry]
               ) -> tuple[list[Exclusion], list[Condition]]:
    """NOT IN subqueries for negated tables and negated conditions on other tables.

    Returns them with the conditions left for the outer query; the tables the subqueries read
    are taken out of ``tables``."""
    conditions = list(state.conditions)
    targets = list(state.negated_tables)
    for condition in state.negated_conditions:
        if condition.column is not None and all(condition.column.table is not t for t in targets):
            targets.append(condition.column.table)
    found: list[Exclusion] = []
    for negated in targets:
        if negated is subject:
            continue
        path = q.graph.path([subject], negated)
        if not path:
            state.penalty += costs.EXCLUSION_NOT_JOINED
            state.fire("exclusion-not-joined")
            continue
        first = path[0]
        inner_tables = [first.right, *[e.right for e in path[1:]]]

        def inside(condition: Condition, inner: list[TableEntry] = inner_tables) -> bool:
            column = condition.column
            return column is not None and column.table is not subject and any(column.table is t for t in inner)

        inner_conditions = [c for c in conditions if inside(c) and not _contrasted(c, state.negated_conditions)]
        inner_conditions += [c for c in state.negated_conditions if inside(c)]
        conditions = [c for c in conditions if all(c is not i for i in inner_conditions)]
        outer_tables = {id(c.column.table) for c in conditions if c.column is not None}
        for table in inner_tables:
            if table in tables and table is not subject and id(table) not in outer_tables:
                tables.remove(table)
        found.append(Exclusion(first.left_columns[0], first.right_columns[0], inner_tables, inner_conditions))
        state.notes.append(f"without any matching {negated.name}")
        state.fire("exclude-related")
    return found, conditions


def _contrasted(condition: Condition, negated: list[Condition]) -> bool:
    """"has a dog but not a cat": a wanted value of a column whose other value is negated stays in
    the outer query (``= 'dog' AND key NOT IN (... = 'cat')``)."""
    return condition.operator == "=" and any(
        n.column is condition.column and n.values != condition.values for n in negated)
