"""A grammar of SELECT statements over one schema, for schema-constrained decoding.

Built per request from the SchemaContext, so a constrained model can only write a
statement that parses and names tables and columns that exist. The grammar is kept
as data (rules of literals, rule references, character sets and bounded repeats):
rendered as EBNF for the decoding engine (xgrammar / llguidance accept it), and
walkable in Python, which is how tests prove every sentence it allows is valid SQL.
Repeats are bounded so every sentence ends within a predictable token budget.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect

from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect


@dataclass(frozen=True)
class Lit:
    """Literal text."""

    text: str


@dataclass(frozen=True)
class Ref:
    """Another rule."""

    rule: str


@dataclass(frozen=True)
class Chars:
    """One character out of a set."""

    allowed: str


@dataclass(frozen=True)
class Repeat:
    """``symbol`` between ``low`` and ``high`` times."""

    symbol: Symbol
    low: int
    high: int


Symbol = Lit | Ref | Chars | Repeat
Alternative = tuple[Symbol, ...]

MAX_SELECT_ITEMS = 4
MAX_CONDITIONS = 3
MAX_STRING_CHARS = 24
MAX_SAMPLE_VALUES = 8
DIGITS = string.digits
STRING_CHARS = string.ascii_letters + string.digits + " %_-.,"
_SIMPLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SelectGrammar:
    """Rules of the SELECT statements allowed over one schema; ``root`` is the start rule."""

    def __init__(self, rules: dict[str, list[Alternative]]) -> None:
        self.rules = rules

    def to_ebnf(self) -> str:
        """The grammar in the EBNF (GBNF) dialect of xgrammar and llguidance."""
        return "\n".join(f"{name} ::= " + " | ".join(_render_alternative(alt) for alt in alternatives)
                         for name, alternatives in self.rules.items()) + "\n"

    def sample(self, rng: random.Random, rule: str = "root") -> str:
        """One random sentence of the grammar."""
        return "".join(self._expand(Ref(rule), rng))

    def _expand(self, symbol: Symbol, rng: random.Random) -> list[str]:
        if isinstance(symbol, Lit):
            return [symbol.text]
        if isinstance(symbol, Chars):
            return [rng.choice(symbol.allowed)]
        if isinstance(symbol, Repeat):
            out: list[str] = []
            for _ in range(rng.randint(symbol.low, symbol.high)):
                out.extend(self._expand(symbol.symbol, rng))
            return out
        pieces: list[str] = []
        for part in rng.choice(self.rules[symbol.rule]):
            pieces.extend(self._expand(part, rng))
        return pieces


def quote_identifier(name: str, dialect: Dialect) -> str:
    """``name`` as the dialect writes it, quoted when it is not a plain word or is a keyword."""
    quoted = not _SIMPLE_NAME.match(name) or name.upper() in _keyword_words(dialect)
    return exp.to_identifier(name, quoted=quoted).sql(dialect=dialect.value)


@functools.cache
def _keyword_words(dialect: Dialect) -> frozenset[str]:
    """Every word of the dialect's keywords ("ORDER BY" gives ORDER and BY): names to quote."""
    keywords = SqlglotDialect.get_or_raise(dialect.value).tokenizer_class.KEYWORDS
    return frozenset(word for phrase in keywords for word in phrase.split())


def quote_table(name: str, dialect: Dialect) -> str:
    """A table name, schema-qualified ("sales.orders") names quoted part by part."""
    return ".".join(quote_identifier(part, dialect) for part in name.split("."))


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def build_select_grammar(schema: SchemaContext, dialect: Dialect) -> SelectGrammar:
    """The grammar of SELECT statements over ``schema``'s tables, columns, joins and sample values."""
    tables = {t.name: quote_table(t.name, dialect) for t in schema.tables}
    qualified = [f"{tables[t.name]}.{quote_identifier(c.name, dialect)}" for t in schema.tables for c in t.columns]
    bare = sorted({quote_identifier(c.name, dialect) for t in schema.tables for c in t.columns})
    samples = sorted({v for t in schema.tables for c in t.columns for v in c.sample_values[:MAX_SAMPLE_VALUES]
                      if "\n" not in v})
    sources: list[Alternative] = [(Ref("table"),)]
    for join in schema.joins:
        if join.from_table not in tables or join.to_table not in tables:
            continue
        on: list[Symbol] = []
        for index, (left, right) in enumerate(zip(join.from_columns, join.to_columns, strict=False)):
            on.append(Lit((" AND " if index else "") + f"{tables[join.from_table]}.{quote_identifier(left, dialect)}"
                          f" = {tables[join.to_table]}.{quote_identifier(right, dialect)}"))
        sources.append((Lit(f"{tables[join.from_table]} JOIN {tables[join.to_table]} ON "), *on))

    separator = Lit(", ")
    rules: dict[str, list[Alternative]] = {
        "root": [(Lit("SELECT "), Repeat(Lit("DISTINCT "), 0, 1), Ref("items"), Lit(" FROM "), Ref("source"),
                  Repeat(Ref("where"), 0, 1), Repeat(Ref("group"), 0, 1), Repeat(Ref("order"), 0, 1),
                  Repeat(Ref("limit"), 0, 1))],
        "items": [(Lit("*"),), (Ref("item"), Repeat(Ref("more_items"), 0, MAX_SELECT_ITEMS - 1))],
        "more_items": [(separator, Ref("item"))],
        "item": [(Ref("column"),), (Ref("aggregate"),)],
        "aggregate": [(Lit("COUNT(*)"),), (Lit("COUNT(DISTINCT "), Ref("column"), Lit(")")),
                      (Ref("function"), Lit("("), Ref("column"), Lit(")"))],
        "function": [(Lit(name),) for name in ("COUNT", "SUM", "AVG", "MIN", "MAX")],
        "column": [(Lit(name),) for name in [*qualified, *bare]],
        "table": [(Lit(name),) for name in tables.values()],
        "source": sources,
        "where": [(Lit(" WHERE "), Ref("condition"), Repeat(Ref("more_conditions"), 0, MAX_CONDITIONS - 1))],
        "more_conditions": [(Lit(" AND "), Ref("condition")), (Lit(" OR "), Ref("condition"))],
        "condition": [(Ref("column"), Ref("comparison"), Ref("value")),
                      (Ref("column"), Lit(" LIKE "), Ref("string")),
                      (Ref("column"), Lit(" IS NULL"),), (Ref("column"), Lit(" IS NOT NULL"))],
        "comparison": [(Lit(f" {op} "),) for op in ("=", "!=", "<", ">", "<=", ">=")],
        "value": [(Ref("number"),), (Ref("string"),)],
        "number": [(Repeat(Lit("-"), 0, 1), Repeat(Chars(DIGITS), 1, 6),
                    Repeat(Ref("fraction"), 0, 1))],
        "fraction": [(Lit("."), Repeat(Chars(DIGITS), 1, 2))],
        "string": [(Lit("'"), Repeat(Chars(STRING_CHARS), 0, MAX_STRING_CHARS), Lit("'")),
                   *[(Lit(sql_string(v)),) for v in samples]],
        "group": [(Lit(" GROUP BY "), Ref("column"), Repeat(Ref("more_columns"), 0, 1))],
        "more_columns": [(separator, Ref("column"))],
        "order": [(Lit(" ORDER BY "), Ref("order_item"), Repeat(Ref("more_order"), 0, 1))],
        "more_order": [(separator, Ref("order_item"))],
        "order_item": [(Ref("item"), Repeat(Ref("direction"), 0, 1))],
        "direction": [(Lit(" ASC"),), (Lit(" DESC"),)],
        "limit": [(Lit(" LIMIT "), Chars(DIGITS[1:]), Repeat(Chars(DIGITS), 0, 2))],
    }
    return SelectGrammar(rules)


def _render_alternative(alternative: Alternative) -> str:
    return " ".join(_render_symbol(symbol) for symbol in alternative)


def _render_symbol(symbol: Symbol) -> str:
    if isinstance(symbol, Lit):
        return '"' + symbol.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(symbol, Ref):
        return symbol.rule
    if isinstance(symbol, Chars):
        return "[" + "".join("\\" + c if c in "\\]-^[" else c for c in symbol.allowed) + "]"
    inner = _render_symbol(symbol.symbol)
    return f"({inner}){{{symbol.low},{symbol.high}}}"
