"""What a query reads, scope by scope, for policy enforcement (:mod:`chatdb_server.access.enforce`).

Every column reference is resolved through sqlglot's scopes to what it reads: a stored table's
column, or an output of a derived table, CTE, LATERAL subquery or set operation. On that:

* ``*`` and ``t.*`` in select lists are expanded (excluded columns left out), so the result's
  columns are explicit;
* a reference that may read an excluded column is refused. Resolution is conservative: an
  unqualified name is taken to read every source of the innermost scope that offers it;
* a result column derives from a masked column when its expression references, directly or
  through derived outputs, a masked column or a derived output that does, other than inside
  ``COUNT`` (a count reveals no value). Such result columns are masked by position.

Anything the resolution cannot follow is refused (:class:`PolicyRefused`), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard_names import table_key

EXCLUDED_COLUMN = "EXCLUDED_COLUMN"
POLICY_UNENFORCEABLE = "POLICY_UNENFORCEABLE"

Source = exp.Table | Scope


class PolicyRefused(Exception):
    """The query cannot be run under the caller's policies: a reason code and a message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def unenforceable(message: str) -> PolicyRefused:
    """A refusal for SQL whose reads cannot be followed safely."""
    return PolicyRefused(POLICY_UNENFORCEABLE, f"{message}; the data source's policies cannot be applied to it")


@dataclass(frozen=True)
class _Output:
    """One output column of a scope: its lower-case name and whether it derives from a masked column."""

    name: str
    tainted: bool


def quoted(name: str) -> exp.Identifier:
    """An identifier for a name as stored (exact case, quoted so no dialect folds or misreads it)."""
    return exp.to_identifier(name, quoted=True)


class QueryScopes:
    """The scopes of one query, over the source's stored columns and the caller's policies."""

    def __init__(self, tree: exp.Query, dialect: Dialect, columns: Mapping[str, Sequence[str]],
                 policies: EffectivePolicies) -> None:
        self._tree = tree
        self._dialect = dialect
        self._columns = {key.lower(): tuple(names) for key, names in columns.items()}
        self._policies = policies
        self._scopes, self._by_node = self._traverse()
        self._outputs: dict[int, list[_Output]] = {}
        self._computing: set[int] = set()

    def _traverse(self) -> tuple[list[Scope], dict[int, Scope]]:
        try:
            scopes = traverse_scope(self._tree)
        except OptimizeError as exc:
            raise unenforceable(f"the query's names cannot be resolved ({exc})") from None
        return scopes, {id(scope.expression): scope for scope in scopes}

    # ---- stars ----------------------------------------------------------------------------------

    def expand_stars(self) -> None:
        """Replace ``*`` and ``t.*`` in every select list by the columns they stand for (bottom-up, so a
        derived table's own star is expanded before an outer star reads its outputs), then re-scope."""
        for scope in self._scopes:
            select = scope.expression
            if isinstance(select, exp.Select) and any(_is_star(item) for item in select.expressions):
                select.set("expressions", [expanded for item in select.expressions
                                           for expanded in self._expand(item, scope)])
        self._scopes, self._by_node = self._traverse()

    def _expand(self, item: exp.Expr, scope: Scope) -> list[exp.Expr]:
        if not _is_star(item):
            return [item]
        sources = self._selected(scope)
        if isinstance(item, exp.Star):
            select = scope.expression
            if any(j.args.get("using") or j.method.upper() == "NATURAL" for j in select.args.get("joins") or []):
                raise unenforceable("* over a USING or NATURAL join cannot be expanded exactly")
            chosen = sources
        else:
            assert isinstance(item, exp.Column)
            qualifier = item.table.lower()
            chosen = [s for s in sources if s[0].lower() == qualifier]
            if not chosen:
                raise unenforceable(f"{item.sql(dialect=self._dialect.value)} names no source of its query")
        expanded: list[exp.Expr] = []
        for name, node, source in chosen:
            qualifier_id = _alias_identifier(node) if name else None
            if qualifier_id is None and len(sources) > 1:
                raise unenforceable("* over an unnamed derived table cannot be expanded")
            for column in self._source_names(source, node):
                expanded.append(exp.Column(this=column, table=qualifier_id.copy() if qualifier_id else None))
        if not expanded:
            raise unenforceable(f"{item.sql(dialect=self._dialect.value)} selects no known column")
        return expanded

    def _selected(self, scope: Scope) -> list[tuple[str, exp.Expr, Source]]:
        try:
            selected = scope.selected_sources
        except OptimizeError as exc:
            raise unenforceable(f"the query's sources cannot be told apart ({exc})") from None
        return [(name, node, source) for name, (node, source) in selected.items()]

    def _source_names(self, source: Source, node: exp.Expr) -> list[exp.Identifier]:
        """The columns a source offers, as identifiers to write after its qualifier."""
        if isinstance(source, exp.Table):
            key = self._key(source)
            names = self._table_names(source)
            if names is None:
                raise unenforceable(f"the columns of {source.sql(dialect=self._dialect.value)} are not known")
            excluded = self._policies.excluded_columns(key)
            return [n for n, c in zip(names, self._columns[key], strict=True) if c.lower() not in excluded]
        names = self._derived_names(source)
        if names is None:
            raise unenforceable(f"the columns of derived table {node.sql(dialect=self._dialect.value)[:80]} "
                                "have no names to expand * into")
        return names

    def _table_names(self, table: exp.Table) -> list[exp.Identifier] | None:
        """A stored table's columns as its reference names them (an alias column list renames the first
        ones); None when the table's columns are not known."""
        stored = self._columns.get(self._key(table))
        if stored is None:
            return None
        names = [quoted(c) for c in stored]
        renamed = _alias_columns(table)
        names[:len(renamed)] = [r.copy() for r in renamed[:len(names)]]
        return names

    def _derived_names(self, scope: Scope) -> list[exp.Identifier] | None:
        """Identifiers of a derived scope's outputs as written (alias column lists applied); None when one
        has no name (an unaliased expression)."""
        select = _leftmost_select(scope.expression)
        if select is None:
            return None
        renamed = _alias_columns(scope.expression)
        names: list[exp.Identifier] = []
        for index, item in enumerate(select.expressions):
            if index < len(renamed):
                names.append(renamed[index].copy())
            elif isinstance(item, exp.Alias) and isinstance(item.args.get("alias"), exp.Identifier):
                names.append(item.args["alias"].copy())
            elif isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier):
                names.append(item.this.copy())
            else:
                return None
        return names

    # ---- excluded columns -------------------------------------------------------------------------

    def check_excluded(self) -> None:
        """PolicyRefused when any reference may read an excluded column (a USING list included)."""
        if not self._policies.excluded:
            return
        for column in self._tree.find_all(exp.Column):
            for source, name in self._origins(column):
                if isinstance(source, exp.Table):
                    self._refuse_excluded(self._key(source), name, column)
        for join in self._tree.find_all(exp.Join):
            for identifier in join.args.get("using") or ():
                scope = self._owner(join)
                for _, _, source in self._selected(scope):
                    if isinstance(source, exp.Table):
                        self._refuse_excluded(self._key(source), identifier.name.lower(), identifier)

    def _refuse_excluded(self, key: str, name: str, node: exp.Expr) -> None:
        excluded = self._policies.excluded_columns(key)
        if name in excluded or (name == "*" and excluded):
            raise PolicyRefused(EXCLUDED_COLUMN, f"{node.sql(dialect=self._dialect.value)} reads a column of "
                                                 f"{key} that is not available to the caller")

    # ---- masked columns ---------------------------------------------------------------------------

    def masked_outputs(self) -> tuple[int, ...]:
        """Positions of the query's result columns that derive from a masked column."""
        if not self._policies.masked:
            return ()
        root = self._by_node.get(id(self._tree))
        if root is None:
            raise unenforceable("the query has no root scope")
        return tuple(i for i, output in enumerate(self._scope_outputs(root)) if output.tainted)

    def _scope_outputs(self, scope: Scope) -> list[_Output]:
        key = id(scope)
        if key in self._outputs:
            return self._outputs[key]
        if key in self._computing:
            raise unenforceable("a recursive reference's lineage cannot be followed")
        self._computing.add(key)
        node = scope.expression
        if isinstance(node, exp.Select):
            outputs = [_Output(item.alias_or_name.lower(), self._tainted(item)) for item in node.expressions]
        elif isinstance(node, exp.SetOperation) and len(scope.set_operation_scopes) == 2:
            left, right = (self._scope_outputs(s) for s in scope.set_operation_scopes)
            outputs = [_Output(a.name, a.tainted or b.tainted) for a, b in zip(left, right, strict=False)]
        elif isinstance(node, exp.Lateral) and scope.subquery_scopes:
            outputs = self._scope_outputs(scope.subquery_scopes[-1])
        else:
            raise unenforceable(f"the outputs of {node.sql(dialect=self._dialect.value)[:80]} cannot be followed")
        renamed = _alias_columns(node)
        outputs = [_Output(renamed[i].name.lower(), o.tainted) if i < len(renamed) else o
                   for i, o in enumerate(outputs)]
        self._computing.discard(key)
        self._outputs[key] = outputs
        return outputs

    def _tainted(self, expression: exp.Expr) -> bool:
        """Whether ``expression``'s value may derive from a masked column (COUNT arguments aside)."""
        for node in expression.walk():
            if node is not expression and _under_count(node, expression):
                continue
            if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Column):
                return True  # a bare * outside COUNT(*) and outside a select list: assume the worst
            if isinstance(node, exp.Column) and any(self._origin_tainted(s, n) for s, n in self._origins(node)):
                return True
        return False

    def _origin_tainted(self, source: Source, name: str) -> bool:
        if isinstance(source, exp.Table):
            key = self._key(source)
            return any(t == key and (name in ("*", c)) for t, c in self._policies.masked)
        outputs = self._scope_outputs(source)
        matching = [o for o in outputs if o.name == name]
        return any(o.tainted for o in (matching if matching and name != "*" else outputs))

    # ---- resolution -------------------------------------------------------------------------------

    def _origins(self, column: exp.Column) -> list[tuple[Source, str]]:
        """What ``column`` may read: (source, lower-case column name or ``*``) pairs."""
        name = "*" if column.is_star else column.name.lower()
        scope = self._owner(column)
        qualifier = column.table.lower()
        if qualifier:
            found = _find_source(scope, qualifier)
            if found is None:
                raise unenforceable(f"{column.sql(dialect=self._dialect.value)} names no source of its query")
            return [(found, name)]
        origins: list[tuple[Source, str]] = []
        level: Scope | None = scope
        while level is not None:
            offers = [(source, self._offers(source, name)) for _, _, source in self._selected(level)]
            origins += [(source, name) for source, offered in offers if offered is not False]
            if any(offered for _, offered in offers) and all(offered is not None for _, offered in offers):
                break  # the innermost scope that certainly has the name is the one it reads
            level = level.parent
        return origins

    def _offers(self, source: Source, name: str) -> bool | None:
        """Whether ``source`` has a column ``name``; None when that cannot be told."""
        names = self._table_names(source) if isinstance(source, exp.Table) else self._derived_names(source)
        return None if names is None else name in {n.name.lower() for n in names}

    def _owner(self, node: exp.Expr) -> Scope:
        """The scope whose query ``node`` is written in."""
        current: exp.Expr | None = node
        while current is not None:
            scope = self._by_node.get(id(current))
            if scope is not None and current is not node:
                return scope
            current = current.parent
        raise unenforceable(f"{node.sql(dialect=self._dialect.value)[:80]} belongs to no query scope")

    def _key(self, table: exp.Table) -> str:
        key = table_key(table, self._dialect)
        if key is None:
            raise unenforceable(f"table {table.sql(dialect=self._dialect.value)} cannot be resolved")
        return key


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star)


def _under_count(node: exp.Expr, top: exp.Expr) -> bool:
    current = node.parent
    while current is not None and current is not top.parent:
        if isinstance(current, exp.Count):
            return True
        current = current.parent
    return False


def _find_source(scope: Scope | None, alias: str) -> Source | None:
    while scope is not None:
        for key, source in scope.sources.items():
            if key.lower() == alias:
                return source
        scope = scope.parent
    return None


def _leftmost_select(node: exp.Expr) -> exp.Select | None:
    """The select whose select list names a query's outputs (the first branch of a set operation)."""
    while True:
        if isinstance(node, exp.Select):
            return node
        if isinstance(node, exp.SetOperation | exp.Subquery | exp.Lateral):
            node = node.this
        else:
            return None


def _alias_columns(node: exp.Expr) -> list[exp.Identifier]:
    """The column list of the alias a source is given (``AS d(a, b)``, ``WITH c(a, b) AS``), if any."""
    holder: exp.Expr | None = node
    while isinstance(holder, exp.Select | exp.SetOperation) and isinstance(holder.parent, exp.SetOperation):
        holder = holder.parent if holder.parent.this is holder else None
    if isinstance(holder, exp.Select | exp.SetOperation) and isinstance(holder.parent, exp.Subquery | exp.CTE):
        holder = holder.parent
    alias = holder.args.get("alias") if holder is not None else None
    if isinstance(alias, exp.TableAlias):
        return [c for c in alias.columns if isinstance(c, exp.Identifier)]
    return []


def _alias_identifier(node: exp.Expr) -> exp.Identifier | None:
    """The name a FROM item is referred to by, as written (alias, else the table's own name)."""
    holder = node if isinstance(node, exp.Table | exp.Lateral) else node.parent
    alias = holder.args.get("alias") if holder is not None else None
    if isinstance(alias, exp.TableAlias) and isinstance(alias.this, exp.Identifier):
        return alias.this
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        return node.this
    return None
