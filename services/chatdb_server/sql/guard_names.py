"""Name checks of the SQL guard: every table and column must be known for the source.

Tables resolve against ``known_columns`` (lower-case keys, schema-qualified outside the
default schema); derived-table aliases and select aliases resolve through sqlglot's scopes,
correlated subqueries through their outer scopes.

A table reference is a CTE only where a CTE of that name is in scope (``_names_a_cte``):
naming a CTE somewhere in the query does not make the same name a CTE elsewhere, so
``(WITH pg_user AS (...) ...) d CROSS JOIN pg_user`` and the non-recursive
``WITH pg_user AS (SELECT * FROM pg_user) ...`` still read the catalog and are refused.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from chatdb_server.sql.dialects import support
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard_rules import default_schemas, is_system_table

UNKNOWN_TABLE = "UNKNOWN_TABLE"
UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
SYSTEM_CATALOG = "SYSTEM_CATALOG"


@dataclass
class NameCheck:
    """What the name checks found: problems as (reason, message), and the known tables read (sorted)."""

    problems: list[tuple[str, str]] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def check_names(statement: exp.Query, dialect: Dialect, known_columns: dict[str, set[str]]) -> NameCheck:
    """Check tables and columns of ``statement``.

    Where a double-quoted name that matches no column is a string literal (SQLite's own
    fallback, ``GuardRules.quoted_unknown_is_string``), such nodes are rewritten into literals
    in place, so the rendered SQL means the same thing in every dialect.
    """
    result = NameCheck()
    for table in statement.find_all(exp.Table):
        _check_table(table, statement, dialect, known_columns, result)
    result.tables.sort()
    if result.problems:
        return result  # column checks would only repeat what an unknown table already says
    try:
        scopes = traverse_scope(statement)
    except OptimizeError as exc:
        result.problems.append((UNKNOWN_COLUMN, f"cannot resolve the query's names: {exc}"))
        return result
    for scope in scopes:
        for column in _own_columns(scope):
            _check_column(column, scope, dialect, known_columns, result)
    return result


def _own_columns(scope: Scope) -> list[exp.Column]:
    """The columns written in this scope's own query (``Scope.columns`` also lists subqueries' outer ones)."""
    return [column for column in scope.columns
            if column.find_ancestor(exp.Select, exp.SetOperation) is scope.expression]


def table_key(table: exp.Table, dialect: Dialect) -> str | None:
    """The ``known_columns`` key of a table reference; None for a three-part name."""
    if table.catalog:
        return None
    name = table.name.lower()
    schema = table.db.lower()
    if not schema or schema in default_schemas(dialect):
        return name
    return f"{schema}.{name}"


def _check_table(table: exp.Table, statement: exp.Query, dialect: Dialect, known: dict[str, set[str]],
                 result: NameCheck) -> None:
    if not isinstance(table.this, exp.Identifier):
        return  # a table function; the function allow-list judges it
    if _names_a_cte(table, statement, dialect):
        return  # the CTE's own body is checked where its tables are
    name, schema = table.name.lower(), table.db.lower()
    shown = table.sql(dialect=dialect.value)
    if is_system_table(dialect, schema, name):
        result.problems.append((SYSTEM_CATALOG, f"system catalog {shown} cannot be queried"))
        return
    key = table_key(table, dialect)
    if key is None or key not in known:
        result.problems.append((UNKNOWN_TABLE, f"table {shown} is not known for this data source"))
        return
    if key not in result.tables:
        result.tables.append(key)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

_CTE_NAMES_FOLD = {Dialect.POSTGRESQL: "unquoted", Dialect.SQLITE: "all"}
"""How a database compares a table reference with a CTE name. PostgreSQL folds unquoted names
(only A-Z in UTF-8 databases), SQLite every name (A-Z only); other dialects compare names as
written: MySQL compares CTE names like table names, case-sensitively where
``lower_case_table_names=0`` (MariaDB folds them; comparing as written only ever refuses more)."""


def _names_a_cte(table: exp.Table, statement: exp.Query, dialect: Dialect) -> bool:
    """Whether the database reads ``table`` as a CTE: one of that name is in scope where it is written.

    Walking out from the reference: a WITH's CTEs are in scope in the query the WITH belongs
    to; inside the body of its CTE number ``i`` only CTEs ``0..i-1`` are, and ``i`` itself with
    RECURSIVE. That is what PostgreSQL, MySQL/MariaDB and SQLite all agree on (PostgreSQL and
    MariaDB also let RECURSIVE bodies see later siblings, SQLite lets every body see every
    sibling); what only some of them resolve to a CTE is checked as a table, which can only
    refuse more. A qualified name is never a CTE. The walk stops at ``statement``: only what is
    checked is rendered and run, so a WITH above it (on a parenthesised query the guard unwraps)
    names nothing.
    """
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = _cte_name_key(table.this, dialect)
    child: exp.Expr = table
    node = table.parent
    while node is not None and child is not statement:
        in_scope: list[exp.CTE] = []
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With) and child is not with_:
            in_scope = [cte for cte in with_.expressions if isinstance(cte, exp.CTE)]
        elif isinstance(node, exp.With):
            ctes = [cte for cte in node.expressions if isinstance(cte, exp.CTE)]
            position = next((i for i, cte in enumerate(ctes) if cte is child), None)
            if position is not None:
                in_scope = ctes[:position + 1] if node.recursive else ctes[:position]
        for cte in in_scope:
            alias = cte.args.get("alias")
            if isinstance(alias, exp.TableAlias) and _cte_name_key(alias.this, dialect) == name:
                return True
        child, node = node, node.parent
    return False


def _cte_name_key(identifier: object, dialect: Dialect) -> str | None:
    """How the database compares the name: ASCII-folded where it folds, as written elsewhere."""
    if not isinstance(identifier, exp.Identifier):
        return None
    fold = _CTE_NAMES_FOLD.get(dialect)
    if fold == "all" or (fold == "unquoted" and not identifier.quoted):
        return identifier.name.translate(_ASCII_LOWER)
    return identifier.name


def _check_column(column: exp.Column, scope: Scope, dialect: Dialect, known: dict[str, set[str]],
                  result: NameCheck) -> None:
    name = column.name.lower()
    qualifier = column.table.lower()
    if qualifier:
        source = _find_source(scope, qualifier)
        if source is None:
            result.problems.append((UNKNOWN_COLUMN, f"{column.sql(dialect=dialect.value)} refers to no table "
                                                    "or alias of the query"))
            return
        names = _source_columns(source, dialect, known)
        if column.is_star or names is None or name in names:
            return
        result.problems.append((UNKNOWN_COLUMN, f"column {column.sql(dialect=dialect.value)} does not exist"))
        return
    if _resolves_unqualified(name, column, scope, dialect, known):
        return
    identifier = column.this
    if (support(dialect).guard.quoted_unknown_is_string and isinstance(identifier, exp.Identifier)
            and identifier.quoted):
        column.replace(exp.Literal.string(identifier.name))
        return
    result.problems.append((UNKNOWN_COLUMN, f"column {column.sql(dialect=dialect.value)} does not exist "
                                            "in the tables of the query"))


def _find_source(scope: Scope | None, alias: str) -> exp.Table | Scope | None:
    while scope is not None:
        for key, source in scope.sources.items():
            if key.lower() == alias:
                return source  # type: ignore[no-any-return]
        scope = scope.parent
    return None


def _resolves_unqualified(name: str, column: exp.Column, scope: Scope, dialect: Dialect,
                          known: dict[str, set[str]]) -> bool:
    if _is_select_alias(name, column, scope):
        return True
    current: Scope | None = scope
    while current is not None:
        for source in current.sources.values():
            names = _source_columns(source, dialect, known)
            if names is None or name in names:
                return True
        current = current.parent
    return False


def _is_select_alias(name: str, column: exp.Column, scope: Scope) -> bool:
    """Whether ``column`` names an aliased select expression (ORDER BY n, HAVING n > 1), not its own."""
    expression = scope.expression
    if not isinstance(expression, exp.Query):
        return False
    own_alias = column.find_ancestor(exp.Alias)
    return any(isinstance(select, exp.Alias) and select.alias.lower() == name and select is not own_alias
               for select in expression.selects)


def _source_columns(source: exp.Table | Scope, dialect: Dialect, known: dict[str, set[str]]) -> set[str] | None:
    """Column names a source offers; None when it cannot be told (a star, an unscoped source)."""
    if isinstance(source, exp.Table):
        key = table_key(source, dialect)
        return known.get(key) if key is not None else None
    if not isinstance(source, Scope):
        return None
    node = source.expression
    alias = node.args.get("alias") if isinstance(node, exp.Values) else None
    if alias is None and isinstance(node.parent, exp.CTE | exp.Subquery):
        alias = node.parent.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return {c.name.lower() for c in alias.columns}
    if not isinstance(node, exp.Query):
        return None
    if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in node.selects):
        return None
    return {s.lower() for s in node.named_selects}
