"""The SQL guard: only a single read-only query over known tables gets to a database.

The guard parses SQL with sqlglot in the source's dialect, refuses anything that is not
exactly one SELECT (set operations and CTEs included) reading known tables and columns
with allow-listed functions, caps the row count with a LIMIT, and renders the tree back in
the dialect (twice when it set the LIMIT: the text shown says ``max_rows``, the text that
runs one more, see ``GuardVerdict``). Rendering from the tree (comments dropped) means the text that runs is the
text that was checked: comment tricks, MySQL executable comments and quoting confusions
cannot smuggle anything past it. The executor adds the database-side defences.

Before parsing, the SQL is measured against :class:`~chatdb_server.sql.guard_limits.SqlLimits`
(tokens, nesting), so pathological input is refused cheaply (``SQL_TOO_COMPLEX``) instead of
holding the process for seconds or exhausting its stack; allowed functions that can enlarge
values are held to bounded arguments (:mod:`chatdb_server.sql.guard_growth`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.errors import ParseError, TokenError

from chatdb_server.sql.dialects import support
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard_growth import growth_problem
from chatdb_server.sql.guard_limits import SQL_TOO_COMPLEX, SqlLimits, shape, tokenize, too_deep_message, too_large
from chatdb_server.sql.guard_names import check_names
from chatdb_server.sql.guard_rules import (
    COMMAND_STATEMENTS,
    VARIABLE_EXPRESSIONS,
    WRITING_STATEMENTS,
    function_name,
    is_safe_function,
)

# sqlglot warns on every statement it falls back to parsing as a Command; the guard refuses
# those itself, so the warnings would only be noise in the service log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: .*?>")

PARSE_ERROR = "PARSE_ERROR"
MULTIPLE_STATEMENTS = "MULTIPLE_STATEMENTS"
NOT_SELECT = "NOT_SELECT"
WRITES_DATA = "WRITES_DATA"
LOCKING_CLAUSE = "LOCKING_CLAUSE"
FORBIDDEN_FUNCTION = "FORBIDDEN_FUNCTION"
FORBIDDEN_COMMAND = "FORBIDDEN_COMMAND"
UNBOUNDED_FUNCTION = "UNBOUNDED_FUNCTION"


@dataclass(frozen=True)
class Violation:
    """One reason SQL is refused: a stable reason code and what was found."""

    reason: str
    message: str


@dataclass
class GuardVerdict:
    """The guard's answer.

    ``sql`` is the checked query as callers see it: rendered in the source's dialect with a
    ``LIMIT`` of at most ``max_rows``. ``executable_sql`` is the same query as it runs: where
    the guard added or lowered the limit it asks for ``max_rows + 1`` rows, so that the
    executor, asked for ``max_rows``, can tell a result that was cut from one that fitted
    exactly; a caller's own limit within the cap runs as written. Both are empty when refused.
    """

    valid: bool
    sql: str
    executable_sql: str = ""
    violations: list[Violation] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class SqlGuard:
    """Checks SQL against the rules in the module docstring; holds only its limits, so it is cheap to share
    (and to hand to a guard worker process)."""

    def __init__(self, limits: SqlLimits | None = None) -> None:
        self.limits = limits or SqlLimits()

    def check(self, sql: str, dialect: Dialect, known_columns: dict[str, set[str]], max_rows: int) -> GuardVerdict:
        """Judge ``sql`` for a source in ``dialect`` whose tables and columns are ``known_columns``.

        SQL beyond the limits, or that exhausts the stack while being checked, is refused
        (``SQL_TOO_COMPLEX``) like any other SQL the guard will not pass."""
        try:
            return self._check(sql, dialect, known_columns, max_rows)
        except RecursionError:
            return GuardVerdict(valid=False, sql="", violations=[Violation(SQL_TOO_COMPLEX,
                                                                           too_deep_message(self.limits))])

    def _check(self, sql: str, dialect: Dialect, known_columns: dict[str, set[str]], max_rows: int) -> GuardVerdict:
        statements, parse_problem = _parse(sql, dialect, self.limits)
        if parse_problem is not None:
            return GuardVerdict(valid=False, sql="", violations=[parse_problem])
        violations: list[Violation] = []
        if len(statements) > 1:
            violations.append(Violation(MULTIPLE_STATEMENTS, f"{len(statements)} statements found; send exactly one "
                                                             "SELECT"))
        for statement in statements:
            violations.extend(_statement_violations(statement, dialect))
        if violations or len(statements) != 1:
            return GuardVerdict(valid=False, sql="", violations=_unique(violations))

        query = _unwrap(statements[0])
        assert isinstance(query, exp.Query)
        names = check_names(query, dialect, known_columns)
        if names.problems:
            return GuardVerdict(valid=False, sql="", violations=_unique([Violation(r, m) for r, m in names.problems]),
                                tables=names.tables)
        if support(dialect).guard.derived_tables_need_alias:
            _name_derived_tables(query)
        cap = _cap_rows(query, max_rows)
        shown = query.sql(dialect=dialect.value, comments=False)
        executable = shown
        if cap.set_by_guard:
            cap.limit.set(cap.count_key, exp.Literal.number(max_rows + 1))
            executable = query.sql(dialect=dialect.value, comments=False)
        return GuardVerdict(valid=True, sql=shown, executable_sql=executable, tables=names.tables,
                            warnings=cap.warnings)


def _parse(sql: str, dialect: Dialect, limits: SqlLimits) -> tuple[list[exp.Expression], Violation | None]:
    if not sql or not sql.strip():
        return [], Violation(PARSE_ERROR, "the SQL is empty")
    try:
        tokens = tokenize(sql, dialect)
        refusal = too_large(shape(tokens), limits)
        if refusal:
            return [], Violation(SQL_TOO_COMPLEX, refusal)
        parsed = SqlglotDialect.get_or_raise(dialect.value).parser().parse(tokens, sql)
    except (ParseError, TokenError) as exc:
        return [], Violation(PARSE_ERROR, f"the SQL does not parse as {dialect.name}: {_describe(exc)}")
    statements = [s for s in parsed if isinstance(s, exp.Expression)]
    if not statements:
        return [], Violation(PARSE_ERROR, "the SQL contains no statement")
    return statements, None


def _statement_violations(statement: exp.Expression, dialect: Dialect) -> list[Violation]:
    """Everything wrong with one statement that does not need the schema."""
    top = _unwrap(statement)
    if isinstance(top, tuple(COMMAND_STATEMENTS)):
        return [Violation(FORBIDDEN_COMMAND, f"{_statement_name(top)} is not allowed; only SELECT queries run")]
    if not isinstance(top, exp.Query):
        return [Violation(NOT_SELECT, f"{_statement_name(top)} is not a SELECT query")]
    found: list[Violation] = []
    for node in top.walk():
        if isinstance(node, exp.Expression):
            found.extend(_node_violations(node, dialect))
    return found


def _node_violations(node: exp.Expression, dialect: Dialect) -> list[Violation]:
    found: list[Violation] = []
    executable = support(dialect).guard.executable_comment_prefixes
    if executable and any(c.lstrip().startswith(executable) for c in node.comments or ()):
        found.append(Violation(FORBIDDEN_COMMAND, "MySQL executable comments (/*! ... */) are not allowed"))
    if isinstance(node, tuple(WRITING_STATEMENTS)):
        found.append(Violation(WRITES_DATA, f"{_statement_name(node)} inside the query writes data"))
    elif isinstance(node, exp.Into):
        found.append(Violation(WRITES_DATA, "SELECT ... INTO writes its result somewhere"))
    elif isinstance(node, exp.Lock):
        found.append(Violation(LOCKING_CLAUSE, "locking clauses (FOR UPDATE / FOR SHARE) are not allowed"))
    elif isinstance(node, tuple(COMMAND_STATEMENTS)):
        found.append(Violation(FORBIDDEN_COMMAND, f"{_statement_name(node)} is not allowed inside a query"))
    elif isinstance(node, tuple(VARIABLE_EXPRESSIONS)) and not isinstance(node.parent, tuple(VARIABLE_EXPRESSIONS)):
        found.append(Violation(FORBIDDEN_COMMAND, f"variables and parameters ({node.sql(dialect=dialect.value)}) "
                                                  "are not allowed"))
    elif isinstance(node, exp.Func):
        if isinstance(node.parent, exp.Dot):
            found.append(Violation(FORBIDDEN_FUNCTION, f"schema-qualified function {node.parent.sql()} is not "
                                                       "allowed"))
        elif not is_safe_function(node, dialect):
            found.append(Violation(FORBIDDEN_FUNCTION, f"function {function_name(node, dialect)} is not allowed"))
        elif problem := growth_problem(node):
            found.append(Violation(UNBOUNDED_FUNCTION, problem))
    return found


@dataclass
class _RowCap:
    """The outermost LIMIT after capping, and whether the guard wrote its count."""

    limit: exp.Limit | exp.Fetch
    count_key: str
    set_by_guard: bool
    warnings: list[str]


def _cap_rows(query: exp.Query, max_rows: int) -> _RowCap:
    """Add or lower the outermost LIMIT so at most ``max_rows`` rows come back."""
    limit = query.args.get("limit")
    if limit is None:
        limit = exp.Limit(expression=exp.Literal.number(max_rows))
        query.set("limit", limit)
        return _RowCap(limit, "expression", True, [f"LIMIT added: at most {max_rows} rows are returned"])
    count_key = "count" if isinstance(limit, exp.Fetch) else "expression"
    count = limit.args.get(count_key)
    requested = int(count.this) if isinstance(count, exp.Literal) and count.is_int else None
    if requested is not None and requested <= max_rows:
        return _RowCap(limit, count_key, False, [])
    limit.set(count_key, exp.Literal.number(max_rows))
    shown = count.sql() if isinstance(count, exp.Expression) else "ALL"
    return _RowCap(limit, count_key, True, [f"LIMIT {shown} lowered: at most {max_rows} rows are returned"])


def with_row_count(query: exp.Query, dialect: Dialect, count: int) -> str:
    """``query`` rendered with the count of its outermost LIMIT (or FETCH) set to ``count``; ``query`` itself
    is left as it is. For SQL the guard capped: its shown and executable forms differ only there."""
    copy = query.copy()
    limit = copy.args.get("limit")
    if limit is not None:
        limit.set("count" if isinstance(limit, exp.Fetch) else "expression", exp.Literal.number(count))
    return copy.sql(dialect=dialect.value, comments=False)


def _name_derived_tables(query: exp.Query) -> None:
    """MySQL/MariaDB and PostgreSQL before 16 insist that a subquery in FROM has an alias (SQLite does not)."""
    for number, subquery in enumerate(query.find_all(exp.Subquery), start=1):
        if not subquery.alias and isinstance(subquery.parent, exp.From | exp.Join):
            subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"derived_{number}")))


def _unwrap(statement: exp.Expression) -> exp.Expression:
    """``(SELECT ...)`` written in parentheses at the top level is the SELECT itself."""
    while isinstance(statement, exp.Subquery | exp.Paren) and not statement.alias:
        statement = statement.this
    return statement


def _statement_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper().replace("_", " ")


def _unique(violations: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(violations))


def _describe(exc: ParseError | TokenError) -> str:
    """The parser's complaint without its terminal highlighting."""
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        description = _TOKEN_REPR.sub(r"'\1'", str(first.get("description")))
        return f"{description} at line {first.get('line')}, column {first.get('col')}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
