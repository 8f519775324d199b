"""Column and row policies applied to SQL the guard has passed: rewritten SQL, or a refusal.

Pure: the SQL, its dialect, the stored tables' columns and the caller's
:class:`~chatdb_server.access.policies.EffectivePolicies` in, an :class:`Enforcement` out.

* SQL that may read an excluded column is refused (``EXCLUDED_COLUMN``); ``*`` and ``t.*`` are
  expanded without excluded columns (see :mod:`chatdb_server.access.enforce_scopes`).
* Every reference to a table with a row policy or an excluded column becomes a filtered derived
  table under the reference's own name: ``customers c`` →
  ``(SELECT "id", "name", ... FROM customers WHERE (customers.region = 'EU')) AS c``. Joins, subqueries,
  CTEs, set operations and correlated subqueries all reach the table through such a reference,
  so each is filtered where it reads, and a LEFT JOIN keeps its meaning (the filter applies to
  the joined table, not to the join). The derived table lists only the columns the caller may
  see, so an excluded column does not exist for the rest of the query at all. On PostgreSQL it
  ends in ``OFFSET 0``, which keeps the planner from pulling it up or pushing the caller's own
  conditions into it (as a ``security_barrier`` view does): a condition that can fail
  (``CAST(name AS integer)``) then never runs on a filtered row, whose existence its error would
  betray. Indexes still serve the policy's predicate, but no longer the caller's conditions on
  the filtered table. MariaDB and SQLite do not fail a cast or a division on a value (they
  return NULL or warn), so their derived tables stay mergeable.
* Predicates' ``:name`` parameters become string literals of the caller's attributes, built as
  sqlglot literals (quoted by the dialect's own rules, never pasted into SQL text); a caller
  without a needed attribute is PermissionDenied (``POLICY_ATTRIBUTE_MISSING``).
* Result columns that derive from a masked column are reported by position; the caller masks
  their values (:mod:`chatdb_server.access.masking`), and withholds the database's error messages
  about the query (:attr:`Enforcement.applied`), which may quote values the caller may not see.
* What cannot be rewritten safely is refused (``POLICY_UNENFORCEABLE``): a CTE named like a
  protected table (recursive or not, dialects disagree about what it shadows), table functions,
  alias column lists on a protected table, parenthesised joins carried by a protected table,
  ``*`` over USING/NATURAL joins, names that cannot be resolved.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from chatdb_server.access.enforce_scopes import (
    EXCLUDED_COLUMN,
    POLICY_UNENFORCEABLE,
    PolicyRefused,
    QueryScopes,
    quoted,
    unenforceable,
)
from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.errors import PermissionDenied
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import Violation
from chatdb_server.sql.guard_names import table_key

__all__ = ["ATTRIBUTE_MISSING", "EXCLUDED_COLUMN", "POLICY_UNENFORCEABLE", "Enforcement", "enforce",
           "names_excluded"]

ATTRIBUTE_MISSING = "POLICY_ATTRIBUTE_MISSING"


@dataclass(frozen=True)
class Enforcement:
    """Policies applied to one query: the SQL to show and run, result positions to mask, or why not."""

    sql: str
    masked: tuple[int, ...] = ()
    violations: tuple[Violation, ...] = ()
    applied: bool = False
    tree: exp.Query | None = field(default=None, compare=False, repr=False)
    """The rewritten query (when a policy acted on it), for rendering it again with another row cap."""
    """Whether the query reads a table some policy of the caller's acts on. The database's own error
    messages about such a query are not for the caller: they may quote a filtered row's or a masked
    column's value (``invalid input syntax for type integer: "ada@example.com"``)."""

    @property
    def refused(self) -> bool:
        """Whether the query must not run for the caller."""
        return bool(self.violations)


def enforce(sql: str, dialect: Dialect, columns: Mapping[str, Sequence[str]],
            policies: EffectivePolicies) -> Enforcement:
    """``sql`` (one query the guard passed) under ``policies``.

    ``columns`` maps each stored table's lower-case key (as the guard's ``known_columns``) to its
    column names as stored, in table order. PermissionDenied when a row policy the query meets
    needs an attribute the caller lacks."""
    if policies.empty:
        return Enforcement(sql)
    try:
        tree = sqlglot.parse_one(sql, read=dialect.value)
    except SqlglotError:
        return _refused(unenforceable("the SQL cannot be read again for its policies"))
    if not isinstance(tree, exp.Query):
        return _refused(unenforceable("only a query can be run under policies"))
    protected = _protected(policies)
    if not any(_key(t, dialect) in protected for t in tree.find_all(exp.Table)):
        return Enforcement(sql)
    try:
        _refuse_unsupported(tree, dialect, protected)
        filters = _filters(tree, dialect, columns, policies)
        scopes = QueryScopes(tree, dialect, columns, policies)
        scopes.expand_stars()
        scopes.check_excluded()
        masked = scopes.masked_outputs()
        _wrap(tree, dialect, columns, policies, filters)
    except PolicyRefused as refusal:
        return _refused(refusal)
    return Enforcement(tree.sql(dialect=dialect.value, comments=False), masked, applied=True, tree=tree)


def names_excluded(sql: str, dialect: Dialect, policies: EffectivePolicies) -> bool:
    """Whether ``sql`` (an example shown to a generator, say) may name an excluded column: any column
    reference called like one, or SQL that does not parse. Deliberately blunt."""
    if not policies.excluded:
        return False
    names = {column for _, column in policies.excluded}
    try:
        tree = sqlglot.parse_one(sql, read=dialect.value)
    except SqlglotError:
        return True
    return any(c.name.lower() in names for c in tree.find_all(exp.Column)) or any(
        i.name.lower() in names for i in tree.find_all(exp.Identifier) if isinstance(i.parent, exp.Join))


def _refused(refusal: PolicyRefused) -> Enforcement:
    return Enforcement("", violations=(Violation(refusal.reason, refusal.message),), applied=True)


def _protected(policies: EffectivePolicies) -> frozenset[str]:
    """Tables some policy of the caller's acts on."""
    return frozenset({t for t, _ in policies.excluded | policies.masked} | set(policies.row_predicates))


def _wrapped(policies: EffectivePolicies) -> frozenset[str]:
    """Tables every reference to which becomes a filtered derived table (a masked column alone needs none)."""
    return frozenset({t for t, _ in policies.excluded} | set(policies.row_predicates))


def _key(table: exp.Table, dialect: Dialect) -> str | None:
    return table_key(table, dialect) if isinstance(table.this, exp.Identifier) else None


def _refuse_unsupported(tree: exp.Query, dialect: Dialect, protected: frozenset[str]) -> None:
    shadowed = {key.rsplit(".", 1)[-1] for key in protected}
    for cte in tree.find_all(exp.CTE):
        if cte.alias_or_name.lower() in shadowed:
            raise unenforceable(f"the CTE {cte.alias_or_name} is named like a protected table")
    for node in tree.find_all(exp.Table, exp.UDTF):
        if isinstance(node, exp.UDTF) and not (isinstance(node, exp.Lateral) and isinstance(node.this, exp.Subquery)):
            raise unenforceable(f"table function {node.sql(dialect=dialect.value)[:60]} is not allowed with policies")
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            raise unenforceable(f"table function {node.sql(dialect=dialect.value)[:60]} is not allowed with policies")
        if isinstance(node, exp.Table) and _key(node, dialect) in protected:
            alias = node.args.get("alias")
            if isinstance(alias, exp.TableAlias) and alias.columns:
                raise unenforceable(f"{node.sql(dialect=dialect.value)} renames a protected table's columns")
            if node.args.get("joins") or node.args.get("pivots") or node.args.get("laterals"):
                raise unenforceable(f"{node.name} carries joins in parentheses")
            if not isinstance(node.parent, exp.From | exp.Join):
                raise unenforceable(f"{node.sql(dialect=dialect.value)} is read outside a FROM or JOIN")


def _filters(tree: exp.Query, dialect: Dialect, columns: Mapping[str, Sequence[str]],
             policies: EffectivePolicies) -> dict[str, exp.Expr]:
    """The bound row filter of every table the query reads that has row policies."""
    read = {key for t in tree.find_all(exp.Table) if (key := _key(t, dialect)) is not None}
    filters: dict[str, exp.Expr] = {}
    for table, predicates in policies.row_predicates.items():
        if table in read and predicates:
            bound = [exp.paren(_bind(p, table, columns, policies.attributes), copy=False) for p in predicates]
            filters[table] = exp.and_(*bound, copy=False)
    return filters


def _bind(predicate: str, table: str, columns: Mapping[str, Sequence[str]],
          attributes: Mapping[str, str]) -> exp.Expr:
    """One predicate with its parameters bound as string literals and its columns as the table's."""
    parsed = _parsed_predicate(predicate)
    if parsed is None:
        raise unenforceable(f"the row policy of {table} does not parse")
    tree = parsed.copy()
    stored = {c.lower(): c for c in columns.get(table, ())}
    for column in list(tree.find_all(exp.Column)):
        name = stored.get(column.name.lower())
        if name is None or column.table:
            raise unenforceable(f"the row policy of {table} names {column.sql()}, not a column of the table")
        column.replace(exp.Column(this=quoted(name), table=_POLICY_TABLE.copy()))
    for placeholder in list(tree.find_all(exp.Placeholder)):
        value = attributes.get(placeholder.name)
        if value is None:
            raise PermissionDenied(
                f"a row policy of {table} needs the caller's attribute {placeholder.name!r}, which the caller "
                "does not have", ATTRIBUTE_MISSING, {"attribute": placeholder.name, "table": table})
        placeholder.replace(exp.Literal.string(value))
    return tree


@functools.lru_cache(maxsize=1024)
def _parsed_predicate(predicate: str) -> exp.Expr | None:
    """A row policy's predicate, parsed once per process (callers copy it); None when it does not parse."""
    try:
        return sqlglot.parse_one(predicate)
    except SqlglotError:
        return None


_POLICY_TABLE = exp.to_identifier("policy_source")
"""What the filtered derived table calls the protected table inside it: the predicate's columns are
qualified with it, so none can be captured by an outer query's columns."""


def _wrap(tree: exp.Query, dialect: Dialect, columns: Mapping[str, Sequence[str]], policies: EffectivePolicies,
          filters: Mapping[str, exp.Expr]) -> None:
    wrapped = _wrapped(policies)
    for table in [t for t in tree.find_all(exp.Table) if _key(t, dialect) in wrapped]:
        key = _key(table, dialect)
        if key is None or key not in columns:
            raise unenforceable(f"the columns of {table.sql(dialect=dialect.value)} are not known")
        excluded = policies.excluded_columns(key)
        visible: list[exp.Expr] = [exp.Column(this=quoted(c)) for c in columns[key] if c.lower() not in excluded]
        inner_table = table.copy()
        inner_table.set("alias", exp.TableAlias(this=_POLICY_TABLE.copy()))
        inner = exp.select(*(visible if excluded else [exp.Star()]), copy=False).from_(inner_table, copy=False)
        if key in filters:
            inner = inner.where(filters[key].copy(), copy=False)
            if dialect is Dialect.POSTGRESQL:
                inner = inner.offset(0, copy=False)  # a fence: see the module docstring
        name = table.args["alias"].this if table.alias else table.this
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=name.copy())))
