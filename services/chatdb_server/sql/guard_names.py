"""Name checks of the SQL guard: every table and column must be known for the source.

Tables resolve against ``known_columns`` (lower-case keys, schema-qualified outside the
default schema); derived-table aliases and select aliases resolve through sqlglot's scopes,
correlated subqueries through their outer scopes.

A table reference is a CTE only where a CTE of that name is in scope (``_Enclosing``):
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
    enclosing = _Enclosing(statement, dialect)
    for table in statement.find_all(exp.Table):
        _check_table(table, enclosing, dialect, known_columns, result)
    result.tables.sort()
    if result.problems:
        return result  # column checks would only repeat what an unknown table already says
    try:
        scopes = traverse_scope(statement)
    except OptimizeError as exc:
        result.problems.append((UNKNOWN_COLUMN, f"cannot resolve the query's names: {exc}"))
        return result
    for scope in scopes:
        for column in scope.columns:
            if enclosing.query(column) is scope.expression:  # Scope.columns also lists subqueries' outer ones
                _check_column(column, scope, enclosing, dialect, known_columns, result)
    return result


def table_key(table: exp.Table, dialect: Dialect) -> str | None:
    """The ``known_columns`` key of a table reference; None for a three-part name."""
    if table.catalog:
        return None
    name = table.name.lower()
    schema = table.db.lower()
    if not schema or schema in default_schemas(dialect):
        return name
    return f"{schema}.{name}"


def _check_table(table: exp.Table, enclosing: _Enclosing, dialect: Dialect, known: dict[str, set[str]],
                 result: NameCheck) -> None:
    if not isinstance(table.this, exp.Identifier):
        return  # a table function; the function allow-list judges it
    if enclosing.names_a_cte(table):
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


_Frame = tuple[dict[str, int], int]
"""CTE names in scope at a place of the query: a WITH's name → first position, and how many of its CTEs
(by position) are visible there."""

_Pending = tuple[exp.Expr, exp.Expr | None, exp.Expr | None, tuple[_Frame, ...]]
"""A node still to visit, with the query, alias and CTE frames that enclose it."""


class _Enclosing:
    """What encloses each column and table reference of a statement, found in one walk down its tree:
    the nearest query (SELECT or set operation) and alias above a column, and the CTEs in scope where a
    table is named. Asking every reference for its ancestors instead costs the tree's depth per
    reference, quadratic in a long ``a OR b OR ...`` or ``UNION ALL`` chain (a tree as deep as it is long).

    A table reference is read as a CTE where one of that name is in scope: a WITH's CTEs are in scope in
    the query the WITH belongs to; inside the body of its CTE number ``i`` only CTEs ``0..i-1`` are, and
    ``i`` itself with RECURSIVE. That is what PostgreSQL, MySQL/MariaDB and SQLite all agree on
    (PostgreSQL and MariaDB also let RECURSIVE bodies see later siblings, SQLite lets every body see
    every sibling); what only some of them resolve to a CTE is checked as a table, which can only refuse
    more. A qualified name is never a CTE. Only WITHs inside the statement count: only what is checked
    is rendered and run, so a WITH above it (on a parenthesised query the guard unwraps) names nothing.
    """

    def __init__(self, statement: exp.Expr, dialect: Dialect) -> None:
        self._dialect = dialect
        self._columns: dict[int, tuple[exp.Expr | None, exp.Expr | None]] = {}
        """Column → (nearest query, nearest alias) above it."""
        self._frames: dict[int, tuple[_Frame, ...]] = {}
        """Table reference → the CTE frames in scope where it is written."""
        self._first: dict[int, tuple[dict[str, int], int]] = {}
        self._select_aliases: dict[int, dict[str, list[exp.Alias]]] = {}
        stack: list[_Pending] = [(statement, None, None, ())]
        while stack:
            node, query, alias, frames = stack.pop()
            if isinstance(node, exp.Column):
                self._columns[id(node)] = query, alias
            elif isinstance(node, exp.Table):
                self._frames[id(node)] = frames
            below_query = node if isinstance(node, exp.Select | exp.SetOperation) else query
            below_alias = node if isinstance(node, exp.Alias) else alias
            with_ = node.args.get("with_")
            whole = (*frames, self._visible(with_, None)) if isinstance(with_, exp.With) else frames
            positions = self._positions(node) if isinstance(node, exp.With) else {}
            for child in node.iter_expressions():
                inner = whole
                if child is with_:
                    inner = frames
                elif isinstance(node, exp.With) and id(child) in positions:
                    inner = (*frames, self._visible(node, positions[id(child)]))
                stack.append((child, below_query, below_alias, inner))

    def query(self, column: exp.Column) -> exp.Expr | None:
        """The nearest SELECT or set operation above ``column`` (``find_ancestor(exp.Select, exp.SetOperation)``)."""
        return self._columns.get(id(column), (None, None))[0]

    def is_select_alias(self, name: str, column: exp.Column, scope: Scope) -> bool:
        """Whether ``column`` names an aliased select expression (ORDER BY n, HAVING n > 1), not its own."""
        expression = scope.expression
        if not isinstance(expression, exp.Query):
            return False
        if id(expression) not in self._select_aliases:
            aliases: dict[str, list[exp.Alias]] = {}
            for select in expression.selects:
                if isinstance(select, exp.Alias):
                    aliases.setdefault(select.alias.lower(), []).append(select)
            self._select_aliases[id(expression)] = aliases
        own_alias = self._columns.get(id(column), (None, None))[1]
        return any(select is not own_alias for select in self._select_aliases[id(expression)].get(name, ()))

    def names_a_cte(self, table: exp.Table) -> bool:
        """Whether the database reads ``table`` as a CTE: one of that name is in scope where it is written."""
        if table.args.get("db") or table.args.get("catalog"):
            return False
        name = _cte_name_key(table.this, self._dialect)
        if name is None:
            return False
        for first_position, visible in self._frames.get(id(table), ()):
            position = first_position.get(name)
            if position is not None and position < visible:
                return True
        return False

    @staticmethod
    def _positions(with_: exp.With) -> dict[int, int]:
        """Each CTE node's position among the WITH's CTEs."""
        return {id(cte): i for i, cte in enumerate(c for c in with_.expressions if isinstance(c, exp.CTE))}

    def _visible(self, with_: exp.With, position: int | None) -> _Frame:
        """The frame of ``with_`` seen from its query (``position`` None) or from the body of CTE ``position``."""
        if id(with_) not in self._first:
            first: dict[str, int] = {}
            ctes = [c for c in with_.expressions if isinstance(c, exp.CTE)]
            for i, cte in enumerate(ctes):
                alias = cte.args.get("alias")
                key = _cte_name_key(alias.this, self._dialect) if isinstance(alias, exp.TableAlias) else None
                if key is not None:
                    first.setdefault(key, i)
            self._first[id(with_)] = first, len(ctes)
        first, count = self._first[id(with_)]
        if position is None:
            return first, count
        return first, position + 1 if with_.recursive else position


def _cte_name_key(identifier: object, dialect: Dialect) -> str | None:
    """How the database compares the name: ASCII-folded where it folds, as written elsewhere."""
    if not isinstance(identifier, exp.Identifier):
        return None
    fold = _CTE_NAMES_FOLD.get(dialect)
    if fold == "all" or (fold == "unquoted" and not identifier.quoted):
        return identifier.name.translate(_ASCII_LOWER)
    return identifier.name


def _check_column(column: exp.Column, scope: Scope, enclosing: _Enclosing, dialect: Dialect,
                  known: dict[str, set[str]], result: NameCheck) -> None:
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
    if _resolves_unqualified(name, column, scope, enclosing, dialect, known):
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


def _resolves_unqualified(name: str, column: exp.Column, scope: Scope, enclosing: _Enclosing, dialect: Dialect,
                          known: dict[str, set[str]]) -> bool:
    if enclosing.is_select_alias(name, column, scope):
        return True
    current: Scope | None = scope
    while current is not None:
        for source in current.sources.values():
            names = _source_columns(source, dialect, known)
            if names is None or name in names:
                return True
        current = current.parent
    return False


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
