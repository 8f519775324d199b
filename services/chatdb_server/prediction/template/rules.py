"""The roles a table or column mention can take, as declared rule tables.

Each rule is a named object: a matcher (does the rule apply to this mention?), the plan edit
it makes (what it adds to the ``ReadingState``) and a cost (the penalty it adds to the
reading, from ``costs``). A mention takes the role of the *first* matching rule of its table,
in ``priority`` order; the order is the behaviour, so it is written down once, here.

Every fired rule's name is recorded on the state (``ReadingState.fire``) and ends up on the
plan, the candidate and its explanation. Rules that are not mention roles (values, numbers,
the passes after the mentions and the assembly of the plan) fire from their own modules; their
names and descriptions are declared in ``outcomes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Generic, TypeVar

from chatdb_server.prediction.template.aggregates import aggregates_before_table, asks_one_total, table_aggregate
from chatdb_server.prediction.template.grouping import groups_by
from chatdb_server.prediction.template.intents import AGGREGATE_WORDS, CONDITION_WORDS, DISTINCT_WORDS, EXTREME_WORDS
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.outcomes import OUTCOMES
from chatdb_server.prediction.template.plan import Aggregate, Ordering, Output
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.superlatives import (
    column_superlative,
    most_frequent,
    order_by_column,
    order_by_superlative,
    orders_by_column,
    table_superlative,
)
from chatdb_server.prediction.template.vocabulary import word_set

SiteT = TypeVar("SiteT")


@dataclass(frozen=True)
class Rule(Generic[SiteT]):
    """One role a mention may take: applies ``edit`` when ``matches``; adds ``cost`` to the penalty."""

    name: str
    priority: int
    """Lower is tried first; unique within a table."""
    matches: Callable[[SiteT, ReadingState], bool]
    edit: Callable[[SiteT, ReadingState], None]
    description: str
    cost: float = 0.0


def apply_first(rules: Sequence[Rule[SiteT]], site: SiteT, state: ReadingState) -> Rule[SiteT] | None:
    """Apply the first rule (in priority order) whose matcher accepts ``site``; return it."""
    for rule in rules:
        if rule.matches(site, state):
            rule.edit(site, state)
            if rule.cost:
                state.penalty += rule.cost
            state.fire(rule.name)
            return rule
    return None


def ordered(*rules: Rule[SiteT]) -> tuple[Rule[SiteT], ...]:
    """The rules sorted by priority; two rules of one priority are a declaration error."""
    priorities = [r.priority for r in rules]
    if len(set(priorities)) != len(priorities):
        raise ValueError("rule priorities must be unique within a table")
    return tuple(sorted(rules, key=lambda r: r.priority))


# ---- column mentions -------------------------------------------------------------------------------


@dataclass
class ColumnSite:
    """A column mention with the words before it (``gap``) and the cues read from them."""

    q: Question
    position: int
    mention: Mention
    gap: list[str]

    @cached_property
    def column(self) -> ColumnEntry:
        return self.q.column_of(self.position)

    @cached_property
    def words(self) -> set[str]:
        return set(self.gap)

    @cached_property
    def prior(self) -> bool:
        """Whether a table or column was named before: an extreme then picks a row, not an aggregate."""
        return any(m.kind in ("table", "column") for m in self.q.mentions[:self.position])

    @cached_property
    def superlative_word(self) -> str | None:
        return column_superlative(self.q, self.gap_through_numbers, self.prior)

    @cached_property
    def gap_through_numbers(self) -> list[str]:
        """The gap, reaching back over a number right before it ("with the top 3 *largest* population")."""
        return self._reach_back("number")

    @cached_property
    def gap_through_table(self) -> list[str]:
        """The gap, reaching back over a table named right before the column ("the *most common* customer
        city")."""
        return self._reach_back("table")

    def _reach_back(self, kind: str) -> list[str]:
        previous = self.q.mentions[self.position - 1] if self.position > 0 else None
        if previous is None or previous.kind != kind or previous.end + len(self.gap) != self.mention.start:
            return self.gap
        if kind == "table" and self.gap:
            return self.gap
        names_before = [m.end for m in self.q.mentions[:self.position - 1] if m.kind in ("table", "column")]
        return self.q.lowers[max(names_before, default=0):self.mention.start]

    @cached_property
    def aggregates(self) -> list[Aggregate]:
        """Aggregate words before the column (or its table), else the extreme read as one.

        "the highest age" with nothing named before is MAX(age); so is a superlative word when
        the reading prefers aggregates (``Choices.superlative_as_aggregate``)."""
        q, gap = self.q, self.gap
        found: list[Aggregate] = [AGGREGATE_WORDS[w] for w in gap if w in AGGREGATE_WORDS] or (
            aggregates_before_table(q, self.position))
        extremes = [EXTREME_WORDS[w] for w in gap if w in EXTREME_WORDS and w not in AGGREGATE_WORDS]
        if self.superlative_word is not None:
            found = found or ["max" if EXTREME_WORDS[self.superlative_word] else "min"]
        if not found and extremes and not self.prior:
            found = ["max" if extremes[0] else "min"]
        return found

    @cached_property
    def counted(self) -> bool:
        """The column is the first name after "how many" / "number of"."""
        return self.q.count_end is not None and self.q.right_after_count(self.mention.start)


def _group_by_column(site: ColumnSite, state: ReadingState) -> None:
    state.group_by.append(site.column)
    state.notes.append(f"grouped by {site.column.name}")


def _most_frequent_value(site: ColumnSite, state: ReadingState) -> None:
    state.group_by.append(site.column)
    state.outputs.append(Output(site.column))
    state.count_superlative = most_frequent(set(site.gap_through_table))


def _row_with_extreme(site: ColumnSite, state: ReadingState) -> None:
    assert site.superlative_word is not None
    order_by_superlative(site.column, site.superlative_word, state)


def _extreme_as_row_matches(site: ColumnSite, state: ReadingState) -> bool:
    return bool(site.aggregates) and site.q.choices.aggregate_as_superlative and site.prior and (
        site.aggregates[0] in ("max", "min"))


def _extreme_as_row(site: ColumnSite, state: ReadingState) -> None:
    state.order.append(Ordering(Output(site.column), site.aggregates[0] == "max"))
    state.limit = 1


def _aggregate_column(site: ColumnSite, state: ReadingState) -> None:
    for aggregate in site.aggregates:
        state.outputs.append(Output(site.column, aggregate))


def _how_many_from_column_matches(site: ColumnSite, state: ReadingState) -> bool:
    column = site.column
    return site.counted and column.kind == "number" and not column.is_key_like and site.q.lowers[:2] == ["how", "many"]


def _how_many_from_column(site: ColumnSite, state: ReadingState) -> None:
    state.outputs.append(Output(site.column))
    state.notes.append(f"how many, read from {site.column.name}")


def _names_values(column: ColumnEntry) -> bool:
    """Not an id: a plain column, or one part of a composite key that is no id or code ("languages"
    of a table keyed by country code and language)."""
    if not column.is_key_like:
        return True
    composite = sum(c.info.primary_key for c in column.table.columns) > 1
    return composite and column.words[-1:] not in (("id",), ("code",))


def _count_rows(site: ColumnSite, state: ReadingState) -> None:
    state.count_subject = state.count_subject or site.column.table
    state.count_requested = True


def _select_column_matches(site: ColumnSite, state: ReadingState) -> bool:
    """Named in the request part, or "... and <column>" right after it (not a condition), or in a request
    made again after the conditions ("sort the products by price, and *return* the name, category and
    stock")."""
    q, gap, start = site.q, site.gap, site.mention.start
    return start < q.boundary or bool(gap and gap[-1] in ("and",) and state.outputs
                                      and start < q.boundary + 6 and not set(gap) & CONDITION_WORDS) or (
        _asked_again(site, state))


_REQUEST_VERBS = word_set("cues", "request_verbs")
#: Words between a request verb and what it asks for ("give *me the* name").
_AFTER_REQUEST_VERB = frozenset({"me", "us", "the", "a", "an", "all", "its", "their", "also", "is", "are"})
#: Words between the columns of a list ("name, category *and* stock").
_LIST_GLUE = frozenset({"and", "the", "its", "their"})


def _after_request_verb(site: ColumnSite) -> bool:
    """Whether a request verb stands right before the column, over determiners and the name of the column's
    own table ("return *the* name", "give me *the customer* email")."""
    q = site.q
    own_table = {k for m in q.mentions if m.kind == "table" and m.best.table is site.column.table
                 for k in range(m.start, m.end)}
    k = site.mention.start - 1
    while k >= 0 and (q.lowers[k] in _AFTER_REQUEST_VERB or k in own_table):
        k -= 1
    return k >= 0 and q.lowers[k] in _REQUEST_VERBS


def _asked_again(site: ColumnSite, state: ReadingState) -> bool:
    """A column after a request verb past the conditions ("Give me the customer email."), or next in the
    list such a column starts ("return the name, category *and* stock"); not one asked for already."""
    if any(o.column is site.column for o in state.outputs):
        return False
    gap = set(site.gap)
    if _after_request_verb(site) or (gap & _REQUEST_VERBS and not gap & CONDITION_WORDS):
        return True
    return _next_in_a_late_list(site, state)


def _next_in_a_late_list(site: ColumnSite, state: ReadingState) -> bool:
    """The column follows, in a list, a column past the request part that was asked for."""
    previous = site.q.mentions[site.position - 1] if site.position > 0 else None
    if previous is None or previous.kind != "column" or previous.start < site.q.boundary or not state.outputs:
        return False
    last = state.outputs[-1]
    return set(site.gap) <= _LIST_GLUE and last.aggregate is None and last.column is site.q.column_of(
        site.position - 1)


def _select_column(site: ColumnSite, state: ReadingState) -> None:
    output = Output(site.column)
    state.outputs.append(output)
    if site.q.names_a_total(site.mention, site.column):
        state.totals.append(output)
        state.one_total = state.one_total or asks_one_total(site.q, site.mention)


def _nothing(site: object, state: ReadingState) -> None:
    """The rule only claims the mention (another rule reads it later)."""


COLUMN_RULES: tuple[Rule[ColumnSite], ...] = ordered(
    Rule("group-by-column", 10, lambda s, st: groups_by(s.q, s.position, s.words), _group_by_column,
         '"per city", "for each status", an aggregate\'s "by city": GROUP BY the column.'),
    Rule("order-by-column", 20,
         lambda s, st: orders_by_column(s.q, s.mention, s.words) and not _after_request_verb(s),
         lambda s, st: order_by_column(s.q, s.mention, s.column, st),
         '"sorted by age", "the top 5 products by price": ORDER BY the column.'),
    Rule("most-frequent-value", 30, lambda s, st: most_frequent(set(s.gap_through_table)) is not None,
         _most_frequent_value,
         '"the most common city": group by the column, order by the count, take one.'),
    Rule("row-with-extreme", 40,
         lambda s, st: s.superlative_word is not None and not s.q.choices.superlative_as_aggregate,
         _row_with_extreme, '"the singer with the highest age": ORDER BY the column, LIMIT 1.'),
    Rule("aggregate-as-row", 50, _extreme_as_row_matches, _extreme_as_row,
         'Alternative reading: "the maximum age" after a name as the row with the highest age.'),
    Rule("aggregate-column", 60, lambda s, st: bool(s.aggregates), _aggregate_column,
         '"the average age", "the highest price": SELECT AVG/MAX/... of the column.'),
    Rule("count-distinct-column", 70,
         lambda s, st: s.counted and bool(s.words & DISTINCT_WORDS) and _names_values(s.column),
         lambda s, st: st.outputs.append(Output(s.column, "count", distinct=True)),
         '"how many different cities": COUNT(DISTINCT column).'),
    Rule("how-many-from-column", 80, _how_many_from_column_matches, _how_many_from_column,
         '"how many seats ..." with a numeric column ``seats``: the column holds the answer.'),
    Rule("count-rows-of-column", 90, lambda s, st: s.counted, _count_rows,
         '"how many singer names": COUNT(*) of the column\'s table.'),
    Rule("column-before-value", 100, lambda s, st: s.q.followed_by_value(s.mention), _nothing,
         '"whose country is France": the column is the value\'s filter, read with the value.'),
    Rule("select-column", 110, _select_column_matches, _select_column,
         '"the names and ages of singers": SELECT the column (summed when called a total and grouped).'),
    Rule("context-column", 120, lambda s, st: True, lambda s, st: st.context_tables.append(s.column.table),
         "A column named among the conditions: its table joins the query."),
)


# ---- table mentions --------------------------------------------------------------------------------


@dataclass
class TableSite:
    """A table mention with the words before it (``gap``)."""

    q: Question
    mention: Mention
    gap: list[str]

    @cached_property
    def table(self) -> TableEntry:
        return self.mention.best.table

    @cached_property
    def position(self) -> int:
        # The first mention equal to this one, as the reader always looked it up.
        return self.q.mentions.index(self.mention)

    @cached_property
    def aggregated(self) -> Output | None:
        return table_aggregate(self.q, self.position, self.gap)


def _count_table(site: TableSite, state: ReadingState) -> None:
    state.count_subject = site.table
    state.count_requested = True


def _aggregate_of_table(site: TableSite, state: ReadingState) -> None:
    aggregated = site.aggregated
    assert aggregated is not None
    state.outputs.append(aggregated)
    state.notes.append(f"the {aggregated.describe()} of {site.table.name}")


def _most_related_rows(site: TableSite, state: ReadingState) -> None:
    state.count_superlative = table_superlative(site.gap)
    state.context_tables.append(site.table)


def _another_table_asked_matches(site: TableSite, state: ReadingState) -> bool:
    """A second table named in the request, joined to what is asked by "and" ("the emails of customers *and
    the* products they ordered")."""
    gap = [w for w in site.gap if w not in ("the", "their", "its")]
    return site.mention.start < site.q.boundary and gap == ["and"] and bool(state.select_tables) and all(
        site.table is not t for t in state.select_tables)


def _another_table_asked(site: TableSite, state: ReadingState) -> None:
    state.select_tables.append(site.table)
    state.also_asked.append(site.table)


TABLE_RULES: tuple[Rule[TableSite], ...] = ordered(
    Rule("count-table", 10, lambda s, st: s.q.count_end is not None and s.q.right_after_count(s.mention.start)
         and st.count_subject is None, _count_table, '"how many singers": COUNT(*) FROM the table.'),
    Rule("negated-table", 20, lambda s, st: s.q.negated(s.mention) and s.mention.start > s.q.boundary,
         lambda s, st: st.negated_tables.append(s.table),
         '"customers with no orders": rows with no related row (NOT IN).'),
    Rule("aggregate-of-table", 30, lambda s, st: s.aggregated is not None, _aggregate_of_table,
         '"the sum of payments": the aggregate of the table\'s one measure column.'),
    Rule("group-by-table", 40, lambda s, st: groups_by(s.q, s.position, set(s.gap)),
         lambda s, st: st.group_tables.append(s.table),
         '"for each customer": GROUP BY the table\'s key and labels.'),
    Rule("most-related-rows", 50, lambda s, st: table_superlative(s.gap) is not None
         and s.mention.start > s.q.boundary, _most_related_rows,
         '"the customer with the most orders": order by the count of related rows.'),
    Rule("another-table-asked", 55, _another_table_asked_matches, _another_table_asked,
         '"the emails of customers and the products": the second table\'s label columns are asked for too.'),
    Rule("select-table", 60, lambda s, st: s.mention.start < s.q.boundary,
         lambda s, st: st.select_tables.append(s.table), '"list the singers": the table asked for.'),
    Rule("context-table", 70, lambda s, st: True, lambda s, st: st.context_tables.append(s.table),
         "A table named among the conditions: it joins the query."),
)


#: Every rule name, mention roles first (columns, tables), then the other outcomes, as declared.
ALL_RULE_NAMES: tuple[str, ...] = (*(r.name for r in COLUMN_RULES), *(r.name for r in TABLE_RULES),
                                   *(o.name for o in OUTCOMES))
