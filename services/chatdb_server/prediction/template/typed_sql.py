"""Expressions that respect column types on every dialect.

SQLite converts between text and numbers as a comparison needs; PostgreSQL refuses
``text = integer``, ``sum(text)``, ``to_char(text, …)`` and ``integer ~~ text``. Each helper
writes what SQLite means in a form the stricter dialect accepts: a literal in its column's type,
a cast where the data allows it, a join of a number with text compared as text.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlglot import exp

from chatdb_server.prediction.template.plan import Literal_
from chatdb_server.prediction.template.schema_index import ColumnEntry

TypeClass = Literal["text", "number", "date", "other"]

_TEXT_TYPES = ("char", "text", "clob", "string")
_NUMBER_TYPES = ("int", "real", "float", "double", "decimal", "numeric", "number", "money", "serial")
_DATE_TYPES = ("date", "time")
_TIMESTAMP_TYPES = ("date", "timestamp")
_POSTGRES = "postgres"
#: Text PostgreSQL can cast to a number (a SQLite total reads the rest as 0; it is left out here).
_NUMBER_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_YEAR = re.compile(r"[12][0-9]{3}")


def type_class(column: ColumnEntry) -> TypeClass:
    """The column's declared type, coarsely ("other" when nothing is declared)."""
    declared = column.info.data_type.lower()
    if any(t in declared for t in _DATE_TYPES):
        return "date"
    if any(t in declared for t in _NUMBER_TYPES):
        return "number"
    if any(t in declared for t in _TEXT_TYPES):
        return "text"
    return "other"


def _as_text(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, exp.DataType.Type.TEXT)


def total_operand(column: ColumnEntry, expression: exp.Expression, dialect: str) -> exp.Expression:
    """The argument of SUM or AVG: on PostgreSQL, text holding numbers is cast (what is no number is left
    out) and a date or time counts in seconds since 1970."""
    if dialect == _POSTGRES and type_class(column) == "date":
        return exp.Extract(this=exp.var("EPOCH"), expression=expression)
    if dialect != _POSTGRES or type_class(column) != "text":
        return expression
    numeric = exp.Case(ifs=[exp.If(this=exp.RegexpLike(this=expression.copy(),
                                                       expression=exp.Literal.string(_NUMBER_PATTERN)),
                                   true=expression)])
    return exp.cast(numeric, exp.DataType.Type.DOUBLE)


def period_operand(column: ColumnEntry, expression: exp.Expression, dialect: str) -> exp.Expression:
    """The date a period is taken of: on PostgreSQL, a date held as text is cast to a timestamp first."""
    if dialect == _POSTGRES and type_class(column) in ("text", "other"):
        return exp.cast(expression, exp.DataType.Type.TIMESTAMP)
    return expression


def comparison(column: ColumnEntry | None, left: exp.Expression, values: tuple[Literal_, ...], operator: str,
               dialect: str) -> tuple[exp.Expression, list[exp.Expression]]:
    """The left side and the literals of ``column <operator> values``, in types the dialect compares.

    A number against a text column is written as text (what SQLite does with it); text that is no
    number against a number or date column, a LIKE on one, and a non-year number against a date
    compare the column as text; a year against a date column compares the date's year."""
    literals = [_literal(v) for v in values]
    if column is None:
        return left, literals
    kind = type_class(column)
    numbers = all(isinstance(v, int | float) for v in values)
    if kind == "text" and numbers:
        return left, [exp.Literal.string(_number_text(v)) for v in values]
    if dialect == "sqlite" or kind not in ("number", "date"):
        return left, literals
    if operator in ("like", "not like") and dialect == _POSTGRES:
        return _as_text(left), literals
    if kind == "date" and numbers and all(_YEAR.fullmatch(_number_text(v)) for v in values):
        return exp.Year(this=left), literals
    if (kind == "date" and numbers) or (kind == "number" and not all(_is_number(v) for v in values)):
        return _as_text(left), [exp.Literal.string(_number_text(v)) for v in values]
    return left, literals


def join_operands(left: ColumnEntry, right: ColumnEntry, left_expression: exp.Expression,
                  right_expression: exp.Expression, dialect: str) -> tuple[exp.Expression, exp.Expression]:
    """Join columns of a number and a text type compare as text outside SQLite (which converts itself)."""
    kinds = {type_class(left), type_class(right)}
    if dialect == "sqlite" or "text" not in kinds or not kinds & {"number", "date"}:
        return left_expression, right_expression
    return (left_expression if type_class(left) == "text" else _as_text(left_expression),
            right_expression if type_class(right) == "text" else _as_text(right_expression))


def _is_number(value: Literal_) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _number_text(value: Literal_) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _literal(value: Literal_) -> exp.Expression:
    if isinstance(value, int | float):
        return exp.Literal.number(_number_text(value))
    return exp.Literal.string(value)
