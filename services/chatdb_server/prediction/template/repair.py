"""Repairing SQL a database rejected, from what its error says.

The repair round of an ask hands the generator the failed SQL and the database's message. These
rules fix what a message names precisely, in PostgreSQL's and MariaDB/MySQL's wording:

* a column that must be grouped by (``must appear in the GROUP BY clause``, ``isn't in GROUP BY``,
  ``Mixing of GROUP columns … with no GROUP columns``): every plain selected or sorted column is
  added to the GROUP BY;
* a total of text (``function sum(text) does not exist``): SUM or AVG of text counts instead;
* an operator between mismatched types (``operator does not exist: text = integer``): a number
  literal compared with text becomes text, and other operands of that operator are compared as text;
* a DISTINCT sorted by what it does not select (``for SELECT DISTINCT, ORDER BY expressions must
  appear in select list``): the sort keys are selected too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp

_GROUP_BY = re.compile(r"must appear in the GROUP BY clause|isn't in GROUP BY|is not in GROUP BY|"
                       r"Mixing of GROUP columns|contains nonaggregated column", re.IGNORECASE)
_TOTAL_OF_TEXT = re.compile(r"function (sum|avg)\((?:text|character varying|character|varchar|bpchar)\) "
                            r"does not exist", re.IGNORECASE)
_OPERATOR = re.compile(r"operator does not exist: ([a-z ]+?) (=|<>|!=|<|>|<=|>=|~~|!~~) ([a-z ]+?)(?:$|\s*\n|\s+HINT)",
                       re.IGNORECASE)
_DISTINCT_ORDER = re.compile(r"for SELECT DISTINCT, ORDER BY expressions must appear in select list", re.IGNORECASE)
_TEXT_TYPES = ("text", "character varying", "character", "varchar", "bpchar", "unknown")
_OPERATOR_NODES: dict[str, tuple[type[exp.Expression], ...]] = {
    "=": (exp.EQ,), "<>": (exp.NEQ,), "!=": (exp.NEQ,), "<": (exp.LT,), ">": (exp.GT,), "<=": (exp.LTE,),
    ">=": (exp.GTE,), "~~": (exp.Like,), "!~~": (exp.Like,)}


@dataclass(frozen=True)
class Repair:
    """A rewritten query and the rule that wrote it."""

    sql: str
    rule: str


def repair_sql(sql: str, error: str, dialect: str) -> Repair | None:
    """The query fixed for the error, or None when no rule applies (or the fix changes nothing)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    for rule, matches, fix in _RULES:
        found = matches(error)
        if found is None:
            continue
        fixed = fix(cast(exp.Expression, tree.copy()), found)
        if fixed is not None:
            text = fixed.sql(dialect=dialect)
            if text != sql and text != tree.sql(dialect=dialect):
                return Repair(text, rule)
    return None


def _is_aggregate(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc) or node.find(exp.AggFunc) is not None


def _group_plain_columns(tree: exp.Expression, _: re.Match[str]) -> exp.Expression | None:
    changed = False
    for select in tree.find_all(exp.Select):
        plain = [e.unalias() for e in select.expressions
                 if not _is_aggregate(e) and not isinstance(e.unalias(), exp.Star)]
        order = select.args.get("order")
        if order is not None:
            plain += [o.this for o in order.expressions if not _is_aggregate(o.this)]
        aggregating = (any(_is_aggregate(e) for e in select.expressions) or select.args.get("having") is not None
                       or (order is not None and any(_is_aggregate(o) for o in order.expressions)))
        group = select.args.get("group")
        grouped = {g.sql() for g in group.expressions} if group is not None else set()
        if not (aggregating or group is not None):
            continue
        missing = [p for p in plain if p.sql() not in grouped and not isinstance(p, exp.Literal)]
        missing = list({p.sql(): p for p in missing}.values())
        if missing:
            select.group_by(*[m.copy() for m in missing], copy=False)
            changed = True
    return tree if changed else None


def _count_text_totals(tree: exp.Expression, found: re.Match[str]) -> exp.Expression | None:
    wanted = exp.Sum if found.group(1).lower() == "sum" else exp.Avg
    totals = [n for n in tree.find_all(wanted) if isinstance(n.this, exp.Column | exp.Distinct)]
    for node in totals:
        node.replace(exp.Count(this=node.this.copy()))
    return tree if totals else None


def _compare_as_text(tree: exp.Expression, found: re.Match[str]) -> exp.Expression | None:
    left_type, operator, right_type = (g.strip().lower() for g in found.groups())
    nodes = [n for n in tree.find_all(*_OPERATOR_NODES.get(operator, ())) if isinstance(n, exp.Binary)]
    changed = False
    for node in nodes:
        for side, other_type in (("this", right_type), ("expression", left_type)):
            operand = node.args.get(side)
            if isinstance(operand, exp.Literal) and not operand.is_string and other_type in _TEXT_TYPES:
                node.set(side, exp.Literal.string(operand.this))
                changed = True
        left, right = node.this, node.expression
        if not (isinstance(left, exp.Literal) or isinstance(right, exp.Literal)) or operator in ("~~", "!~~"):
            for side, its_type in (("this", left_type), ("expression", right_type)):
                operand = node.args.get(side)
                if its_type not in _TEXT_TYPES and isinstance(operand, exp.Expression) and not isinstance(
                        operand, exp.Literal):
                    node.set(side, exp.cast(operand, exp.DataType.Type.TEXT))
                    changed = True
    return tree if changed else None


def _select_sorted_columns(tree: exp.Expression, _: re.Match[str]) -> exp.Expression | None:
    changed = False
    for select in tree.find_all(exp.Select):
        order = select.args.get("order")
        if not select.args.get("distinct") or order is None:
            continue
        shown = {e.unalias().sql() for e in select.expressions}
        for ordered in order.expressions:
            if ordered.this.sql() not in shown:
                select.select(ordered.this.copy(), copy=False)
                shown.add(ordered.this.sql())
                changed = True
    return tree if changed else None


_Fix = Callable[[exp.Expression, re.Match[str]], exp.Expression | None]
_Rule = tuple[str, Callable[[str], re.Match[str] | None], _Fix]
_RULES: tuple[_Rule, ...] = (
    ("repair-group-by", _GROUP_BY.search, _group_plain_columns),
    ("repair-text-total", _TOTAL_OF_TEXT.search, _count_text_totals),
    ("repair-operator-types", _OPERATOR.search, _compare_as_text),
    ("repair-distinct-order", _DISTINCT_ORDER.search, _select_sorted_columns),
)
