"""Follow-up questions on the template path: the previous answer's SQL, edited for what the new question
changes ("only those in Berlin" adds ``WHERE city = 'Berlin'``, "sort them by price" an ``ORDER BY``,
"how many are there?" counts the previous rows, "and last year?" moves the period a year back).

:func:`generation.followup.read_follow_up` says which changes a question asks for; the question's words
are linked to the schema as for any question (``linking``: values to the columns that hold them, names to
columns), and sqlglot parses the previous SQL, edits its tree and writes it back in the dialect. A change
that cannot be made on that SQL (a value of a table the query cannot reach in one join, no period to
move) gives None, and the question is then read on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from chatdb_server.generation.followup import Change, FollowUp
from chatdb_server.generation.question_values import TEXT, value_spans
from chatdb_server.generation.question_values import tokenize as question_tokens
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.schema_index import ColumnEntry, SchemaIndex
from chatdb_server.retrieval.context import SchemaContext

GUARD_LIMIT_MIN = 1000
"""A LIMIT this large was added by the guard as the row cap, not asked for: counting or totalling the
previous rows leaves it out."""
_YEAR_TEXT = re.compile(r"^((?:19|20)\d{2})(.*)$")
_PRICE_WORDS = ("price", "cost", "amount", "fee", "total")
_FOLLOW_UP_WORDS = frozenset({"first", "last", "top", "sort", "order", "only", "just", "those", "them", "ones"})
_AGGREGATES: dict[str, Callable[..., exp.Expression]] = {"SUM": exp.Sum, "AVG": exp.Avg, "MAX": exp.Max, "MIN": exp.Min}


@dataclass
class Refined:
    """The previous SQL with the follow-up's changes, and what was changed (for the explanation)."""

    sql: str
    notes: list[str] = field(default_factory=list)


class _Unmade(Exception):
    """A change the previous SQL cannot take."""


def refine(follow: FollowUp, previous_sql: str, question: str, words: list[str], mentions: list[Mention],
           index: SchemaIndex, schema: SchemaContext, dialect: str) -> Refined | None:
    """``previous_sql`` changed as ``follow`` asks, or None when a change cannot be made on it. ``words`` are
    the question's lower-cased tokens, which ``mentions`` index: a mention of nothing but the follow-up's own
    words ("first" of "cheapest first" is no ``first_name``) is left out."""
    mentions = [m for m in mentions if not set(words[m.start:m.end]) <= _FOLLOW_UP_WORDS]
    try:
        tree = sqlglot.parse_one(previous_sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Select):
        return None
    edit = _Edit(tree, mentions, index, schema, dialect)
    edit.question = question
    try:
        if Change.PERIOD in follow.changes:
            edit.move_period(follow)
        if Change.FILTER in follow.changes:
            edit.filter(follow)
        if Change.ORDER in follow.changes:
            edit.order(follow)
        if Change.LIMIT in follow.changes and follow.limit is not None:
            edit.tree.limit(follow.limit, copy=False)
            edit.notes.append(f"keeps the first {follow.limit} rows")
        if Change.COUNT in follow.changes:
            edit.count()
        elif Change.AGGREGATE in follow.changes:
            edit.aggregate(follow.aggregate)
    except _Unmade:
        return None
    return Refined(edit.tree.sql(dialect=dialect), edit.notes) if edit.notes else None


class _Edit:
    """One previous query's tree being edited, and the tables it reads (name → name or alias)."""

    def __init__(self, tree: exp.Select, mentions: list[Mention], index: SchemaIndex, schema: SchemaContext,
                 dialect: str) -> None:
        self.tree = tree
        self.null_ordering = sqlglot.Dialect.get_or_raise(dialect).NULL_ORDERING
        self.mentions = mentions
        self.index = index
        self.schema = schema
        self.notes: list[str] = []
        self.question = ""
        self.tables: dict[str, str] = {}
        sources = [tree.args.get("from_") or tree.args.get("from"), *(tree.args.get("joins") or [])]
        for source in sources:
            table = source.this if source is not None else None
            if isinstance(table, exp.Table):
                self.tables[table.name.lower()] = table.alias_or_name

    # ---- columns ----------------------------------------------------------------------------------

    def column(self, entry: ColumnEntry) -> exp.Column:
        """A reference to ``entry`` as this query names it (qualified when it reads several tables)."""
        table = self.tables.get(entry.table.name.lower())
        if table is None:
            table = self.join(entry)
        qualifier = table if len(self.tables) > 1 else None
        return exp.column(entry.name, table=qualifier, quoted=not _plain(entry.name))

    def in_query(self, entry: ColumnEntry) -> bool:
        return entry.table.name.lower() in self.tables

    def reachable(self, entry: ColumnEntry) -> bool:
        """Whether ``entry``'s table is read by the query or one join away from it."""
        table = entry.table.name
        return table.lower() in self.tables or any(
            (e.to_table == table and e.from_table.lower() in self.tables)
            or (e.from_table == table and e.to_table.lower() in self.tables) for e in self.schema.joins)

    def mentioned_columns(self, numeric: bool = False) -> list[ColumnEntry]:
        """Columns the question names, those of the query's tables first."""
        found = [t.column for m in self.mentions if m.kind == "column" for t in m.targets if t.column is not None]
        if numeric:
            found = [c for c in found if c.is_numeric and not c.is_key_like]
        return sorted(dict.fromkeys(found), key=lambda c: not self.in_query(c))

    def output_columns(self) -> list[ColumnEntry]:
        """The schema's columns the query selects, in order."""
        found = []
        for projection in self.tree.expressions:
            for column in projection.find_all(exp.Column):
                entry = self._entry(column)
                if entry is not None:
                    found.append(entry)
        return list(dict.fromkeys(found))

    def measures(self) -> list[ColumnEntry]:
        """The number columns a bound may mean: those the query selects, else those of its tables (a price or
        amount first), when that leaves one."""
        shown = [c for c in self.output_columns() if c.kind == "number" and not c.is_key_like]
        if shown:
            return shown
        found = [c for t in self.index.tables if t.name.lower() in self.tables for c in t.columns
                 if c.kind == "number" and not c.is_key_like]
        priced = [c for c in found if any(w in _PRICE_WORDS for w in c.words)]
        return priced[:1] if len(priced) == 1 else found if len(found) == 1 else []

    def _entry(self, column: exp.Column) -> ColumnEntry | None:
        by_alias = {alias.lower(): name for name, alias in self.tables.items()}
        tables = [by_alias.get(column.table.lower(), column.table.lower())] if column.table else list(self.tables)
        for table in tables:
            entry = self.index.column(table, column.name)
            if entry is not None:
                return entry
        return None

    def join(self, entry: ColumnEntry) -> str:
        """Join ``entry``'s table to the query by one declared or inferred join; _Unmade when none reaches it."""
        wanted = entry.table.name
        for edge in self.schema.joins:
            for here, there, here_columns, there_columns in (
                    (edge.from_table, edge.to_table, edge.from_columns, edge.to_columns),
                    (edge.to_table, edge.from_table, edge.to_columns, edge.from_columns)):
                if there != wanted or here.lower() not in self.tables:
                    continue
                if len(self.tables) == 1:
                    self._qualify_all()
                near = self.tables[here.lower()]
                alias = f"T{len(self.tables) + 1}"
                condition = exp.and_(*(exp.EQ(this=exp.column(a, table=near), expression=exp.column(b, table=alias))
                                       for a, b in zip(here_columns, there_columns, strict=True)))
                self.tree.join(exp.alias_(exp.to_table(there), alias, table=True), on=condition, copy=False)
                self.tables[there.lower()] = alias
                self.notes.append(f"joins {there}")
                return alias
        raise _Unmade(f"{wanted} is not one join away")

    def _qualify_all(self) -> None:
        """Qualify the single table's column references before a second table joins it."""
        ((name, alias),) = self.tables.items()
        for column in list(self.tree.find_all(exp.Column)):
            if not column.table and self.index.column(name, column.name) is not None:
                column.set("table", exp.to_identifier(alias))

    # ---- changes ----------------------------------------------------------------------------------

    def filter(self, follow: FollowUp) -> None:
        """Keep the rows with each value the question names (replacing a filter on the same column), or within
        its bound."""
        added = False
        for mention in self.mentions:
            if mention.kind != "value":
                continue
            targets = sorted((t for t in mention.targets if t.column is not None),
                             key=lambda t: (not self.in_query(t.column),  # type: ignore[arg-type]
                                            not self.reachable(t.column), -t.score))  # type: ignore[arg-type]
            if not targets or targets[0].column is None:
                continue
            entry = targets[0].column
            value = targets[0].value if targets[0].value is not None else mention.text
            self._set_condition(entry, exp.EQ(this=self.column(entry), expression=exp.Literal.string(value)))
            self.notes.append(f"only rows with {entry.name} = {value!r}")
            added = True
        added = self._numbers_after_columns() or added
        if follow.comparison is not None:
            operator, number = follow.comparison
            numeric = self.mentioned_columns(numeric=True) or self.measures()
            if not numeric:
                raise _Unmade("no numeric column to compare")
            entry = numeric[0]
            literal = exp.Literal.number(int(number) if number.is_integer() else number)
            self.tree.where(_COMPARE[operator](this=self.column(entry), expression=literal), copy=False)
            self.notes.append(f"only rows with {entry.name} {operator} {literal.sql()}")
            added = True
        if not added:
            self._replace_value()

    def _numbers_after_columns(self) -> bool:
        """"only those with rating 5": a number right after a number column the question names is its value."""
        added = False
        for before, mention in zip(self.mentions, self.mentions[1:], strict=False):
            if mention.kind != "number" or mention.number is None or before.kind != "column" \
                    or before.end != mention.start:
                continue
            numeric = [t.column for t in before.targets if t.column is not None and t.column.kind == "number"]
            if not numeric:
                continue
            entry = next((c for c in numeric if self.reachable(c)), numeric[0])
            value = int(mention.number) if float(mention.number).is_integer() else mention.number
            self._set_condition(entry, exp.EQ(this=self.column(entry), expression=exp.Literal.number(value)))
            self.notes.append(f"only rows with {entry.name} = {value}")
            added = True
        return added

    def _replace_value(self) -> None:
        """"and in Paris?" after "… in Berlin": a value the schema's samples do not know takes the place of the
        previous query's one text value, when the question names exactly one value and the query compares one."""
        tokens = question_tokens(self.question)
        named = [" ".join(t.text for t in tokens[s.start:s.end]) for s in value_spans(self.question, tokens)
                 if all(t.kind == TEXT for t in tokens[s.start:s.end])]
        where = self.tree.args.get("where")
        compared = [e for e in where.find_all(exp.EQ) if isinstance(e.expression, exp.Literal)
                    and e.expression.is_string] if where is not None else []
        if len(named) != 1 or len(compared) != 1:
            raise _Unmade("the question names no value to place")
        old = compared[0].expression.this
        compared[0].set("expression", exp.Literal.string(named[0]))
        self.notes.append(f"{old!r} replaced by {named[0]!r}")

    def _set_condition(self, entry: ColumnEntry, condition: exp.Expression) -> None:
        where = self.tree.args.get("where")
        if where is not None:
            for existing in where.find_all(exp.EQ, exp.In):
                column = existing.this
                if isinstance(column, exp.Column) and self._entry(column) is entry:
                    existing.replace(condition)
                    return
        self.tree.where(condition, copy=False)

    def order(self, follow: FollowUp) -> None:
        """Sort by the column the question names (or the price its cue means, or the query's measure)."""
        descending = bool(follow.descending)
        named = [c for c in self.mentioned_columns(numeric=follow.price_cue) if self.in_query(c)]
        if follow.price_cue and not named:
            named = [c for t in self.index.tables if t.name.lower() in self.tables for c in t.columns
                     if c.is_numeric and any(w in _PRICE_WORDS for w in c.words)]
        key: exp.Expression
        if named:
            entry = named[0]
            key = self.column(entry)
            if not self._grouped() and entry not in self.output_columns():
                self.tree.select(key.copy(), copy=False)
        else:
            measures = [p for p in self.tree.expressions if p.find(exp.AggFunc)]
            if not measures:
                if Change.LIMIT in follow.changes:
                    return
                raise _Unmade("nothing named to sort by")
            key = measures[0].unalias().copy()
        # NULLs where the dialect puts them anyway, so that no NULLS FIRST/LAST clause is written.
        nulls_first = (self.null_ordering == "nulls_are_small") != descending \
            if self.null_ordering != "nulls_are_last" else False
        self.tree.order_by(exp.Ordered(this=key, desc=descending, nulls_first=nulls_first), append=False, copy=False)
        self.notes.append(f"sorted by {key.sql()} {'descending' if descending else 'ascending'}")

    def count(self) -> None:
        """Count the previous rows."""
        self._over_rows(exp.Count(this=exp.Star()), "counts the rows")

    def aggregate(self, function: str) -> None:
        """SUM/AVG/MAX/MIN of the numeric column the question names, over the previous rows."""
        named = [c for c in self.mentioned_columns(numeric=True) if self.in_query(c)]
        if not named:
            raise _Unmade("no numeric column of the query named")
        self._over_rows(_AGGREGATES[function](this=self.column(named[0])), f"{function.lower()} of {named[0].name}")

    def _over_rows(self, measure: exp.Expression, note: str) -> None:
        """``measure`` over the previous rows: in place of a plain query's outputs, else over it as a subquery."""
        limit = self.tree.args.get("limit")
        if limit is not None and _limit_value(limit) >= GUARD_LIMIT_MIN:
            self.tree.set("limit", None)
            limit = None
        if not self._grouped() and not self.tree.args.get("distinct") and limit is None \
                and not any(p.find(exp.AggFunc) for p in self.tree.expressions):
            self.tree.set("order", None)
            self.tree.set("expressions", [measure])
        else:
            if isinstance(measure, exp.AggFunc) and isinstance(measure.this, exp.Column):
                column = measure.this
                if column.name not in {p.alias_or_name for p in self.tree.expressions}:
                    self.tree.select(column.copy(), copy=False)
                measure.set("this", exp.column(column.name, table="previous"))
            self.tree = exp.select(measure).from_(self.tree.subquery("previous"))
        self.notes.append(note)

    def _grouped(self) -> bool:
        return self.tree.args.get("group") is not None

    def move_period(self, follow: FollowUp) -> None:
        """Move every year the filter names (dates and years compared with a year) by the shift, or to the year."""
        where = self.tree.args.get("where")
        literals = [lit for lit in (where.find_all(exp.Literal) if where is not None else ()) if _is_year(lit)]
        if not literals:
            raise _Unmade("no period to move")
        first = int(_YEAR_TEXT.match(literals[0].this).group(1))  # type: ignore[union-attr]
        shift = follow.year - first if follow.year is not None else follow.year_shift
        for literal in literals:
            year, rest = _YEAR_TEXT.match(literal.this).groups()  # type: ignore[union-attr]
            moved = f"{int(year) + shift}{_valid_day(int(year) + shift, rest)}"
            literal.replace(exp.Literal.string(moved) if literal.is_string else exp.Literal.number(moved))
        self.notes.append(f"the period moved to {first + shift}")


_COMPARE: dict[str, type[exp.Binary]] = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def _is_year(literal: exp.Literal) -> bool:
    """A date literal ('2024-01-01'), or a year compared with a date part (``strftime('%Y', d) = '2024'``)."""
    text = literal.this
    if not isinstance(text, str) or not _YEAR_TEXT.match(text):
        return False
    if literal.is_string and re.fullmatch(r"\d{4}-\d{2}(-\d{2}.*)?", text):
        return True
    comparison = literal.parent
    other = comparison.left if isinstance(comparison, exp.Binary) and comparison.right is literal else \
        comparison.right if isinstance(comparison, exp.Binary) else None
    return len(text) == 4 and other is not None and other.find(exp.Func) is not None


def _valid_day(year: int, rest: str) -> str:
    """``rest`` of a date moved to ``year``: 29 February becomes the 28th outside leap years."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return rest.replace("-02-29", "-02-28", 1) if rest.startswith("-02-29") and not leap else rest


def _limit_value(limit: exp.Expression) -> int:
    value = limit.expression if isinstance(limit, exp.Limit) else limit
    try:
        return int(value.name) if isinstance(value, exp.Literal) else GUARD_LIMIT_MIN
    except ValueError:
        return GUARD_LIMIT_MIN


def _plain(name: str) -> bool:
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]*", name))
