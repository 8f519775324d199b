"""Turning a plan into SQL for one dialect with sqlglot (identifiers quoted only where needed)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect

from chatdb_server.prediction.template.joins import Edge, JoinGraph
from chatdb_server.prediction.template.plan import AverageComparison, Condition, Exclusion, Output, Plan
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.typed_sql import comparison, join_operands, period_operand, total_operand

_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: strftime formats of the periods; sqlglot writes them as each dialect's date formatting.
_PERIODS = {"year": "%Y", "month": "%Y-%m"}
_AGGREGATES: dict[str, type[exp.AggFunc]] = {"count": exp.Count, "sum": exp.Sum, "avg": exp.Avg,
                                              "min": exp.Min, "max": exp.Max}

_COMPARISONS: dict[str, type[exp.Binary]] = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, "<": exp.LT,
                                             ">=": exp.GTE, "<=": exp.LTE}


class JoinError(ValueError):
    """The plan's tables cannot be connected along the join graph."""


@lru_cache(maxsize=4096)
def _needs_quotes(name: str, dialect: str) -> bool:
    if not _SIMPLE.fullmatch(name):
        return True
    if dialect == "postgres" and name != name.lower():
        return True
    keywords = SqlglotDialect.get_or_raise(dialect).tokenizer_class.KEYWORDS
    return name.upper() in keywords


def identifier(name: str, dialect: str) -> exp.Identifier:
    """An identifier, quoted when the dialect would misread it bare."""
    return exp.to_identifier(name, quoted=_needs_quotes(name, dialect))


def _table(table: TableEntry, alias: str | None, dialect: str) -> exp.Table:
    parts = table.name.split(".")
    node = exp.Table(this=identifier(parts[-1], dialect),
                     db=identifier(parts[-2], dialect) if len(parts) > 1 else None)
    if alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return node


class _Scope:
    """Aliases of the tables of one SELECT."""

    def __init__(self, tables: list[TableEntry], dialect: str) -> None:
        self.dialect = dialect
        self.aliases = {id(t): f"T{i + 1}" for i, t in enumerate(tables)} if len(tables) > 1 else {}

    def column(self, column: ColumnEntry) -> exp.Column:
        alias = self.aliases.get(id(column.table))
        return exp.Column(this=identifier(column.name, self.dialect),
                          table=exp.to_identifier(alias) if alias else None)

    def output(self, output: Output) -> exp.Expression:
        if output.period is not None and output.column is not None:
            date = period_operand(output.column, self.column(output.column), self.dialect)
            return exp.TimeToStr(this=date, format=exp.Literal.string(_PERIODS[output.period]))
        if output.aggregate is None:
            if output.column is None:
                return exp.Star()
            return self.column(output.column)
        inner: exp.Expression = exp.Star() if output.column is None else self.column(output.column)
        if output.column is not None and output.aggregate in ("sum", "avg"):
            inner = total_operand(output.column, inner, self.dialect)
        if output.distinct:
            inner = exp.Distinct(expressions=[inner])
        return cast(exp.Expression, _AGGREGATES[output.aggregate](this=inner))

    def condition(self, condition: Condition) -> exp.Expression:
        left = self.output(Output(condition.column, condition.aggregate))
        op = condition.operator
        if op == "is not null":
            return exp.Not(this=exp.Is(this=left, expression=exp.Null()))
        typed = condition.column if condition.aggregate is None else None
        left, values = comparison(typed, left, condition.values, op, self.dialect)
        if op == "between":
            return exp.Between(this=left, low=values[0], high=values[1])
        if op in ("like", "not like"):
            like = exp.Like(this=left, expression=values[0])
            return exp.Not(this=like) if op == "not like" else like
        return cast(exp.Expression, _COMPARISONS[op](this=left, expression=values[0]))


def _natural_nulls_first(dialect: str, descending: bool) -> bool:
    """The dialect's own NULL placement, so no NULLS FIRST/LAST clause is written."""
    ordering = SqlglotDialect.get_or_raise(dialect).NULL_ORDERING
    if ordering == "nulls_are_last":
        return False
    return (ordering == "nulls_are_small") == (not descending)


def _from_and_joins(select: exp.Select, tables: list[TableEntry], edges: list[Edge], scope: _Scope) -> exp.Select:
    select = select.from_(_table(tables[0], scope.aliases.get(id(tables[0])), scope.dialect))
    for edge in edges:
        on: exp.Expression | None = None
        for left, right in zip(edge.left_columns, edge.right_columns, strict=True):
            operands = join_operands(left, right, scope.column(left), scope.column(right), scope.dialect)
            eq = exp.EQ(this=operands[0], expression=operands[1])
            on = eq if on is None else exp.And(this=on, expression=eq)
        select = select.join(_table(edge.right, scope.aliases.get(id(edge.right)), scope.dialect), on=on)
    return select


def _combine(conditions: list[exp.Expression], use_or: bool) -> exp.Expression | None:
    if not conditions:
        return None
    out = conditions[0]
    for condition in conditions[1:]:
        out = exp.Or(this=out, expression=condition) if use_or else exp.And(this=out, expression=condition)
    return out


def _exclusion(exclusion: Exclusion, graph: JoinGraph, outer: _Scope, dialect: str) -> exp.Expression:
    connected = graph.connect(exclusion.tables[0], exclusion.tables[1:])
    if connected is None:
        raise JoinError("cannot connect the tables of an exclusion")
    tables, edges = connected
    scope = _Scope(tables, dialect)
    key, link = join_operands(exclusion.key, exclusion.link, outer.column(exclusion.key),
                              scope.column(exclusion.link), dialect)
    inner = _from_and_joins(exp.select(link), tables, edges, scope)
    where = _combine([scope.condition(c) for c in exclusion.conditions], use_or=False)
    if where is not None:
        inner = inner.where(where)
    return exp.Not(this=exp.In(this=key, query=exp.Subquery(this=inner)))


def _average(compared: AverageComparison, outer: _Scope) -> exp.Expression:
    """``column op (SELECT AVG(column) FROM its table)``."""
    scope = _Scope([compared.column.table], outer.dialect)
    column = compared.column
    average = exp.select(exp.Avg(this=total_operand(column, scope.column(column), outer.dialect))).from_(
        _table(column.table, None, outer.dialect))
    left = total_operand(column, outer.column(column), outer.dialect)
    return cast(exp.Expression, _COMPARISONS[compared.operator](this=left, expression=exp.Subquery(this=average)))


def _select(plan: Plan, conditions: list[Condition], graph: JoinGraph, dialect: str) -> tuple[exp.Select, _Scope]:
    """The SELECT of a plan with the given row filters, without ORDER BY and LIMIT."""
    connected = graph.connect(plan.subject, [t for t in plan.tables if t is not plan.subject])
    if connected is None:
        raise JoinError("no join path connects " + ", ".join(t.name for t in plan.tables))
    tables, edges = connected
    scope = _Scope(tables, dialect)
    select = exp.select(*[scope.output(o) for o in plan.outputs])
    if plan.distinct:
        select.set("distinct", exp.Distinct())
    select = _from_and_joins(select, tables, edges, scope)
    where = _combine([scope.condition(c) for c in conditions], plan.any_condition)
    extra = [_exclusion(e, graph, scope, dialect) for e in plan.exclusions]
    extra += [_average(c, scope) for c in plan.average_comparisons]
    if plan.any_condition and where is not None and extra:
        where = exp.Paren(this=where)
    combined = _combine(([where] if where is not None else []) + extra, use_or=False)
    if combined is not None:
        select = select.where(combined)
    if plan.group_by or plan.periods:
        select = select.group_by(*[scope.output(o) for o in plan.periods], *[scope.column(c) for c in plan.group_by])
    having = _combine([scope.condition(c) for c in plan.having], use_or=False)
    if having is not None:
        select = select.having(having)
    return select, scope


def _intersection(first: exp.Select, second: exp.Select, dialect: str) -> exp.Expression:
    """INTERSECT, or for MySQL (no INTERSECT before 8.0.31) ``DISTINCT ... WHERE (outputs) IN (second)``."""
    if dialect != "mysql":
        return exp.Intersect(this=first, expression=second, distinct=True)
    outputs = [e.copy() for e in first.expressions]
    key: exp.Expression = outputs[0] if len(outputs) == 1 else exp.Tuple(expressions=outputs)
    first.set("distinct", exp.Distinct())
    return first.where(exp.In(this=key, query=exp.Subquery(this=second)))


def build_sql(plan: Plan, graph: JoinGraph, dialect: str) -> str:
    """SQL text of a plan in the dialect (a sqlglot dialect name)."""
    select, scope = _select(plan, plan.conditions, graph, dialect)
    if plan.intersect_with is not None:
        second, _ = _select(plan, plan.intersect_with, graph, dialect)
        return _intersection(select, second, dialect).sql(dialect=dialect)
    for ordering in plan.order:
        select = select.order_by(exp.Ordered(this=scope.output(ordering.expression), desc=ordering.descending,
                                             nulls_first=_natural_nulls_first(dialect, ordering.descending)))
    if plan.limit is not None:
        select = select.limit(plan.limit)
    return select.sql(dialect=dialect)
