"""Spider difficulty (easy / medium / hard / extra) from a question's parsed ``sql`` structure.

The rules of the official Spider evaluation (``Evaluator.eval_hardness``), quirks included:
aggregates in WHERE are counted from the condition's first field (its NOT flag) and HAVING
is counted with its AND/OR connectors, exactly as the reference script does.
"""

from __future__ import annotations

from typing import Any

Sql = dict[str, Any]

_LIKE = 9  # index of 'like' in WHERE_OPS
_NO_AGG = 0


def _nested(sql: Sql) -> list[Sql]:
    nested = []
    for cond in sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]:
        for value in (cond[3], cond[4]):
            if isinstance(value, dict):
                nested.append(value)
    nested.extend(sql[key] for key in ("intersect", "except", "union") if sql[key] is not None)
    return nested


def _count_agg(units: list[Any]) -> int:
    return sum(1 for unit in units if unit[0] != _NO_AGG)


def _component1(sql: Sql) -> int:
    count = sum(1 for key in ("where", "groupBy", "orderBy") if sql[key])
    count += sql["limit"] is not None
    if sql["from"]["table_units"]:
        count += len(sql["from"]["table_units"]) - 1
    connectors = sql["from"]["conds"][1::2] + sql["where"][1::2] + sql["having"][1::2]
    count += sum(1 for token in connectors if token == "or")
    conds = sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]
    count += sum(1 for cond in conds if cond[1] == _LIKE)
    return count


def _others(sql: Sql) -> int:
    aggs = _count_agg(sql["select"][1]) + _count_agg(sql["where"][::2]) + _count_agg(sql["groupBy"])
    if sql["orderBy"]:
        units = [u[1] for u in sql["orderBy"][1] if u[1]] + [u[2] for u in sql["orderBy"][1] if u[2]]
        aggs += _count_agg(units)
    aggs += _count_agg(sql["having"])
    count = int(aggs > 1)
    count += len(sql["select"][1]) > 1
    count += len(sql["where"]) > 1
    count += len(sql["groupBy"]) > 1
    return count


def hardness(sql: Sql) -> str:
    """``easy``, ``medium``, ``hard`` or ``extra``."""
    comp1, comp2, others = _component1(sql), len(_nested(sql)), _others(sql)
    if comp1 <= 1 and others == 0 and comp2 == 0:
        return "easy"
    if (others <= 2 and comp1 <= 1 and comp2 == 0) or (comp1 <= 2 and others < 2 and comp2 == 0):
        return "medium"
    if ((others > 2 and comp1 <= 2 and comp2 == 0) or (2 < comp1 <= 3 and others <= 2 and comp2 == 0)
            or (comp1 <= 1 and others == 0 and comp2 <= 1)):
        return "hard"
    return "extra"


def needs_nesting(sql: Sql) -> bool:
    """Whether the gold query has a subquery or a set operation."""
    if _nested(sql):
        return True
    return any(unit[0] == "sql" for unit in sql["from"]["table_units"])
