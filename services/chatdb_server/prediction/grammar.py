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

MAX_SELECT_ITEMS = 8
MAX_CONDITIONS = 4
MAX_ARITHMETIC = 2
"""Operators in one expression (``a - b``, ``SUM(a) / COUNT(*) * 100``)."""
MAX_JOINS = 4
MAX_SET_OPERATIONS = 2
MAX_LIST_VALUES = 10
MAX_GROUP_COLUMNS = 3
MAX_ORDER_ITEMS = 3
MAX_NESTING = 2
"""Levels of subquery below the statement (``WHERE a > (SELECT ... WHERE b IN (SELECT ...))``)."""
MAX_STRING_CHARS = 48
SAMPLE_DEPTH = 12
MAX_SAMPLE_VALUES = 8
FUNCTIONS = ("COUNT", "SUM", "AVG", "MIN", "MAX")
DIGITS = string.digits
STRING_CHARS = "".join(c for c in string.printable if c not in "'\\\t\n\r\x0b\x0c")
"""What a string literal may hold besides a doubled quote: no quote, backslash or line break, so a
literal can neither end early nor escape differently per dialect."""
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
        """One random sentence of the grammar, short ones more likely than long ones: past
        :data:`SAMPLE_DEPTH` rules deep, every rule takes its first (simplest) alternative and every
        repeat its fewest."""
        return "".join(self._expand(Ref(rule), rng, 0))

    def _expand(self, symbol: Symbol, rng: random.Random, depth: int) -> list[str]:
        if isinstance(symbol, Lit):
            return [symbol.text]
        if isinstance(symbol, Chars):
            return [rng.choice(symbol.allowed)]
        shallow = depth < SAMPLE_DEPTH
        if isinstance(symbol, Repeat):
            count = symbol.low  # one more with even odds each time
            while shallow and count < symbol.high and rng.random() < 0.5:
                count += 1
            out: list[str] = []
            for _ in range(count):
                out.extend(self._expand(symbol.symbol, rng, depth))
            return out
        alternatives = self.rules[symbol.rule]
        pieces: list[str] = []
        for part in rng.choice(alternatives) if shallow else alternatives[0]:
            pieces.extend(self._expand(part, rng, depth + 1))
        return pieces


def identifier_needs_quotes(name: str, dialect: Dialect) -> bool:
    """Whether the dialect needs ``name`` quoted: it is not a plain word, or it is a keyword."""
    return not _SIMPLE_NAME.match(name) or name.upper() in _keyword_words(dialect)


def quote_identifier(name: str, dialect: Dialect) -> str:
    """``name`` as the dialect writes it, quoted when it is not a plain word or is a keyword."""
    return exp.to_identifier(name, quoted=identifier_needs_quotes(name, dialect)).sql(dialect=dialect.value)


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
    """The grammar of SELECT statements over ``schema``'s tables, columns and sample values.

    Names of tables and columns come from the schema only; a qualifier may also be a short alias
    (``T1``, ``s``). Subqueries nest at most :data:`MAX_NESTING` deep, each level a set of rules of
    its own (``select_0`` holds ``select_1`` ...), so the grammar stays finite and every sentence ends."""
    tables = sorted({quote_table(t.name, dialect) for t in schema.tables})
    qualified = sorted({f"{quote_table(t.name, dialect)}.{quote_identifier(c.name, dialect)}"
                        for t in schema.tables for c in t.columns})
    bare = sorted({quote_identifier(c.name, dialect) for t in schema.tables for c in t.columns})
    samples = sorted({v for t in schema.tables for c in t.columns for v in c.sample_values[:MAX_SAMPLE_VALUES]
                      if "\n" not in v and "\\" not in v})
    rules: dict[str, list[Alternative]] = {
        "root": [(Ref("query_0"),)],
        "as_alias": [(Lit(" AS "), Ref("alias"))],
        "column": [(Lit(name),) for name in qualified] + [(Repeat(Ref("alias_dot"), 0, 1), Lit(name)) for name in bare],
        "alias_dot": [(Ref("alias"), Lit("."))],
        "alias": [(Chars(string.ascii_letters), Repeat(Chars(DIGITS), 0, 2))],
        "table": [(Lit(name),) for name in tables],
        "function": [(Lit(name),) for name in FUNCTIONS],
        "arithmetic": [(Lit(f" {op} "),) for op in ("+", "-", "*", "/")],
        "plain_operand": [(Ref("column"),), (Ref("number"),)],
        "plain_expression": [(Ref("plain_operand"), Repeat(Ref("more_plain"), 0, MAX_ARITHMETIC))],
        "more_plain": [(Ref("arithmetic"), Ref("plain_operand"))],
        "aggregate": [(Lit("COUNT(*)"),),
                      (Ref("function"), Lit("("), Repeat(Lit("DISTINCT "), 0, 1), Ref("plain_expression"), Lit(")"))],
        "more_columns": [(Lit(", "), Ref("column"))],
        "join_on": [(Lit(" ON "), Ref("join_test"), Repeat(Ref("more_join_tests"), 0, MAX_CONDITIONS - 1)),
                    (Lit(" ON TRUE"),)],
        "join_test": [(Ref("column"), Lit(" = "), Ref("column"))],
        "more_join_tests": [(Ref("connective"), Ref("join_test"))],
        "comparison": [(Lit(f" {op} "),) for op in ("=", "!=", "<>", "<", ">", "<=", ">=")],
        "connective": [(Lit(" AND "),), (Lit(" OR "),)],
        "value": [(Ref("number"),), (Ref("string"),)],
        "values": [(Ref("value"), Repeat(Ref("more_values"), 0, MAX_LIST_VALUES - 1))],
        "more_values": [(Lit(", "), Ref("value"))],
        "number": [(Repeat(Lit("-"), 0, 1), Repeat(Chars(DIGITS), 1, 10), Repeat(Ref("fraction"), 0, 1))],
        "fraction": [(Lit("."), Repeat(Chars(DIGITS), 1, 6))],
        "string": [(Lit("'"), Repeat(Ref("string_char"), 0, MAX_STRING_CHARS), Lit("'")),
                   *[(Lit(sql_string(v)),) for v in samples]],
        "string_char": [(Chars(STRING_CHARS),), (Lit("''"),)],
        "direction": [(Lit(" ASC"),), (Lit(" DESC"),)],
        "nulls": [(Lit(" NULLS FIRST"),), (Lit(" NULLS LAST"),)],
        "limit": [(Lit(" LIMIT "), Repeat(Chars(DIGITS), 1, 6), Repeat(Ref("offset"), 0, 1))],
        "offset": [(Lit(" OFFSET "), Repeat(Chars(DIGITS), 1, 6))],
    }
    for depth in range(MAX_NESTING + 1):
        rules.update(_query_rules(depth, dialect))
    return SelectGrammar(rules)


def _query_rules(depth: int, dialect: Dialect) -> dict[str, list[Alternative]]:
    """The rules of a query at one nesting level; below the deepest level an operand, a table or an
    IN list may be a query of the next level."""
    def at(name: str) -> Ref:
        return Ref(f"{name}_{depth}")

    deeper = depth < MAX_NESTING
    subquery: list[Alternative] = [(Lit("("), Ref(f"query_{depth + 1}"), Lit(")"))] if deeper else []
    ordering: list[Symbol] = [at("expression"), Repeat(Ref("direction"), 0, 1)]
    if dialect is Dialect.POSTGRESQL:
        ordering.append(Repeat(Ref("nulls"), 0, 1))
    return {
        f"query_{depth}": [(at("select"), Repeat(at("set_operation"), 0, MAX_SET_OPERATIONS), Repeat(at("order"), 0, 1),
                            Repeat(Ref("limit"), 0, 1))],
        f"set_operation_{depth}": [(Lit(f" {op} "), at("select")) for op in ("UNION", "UNION ALL", "INTERSECT",
                                                                             "EXCEPT")],
        f"select_{depth}": [(Lit("SELECT "), Repeat(Lit("DISTINCT "), 0, 1), at("items"), Lit(" FROM "), at("from"),
                             Repeat(at("where"), 0, 1), Repeat(at("group"), 0, 1), Repeat(at("having"), 0, 1))],
        f"items_{depth}": [(Lit("*"),), (at("item"), Repeat(at("more_items"), 0, MAX_SELECT_ITEMS - 1))],
        f"more_items_{depth}": [(Lit(", "), at("item"))],
        f"item_{depth}": [(at("expression"), Repeat(Ref("as_alias"), 0, 1))],
        f"expression_{depth}": [(at("operand"), Repeat(at("more_operands"), 0, MAX_ARITHMETIC))],
        f"more_operands_{depth}": [(Ref("arithmetic"), at("operand"))],
        f"operand_{depth}": [(Ref("column"),), (Ref("aggregate"),), (Ref("value"),), *subquery],
        f"from_{depth}": [(at("table_ref"), Repeat(at("join"), 0, MAX_JOINS))],
        f"table_ref_{depth}": [(Ref("table"), Repeat(Ref("as_alias"), 0, 1)),
                               *[(*alt, Repeat(Ref("as_alias"), 0, 1)) for alt in subquery]],
        f"join_{depth}": [*[(Lit(kind), at("table_ref"), Repeat(Ref("join_on"), 0, 1))
                            for kind in (" JOIN ", " LEFT JOIN ", " INNER JOIN ")],
                          *[(Lit(kind), at("table_ref")) for kind in (" CROSS JOIN ", ", ")]],
        f"where_{depth}": [(Lit(" WHERE "), at("condition"))],
        f"having_{depth}": [(Lit(" HAVING "), at("condition"))],
        f"condition_{depth}": [(at("predicate"), Repeat(at("more_predicates"), 0, MAX_CONDITIONS - 1))],
        f"more_predicates_{depth}": [(Ref("connective"), at("predicate"))],
        f"predicate_{depth}": [(Repeat(Lit("NOT "), 0, 1), at("test")),
                               (Lit("("), at("test"), Repeat(at("more_tests"), 0, MAX_CONDITIONS - 1), Lit(")"))],
        f"more_tests_{depth}": [(Ref("connective"), at("test"))],
        f"test_{depth}": [
            (at("expression"), Ref("comparison"), at("expression")),
            (at("expression"), Repeat(Lit(" NOT"), 0, 1), Lit(" BETWEEN "), at("expression"), Lit(" AND "),
             at("expression")),
            (at("expression"), Repeat(Lit(" NOT"), 0, 1), Lit(" IN ("), Ref("values"), Lit(")")),
            *[(at("expression"), Repeat(Lit(" NOT"), 0, 1), Lit(" IN "), *alt) for alt in subquery],
            (at("expression"), Repeat(Lit(" NOT"), 0, 1), Lit(" LIKE "), Ref("string")),
            (at("expression"), Lit(" IS NULL")), (at("expression"), Lit(" IS NOT NULL")),
        ],
        f"group_{depth}": [(Lit(" GROUP BY "), Ref("column"), Repeat(Ref("more_columns"), 0, MAX_GROUP_COLUMNS - 1))],
        f"order_{depth}": [(Lit(" ORDER BY "), at("order_item"), Repeat(at("more_order"), 0, MAX_ORDER_ITEMS - 1))],
        f"more_order_{depth}": [(Lit(", "), at("order_item"))],
        f"order_item_{depth}": [tuple(ordering)],
    }


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
