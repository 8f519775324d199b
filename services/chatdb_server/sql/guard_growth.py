"""Allowed functions whose result can be far larger than their input, and the arguments they may take.

Three rows were enough to make a server's memory grow from 277 MB to 2 GB:
``format('%100000000s', name)`` (PostgreSQL) pads every value to 100 MB, ``printf('%.*c',
10000000, 'x')`` (SQLite) repeats a character ten million times. The guard therefore looks at the
arguments of the allowed functions that can enlarge text:

* ``format`` / ``printf``: the format must be a string literal, and every width and precision a
  number of at most :data:`MAX_FORMAT_WIDTH` (``*``, which takes it from an argument, is refused);
* ``replace`` / ``regexp_replace``: the replacement must be a string literal of at most
  :data:`MAX_REPLACEMENT_CHARS` characters;
* functions that enlarge what they are given (``hex`` and ``quote`` double it, a ``replace``
  multiplies it by its replacement's length over its search's, a ``regexp_replace`` by one plus
  its replacement's length, since its pattern may match between any two characters) may be nested
  only as long as together they make a value at most :data:`MAX_GROWTH` times larger:
  ``hex(hex(hex(...)))`` doubles per level.

``repeat``, ``lpad``/``rpad``, ``space``, ``generate_series``, ``zeroblob`` and ``randomblob`` are
not on any allow-list, so they are refused without being named here. What these rules cannot
see — values multiplied through a chain of CTEs or subqueries — is bounded by the databases (the
statement timeout, PostgreSQL's 1 GB per value, MySQL's ``max_allowed_packet``) and, after
fetching, by the reply's byte caps.
"""

from __future__ import annotations

import re

from sqlglot import exp

MAX_FORMAT_WIDTH = 1_000
MAX_REPLACEMENT_CHARS = 100
MAX_GROWTH = 16

_FORMAT_FUNCTIONS = frozenset({"printf", "format"})
_ENLARGING_ANONYMOUS = frozenset({"quote"})
"""Functions sqlglot does not type that double what they are given (``hex`` it types)."""
_SPECIFIER = re.compile(r"%%|%(?:\d+\$)?[-+ #0,!']*(?P<width>\*(?:\d+\$)?|\d+)?"
                        r"(?:\.(?P<precision>\*(?:\d+\$)?|\d*))?[a-zA-Z]?")
"""A conversion of printf (SQLite) or format (PostgreSQL): position, flags, width, precision, type."""


def growth_problem(node: exp.Func) -> str | None:
    """Why the call ``node`` (an allowed function) could build a value far larger than its input; None when
    it cannot."""
    if _is_format(node):
        return _format_problem(node)
    if isinstance(node, exp.Replace | exp.RegexpReplace):
        problem = _replacement_problem(node)
        if problem:
            return problem
    if growth_factor(node) > 1:
        growth = _nested_growth(node)
        if growth > MAX_GROWTH:
            return (f"{_name(node)}() and the functions nested in it can make a value {growth:g} times larger "
                    f"than its input; at most {MAX_GROWTH} times is allowed")
    return None


def growth_factor(node: exp.Expr) -> float:
    """How many times larger than its argument the call's value can be (1 for calls that do not enlarge)."""
    if isinstance(node, exp.Hex) or (isinstance(node, exp.Anonymous) and node.name.lower() in _ENLARGING_ANONYMOUS):
        return 2.0
    if isinstance(node, exp.RegexpReplace):
        return 1.0 + len(_literal_text(node.args.get("replacement")) or "")
    if isinstance(node, exp.Replace):
        search = _literal_text(node.args.get("expression"))
        replacement = len(_literal_text(node.args.get("replacement")) or "")
        if search is None:
            return float(max(1, replacement))
        return max(1.0, replacement / len(search)) if search else 1.0
    return 1.0


def _nested_growth(node: exp.Expr) -> float:
    """The factor of ``node`` times the largest factor of the enlarging calls nested in its arguments."""
    inner = 1.0
    stack = list(node.iter_expressions())
    while stack:
        child = stack.pop()
        if growth_factor(child) > 1:
            inner = max(inner, _nested_growth(child))
        else:
            stack.extend(child.iter_expressions())
    return growth_factor(node) * inner


def _is_format(node: exp.Func) -> bool:
    if isinstance(node, exp.Format):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _FORMAT_FUNCTIONS


def _format_problem(node: exp.Func) -> str | None:
    template = node.this if isinstance(node, exp.Format) else (node.expressions or [None])[0]
    text = _literal_text(template)
    name = _name(node)
    if text is None:
        return f"the format of {name}() must be a string literal"
    for specifier in _SPECIFIER.finditer(text):
        for part in ("width", "precision"):
            value = specifier.group(part) if specifier.group(0) != "%%" else None
            if not value:
                continue
            if value.startswith("*"):
                return f"{name}() may not take a {part} from its arguments ('*' in {specifier.group(0)!r})"
            if int(value) > MAX_FORMAT_WIDTH:
                return (f"{name}() {part} {int(value):,} in {specifier.group(0)!r} is larger than "
                        f"{MAX_FORMAT_WIDTH:,}")
    return None


def _replacement_problem(node: exp.Replace | exp.RegexpReplace) -> str | None:
    replacement = node.args.get("replacement")
    if replacement is None or isinstance(replacement, exp.Null):
        return None
    text = _literal_text(replacement)
    name = _name(node)
    if text is None:
        return f"the replacement of {name}() must be a string literal"
    if len(text) > MAX_REPLACEMENT_CHARS:
        return (f"the replacement of {name}() is {len(text):,} characters long; at most {MAX_REPLACEMENT_CHARS} "
                "are allowed")
    return None


def _literal_text(node: object) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    return None


def _name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql_name().lower()
