"""How large and how deeply nested SQL may be before the guard parses it.

sqlglot parses by recursive descent and checks names through scopes whose cost grows faster than
the text: 99,000 characters of ``WHERE id = 0 OR id = 1 OR ...`` took 14 to 27 s to check, and a
thousand nested parentheses (or 400 nested ``IN (SELECT ...)``) ran out of Python's stack. So the
SQL is tokenized first, in its dialect, and refused cheaply when it has more tokens than
``max_sql_tokens`` or nests brackets and ``CASE ... END`` deeper than ``max_sql_depth``. Within
those limits a check costs at most about two seconds (a 10,000-token ``OR`` chain, the worst
shape measured on 2 cores) and stays well inside the recursion limit, also where the SQL is
parsed again later (the result cache, the caller's policies). What still runs out of stack or
time is refused the same way (:data:`SQL_TOO_COMPLEX`), never an unexpected error.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.tokens import Token, TokenType

from chatdb_server.sql.dsn import Dialect

SQL_TOO_COMPLEX = "SQL_TOO_COMPLEX"

DEFAULT_MAX_TOKENS = 10_000
DEFAULT_MAX_DEPTH = 24

_OPENING = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE})
_CLOSING = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END})


@dataclass(frozen=True)
class SqlLimits:
    """The size and nesting the guard accepts, and the names of the settings that set them."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    max_depth: int = DEFAULT_MAX_DEPTH


@dataclass(frozen=True)
class Shape:
    """How large SQL is: its tokens, and how deeply brackets and CASE expressions nest."""

    tokens: int
    depth: int


def tokenize(sql: str, dialect: Dialect) -> list[Token]:
    """The SQL's tokens as the dialect's parser reads them; sqlglot's TokenError when it cannot be read."""
    return SqlglotDialect.get_or_raise(dialect.value).tokenize(sql)


def shape(tokens: list[Token]) -> Shape:
    """The size and the deepest nesting of ``tokens``."""
    depth = deepest = 0
    for token in tokens:
        kind = token.token_type
        if kind in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif kind in _CLOSING:
            depth = max(depth - 1, 0)
    return Shape(len(tokens), deepest)


def too_large(found: Shape, limits: SqlLimits) -> str | None:
    """Why SQL of this shape is refused before parsing; None when it is within the limits."""
    if found.tokens > limits.max_tokens:
        return (f"the SQL has {found.tokens:,} tokens; at most {limits.max_tokens:,} are checked "
                "(max_sql_tokens): split it or shorten long lists")
    if found.depth > limits.max_depth:
        return (f"the SQL nests brackets and CASE expressions {found.depth} deep; at most {limits.max_depth} "
                "levels are checked (max_sql_depth): flatten it, e.g. with a WITH clause")
    return None


def too_deep_message(limits: SqlLimits) -> str:
    """The refusal of SQL that ran out of stack while being checked within the limits."""
    return (f"the SQL nests too deeply to be checked (max_sql_depth is {limits.max_depth}, counting brackets "
            "and CASE expressions): flatten it, e.g. with a WITH clause")
