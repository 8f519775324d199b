"""A PromQL syntax check for the expressions in k8s/ (alerts, the dashboard, autoscaling queries).

A recursive-descent parser of the PromQL grammar (selectors and matchers, ranges, subqueries,
offsets, functions, aggregations with ``by``/``without``, binary operators with ``bool``,
``on``/``ignoring`` and ``group_left``/``group_right``), with the little type checking that
catches real mistakes: a function that needs a range (``rate(x)`` instead of ``rate(x[5m])``),
an aggregation or operator applied to a range, an unknown function. It collects the metric
names an expression reads, so a test can hold them to the names ChatDB exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SCALAR, STRING, VECTOR, MATRIX = "scalar", "string", "instant vector", "range vector"
DURATION = r"(?:\d+(?:ms|[smhdwy]))+"
_TOKEN = re.compile(rf"""
    (?P<space>\s+)
  | (?P<duration>{DURATION}(?!\w))
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<name>[a-zA-Z_][\w:]*)
  | (?P<op>=~|!~|==|!=|<=|>=|[-+*/%^<>=(){{}}\[\],:@])
""", re.VERBOSE)

AGGREGATIONS = {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
                "count_values", "limitk", "limit_ratio"}
_AGGREGATION_PARAMETER = {"topk": SCALAR, "bottomk": SCALAR, "quantile": SCALAR, "limitk": SCALAR,
                          "limit_ratio": SCALAR, "count_values": STRING}
_RANGE = (MATRIX,)
_INSTANT = (VECTOR,)
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # name: (argument types, a trailing "..." meaning the last type listed may repeat or be left out), result
    **{name: (_RANGE, VECTOR) for name in (
        "rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "avg_over_time",
        "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "stddev_over_time",
        "stdvar_over_time", "last_over_time", "present_over_time", "absent_over_time", "mad_over_time")},
    **{name: (_INSTANT, VECTOR) for name in (
        "abs", "absent", "ceil", "exp", "floor", "ln", "log2", "log10", "sqrt", "sgn", "sort", "sort_desc",
        "timestamp", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan",
        "tanh", "deg", "rad", "histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev",
        "histogram_stdvar")},
    **{name: ((VECTOR, "..."), VECTOR) for name in (
        "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year")},
    "histogram_quantile": ((SCALAR, VECTOR), VECTOR),
    "histogram_fraction": ((SCALAR, SCALAR, VECTOR), VECTOR),
    "quantile_over_time": ((SCALAR, MATRIX), VECTOR),
    "predict_linear": ((MATRIX, SCALAR), VECTOR),
    "clamp": ((VECTOR, SCALAR, SCALAR), VECTOR),
    "clamp_max": ((VECTOR, SCALAR), VECTOR),
    "clamp_min": ((VECTOR, SCALAR), VECTOR),
    "round": ((VECTOR, SCALAR, "..."), VECTOR),
    "label_replace": ((VECTOR, STRING, STRING, STRING, STRING), VECTOR),
    "label_join": ((VECTOR, STRING, STRING, STRING, "..."), VECTOR),
    "scalar": ((VECTOR,), SCALAR),
    "vector": ((SCALAR,), VECTOR),
    "time": ((), SCALAR),
    "pi": ((), SCALAR),
}
_SET_OPERATORS = {"and", "or", "unless"}
_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3, ">": 3,
               "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}
_MATCH_OPERATORS = {"=", "!=", "=~", "!~"}


class PromQLError(ValueError):
    """The expression is not valid PromQL."""


@dataclass
class Parsed:
    """What an expression reads."""

    kind: str
    metrics: set[str] = field(default_factory=set)


def parse(expression: str) -> Parsed:
    """Check ``expression``; the metric names it reads. PromQLError when it is not valid PromQL."""
    parser = _Parser(expression)
    kind = parser.expression()
    if parser.peek() is not None:
        parser.fail(f"unexpected {parser.peek()!r}")
    return Parsed(kind, parser.metrics)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise PromQLError(f"{text!r}: cannot read {text[position:position + 10]!r}")
            position = match.end()
            if match.lastgroup != "space":
                self.tokens.append((str(match.lastgroup), match.group()))
        self.index = 0
        self.metrics: set[str] = set()

    def fail(self, message: str) -> None:
        raise PromQLError(f"{self.text!r}: {message}")

    def peek(self, ahead: int = 0) -> str | None:
        position = self.index + ahead
        return self.tokens[position][1] if position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            self.fail(f"ends early{f', expected {expected!r}' if expected else ''}")
        token = self.tokens[self.index]
        if expected is not None and token[1] != expected:
            self.fail(f"expected {expected!r}, found {token[1]!r}")
        self.index += 1
        return token

    # --- expressions -------------------------------------------------------------------------------

    def expression(self, lowest: int = 1) -> str:
        left = self.unary()
        while (operator := self.peek()) in _PRECEDENCE and _PRECEDENCE[operator] >= lowest:
            self.take()
            precedence = _PRECEDENCE[operator]
            comparison = precedence == 3
            if comparison and self.peek() == "bool":
                self.take()
            self.vector_matching()
            right = self.expression(precedence if operator == "^" else precedence + 1)
            left = self.combine(operator, left, right, comparison)
        return left

    def combine(self, operator: str, left: str, right: str, comparison: bool) -> str:
        if MATRIX in (left, right) or STRING in (left, right):
            self.fail(f"{operator!r} cannot take a {MATRIX if MATRIX in (left, right) else STRING}")
        if operator in _SET_OPERATORS and (left, right) != (VECTOR, VECTOR):
            self.fail(f"{operator!r} needs two instant vectors")
        return VECTOR if VECTOR in (left, right) else SCALAR

    def vector_matching(self) -> None:
        if self.peek() in ("on", "ignoring"):
            self.take()
            self.labels()
        if self.peek() in ("group_left", "group_right"):
            self.take()
            if self.peek() == "(":
                self.labels()

    def unary(self) -> str:
        if self.peek() in ("-", "+"):
            self.take()
            kind = self.unary()
            if kind not in (SCALAR, VECTOR):
                self.fail(f"a sign cannot apply to a {kind}")
            return kind
        return self.postfix(self.primary())

    def postfix(self, kind: str) -> str:
        if self.peek() == "[":
            self.take("[")
            self.duration()
            if self.peek() == ":":
                self.take(":")
                if self.peek() != "]":
                    self.duration()
            elif kind != "selector":
                self.fail("a range needs a plain selector (or a subquery's ':')")
            self.take("]")
            kind = MATRIX
        if self.peek() == "offset":
            self.take()
            if self.peek() == "-":
                self.take()
            self.duration()
        return VECTOR if kind == "selector" else kind

    def primary(self) -> str:
        kind, text = self.take()
        if kind == "number" or text in ("Inf", "NaN"):
            return SCALAR
        if kind == "string":
            return STRING
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if text == "{":  # a selector without a metric name: it names none
            self.index -= 1
            self.matchers()
            return "selector"
        if kind != "name":
            self.fail(f"unexpected {text!r}")
        if text in AGGREGATIONS:
            return self.aggregation(text)
        if self.peek() == "(":
            return self.call(text)
        self.metrics.add(text)
        if self.peek() == "{":
            self.matchers()
        return "selector"

    def aggregation(self, name: str) -> str:
        grouped = self.grouping()
        self.take("(")
        parameter = _AGGREGATION_PARAMETER.get(name)
        if parameter is not None:
            if self.expression() != parameter:
                self.fail(f"{name} takes a {parameter} first")
            self.take(",")
        if self.expression() != VECTOR:
            self.fail(f"{name} aggregates an instant vector")
        self.take(")")
        if not grouped:
            self.grouping()
        return VECTOR

    def grouping(self) -> bool:
        if self.peek() in ("by", "without"):
            self.take()
            self.labels()
            return True
        return False

    def call(self, name: str) -> str:
        if name not in FUNCTIONS:
            self.fail(f"unknown function {name}")
        expected, result = FUNCTIONS[name]
        self.take("(")
        given: list[str] = []
        while self.peek() != ")":
            if given:
                self.take(",")
            given.append(self.expression())
        self.take(")")
        if expected and expected[-1] == "...":  # the last type listed may repeat, or be left out
            required = expected[:-2]
            wanted = [*required, *[expected[-2]] * (len(given) - len(required))]
        else:
            wanted = list(expected)
        if len(given) != len(wanted):
            self.fail(f"{name} takes {len(expected)} argument(s), not {len(given)}")
        for position, (kind, wanted_kind) in enumerate(zip(given, wanted, strict=True)):
            if kind != wanted_kind:
                self.fail(f"argument {position + 1} of {name} must be a {wanted_kind}, not a {kind}")
        return result

    # --- pieces --------------------------------------------------------------------------------------

    def labels(self) -> list[str]:
        self.take("(")
        names: list[str] = []
        while self.peek() != ")":
            if names:
                self.take(",")
                if self.peek() == ")":
                    break
            kind, text = self.take()
            if kind != "name":
                self.fail(f"expected a label name, found {text!r}")
            names.append(text)
        self.take(")")
        return names

    def matchers(self) -> list[str]:
        self.take("{")
        names: list[str] = []
        while self.peek() != "}":
            if names:
                self.take(",")
                if self.peek() == "}":
                    break
            kind, text = self.take()
            if kind != "name":
                self.fail(f"expected a label name, found {text!r}")
            operator = self.take()[1]
            if operator not in _MATCH_OPERATORS:
                self.fail(f"{operator!r} is not a label matcher")
            if self.take()[0] != "string":
                self.fail(f"the value of {text} must be a string")
            names.append(text)
        self.take("}")
        return names

    def duration(self) -> None:
        kind, text = self.take()
        if kind != "duration":
            self.fail(f"expected a duration such as 5m, found {text!r}")
