"""A plan every dialect accepts: totals only over numbers, and a GROUP BY that holds every plain column
(or the one-column primary key of its table).

SQLite lets a query sum text and select bare columns beside aggregates; PostgreSQL refuses both
(``function sum(text) does not exist``, ``column … must appear in the GROUP BY clause``) and
MariaDB refuses the second under ONLY_FULL_GROUP_BY. These rules rewrite the plan the reader
made, before it becomes SQL, so that the same reading means the same thing on every dialect.
"""

from __future__ import annotations

from dataclasses import replace

from chatdb_server.prediction.template.plan import Condition, Ordering, Output, Plan
from chatdb_server.prediction.template.schema_index import ColumnEntry

_TOTALS = ("sum", "avg")
_EXTREMES = {"max": True, "min": False}


def conform(plan: Plan) -> Plan:
    """The plan with the rules below applied (each names itself in ``plan.rules`` when it fires)."""
    plan = _count_text_totals(plan)
    plan = _drop_columns_shown_aggregated(plan)
    plan = _extreme_row_for_bare_columns(plan)
    plan = _drop_bare_columns_of_one_figure(plan)
    return _complete_grouping(plan)


def _fire(plan: Plan, rule: str, note: str) -> None:
    if rule not in plan.rules:
        plan.rules.append(rule)
    plan.notes.append(note)


def _summable(column: ColumnEntry | None) -> bool:
    return column is None or column.kind in ("number", "bool", "date") or column.looks_numeric_text


def _depends_on_grouped_key(column: ColumnEntry, group_by: list[ColumnEntry]) -> bool:
    """A column of a table whose one-column primary key is grouped by (every dialect takes it bare)."""
    keys = [c for c in column.table.columns if c.info.primary_key]
    return len(keys) == 1 and any(keys[0] is g for g in group_by)


def _count_text_totals(plan: Plan) -> Plan:
    """SUM or AVG of a text column that holds no numbers counts its values instead."""
    def fixed(output: Output) -> Output:
        if output.aggregate in _TOTALS and not _summable(output.column):
            assert output.column is not None
            _fire(plan, "count-text-total", f"counted {output.column.name}, which holds text, instead of a total")
            return replace(output, aggregate="count")
        return output

    plan.outputs = [fixed(o) for o in plan.outputs]
    plan.order = [replace(o, expression=fixed(o.expression)) for o in plan.order]
    return plan


def _bare(outputs: list[Output]) -> list[Output]:
    return [o for o in outputs if o.aggregate is None and o.period is None and o.column is not None]


def _drop_columns_shown_aggregated(plan: Plan) -> Plan:
    """``COUNT(DISTINCT city), city`` with no grouping: the bare copy of an aggregated column says nothing
    (one arbitrary value) and no stricter dialect takes it, so it goes."""
    if plan.group_by or plan.periods:
        return plan
    aggregated = [o.column for o in plan.outputs if o.aggregate is not None and o.column is not None]
    kept = [o for o in plan.outputs if not (o in _bare(plan.outputs) and any(o.column is c for c in aggregated))]
    if len(kept) < len(plan.outputs):
        plan.outputs = kept
        _fire(plan, "drop-aggregated-column", "left out columns shown aggregated already")
    return plan


def _extreme_row_for_bare_columns(plan: Plan) -> Plan:
    """``MAX(x), y`` with no grouping is the row with the largest ``x``: ``x, y ... ORDER BY x DESC LIMIT 1``
    (what SQLite means by the bare column, written so that every dialect accepts it)."""
    aggregated = [o for o in plan.outputs if o.aggregate is not None]
    if (plan.group_by or plan.periods or plan.having or plan.order or plan.intersect_with is not None
            or plan.any_condition or len(aggregated) != 1 or aggregated[0].aggregate not in _EXTREMES
            or aggregated[0].column is None or aggregated[0].distinct or not _bare(plan.outputs)):
        return plan
    extreme = aggregated[0]
    column = extreme.column
    assert column is not None and extreme.aggregate is not None
    plan.outputs = [Output(column) if o is extreme else o for o in plan.outputs]
    plan.order = [Ordering(Output(column), _EXTREMES[extreme.aggregate])]
    plan.limit = 1
    plan.conditions = [*plan.conditions, Condition(column, "is not null", ())]
    _fire(plan, "extreme-row", f"the row with the {extreme.aggregate} {column.name}, with its other columns")
    return plan


def _drop_bare_columns_of_one_figure(plan: Plan) -> Plan:
    """"How many ...", "what is the total ...": with no grouping read, columns beside the aggregate
    (SQLite shows one arbitrary value of each) are left out; the question asks for one figure."""
    if plan.group_by or plan.periods or not plan.aggregate_first or not any(o.aggregate for o in plan.outputs):
        return plan
    bare = _bare(plan.outputs)
    if not bare or plan.having or any(o.expression.aggregate for o in plan.order):
        return plan
    plan.outputs = [o for o in plan.outputs if o not in bare]
    plan.order = [o for o in plan.order if o.expression not in bare]
    _fire(plan, "one-figure", "left out " + ", ".join(o.describe() for o in bare) + " beside the aggregate")
    return plan


def _complete_grouping(plan: Plan) -> Plan:
    """Every plain column selected or sorted on beside an aggregate is grouped by (each once), unless
    its table's primary key is."""
    plan.group_by = list({id(c): c for c in plan.group_by}.values())
    aggregating = (any(o.aggregate for o in plan.outputs) or bool(plan.having)
                   or any(o.expression.aggregate for o in plan.order))
    if not (aggregating or plan.group_by or plan.periods):
        return plan
    plain = [o.column for o in _bare(plan.outputs) + _bare([o.expression for o in plan.order])]
    missing = [c for c in dict.fromkeys(c for c in plain if c is not None)
               if all(c is not g for g in plan.group_by) and not _depends_on_grouped_key(c, plan.group_by)]
    if not missing or (not plan.group_by and not plan.periods and not aggregating):
        return plan
    plan.group_by = [*plan.group_by, *missing]
    _fire(plan, "complete-grouping", "grouped by " + ", ".join(c.name for c in missing) + " too")
    return plan
