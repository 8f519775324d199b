"""Reading a linked question into a plan: what to select, from where, filtered and ordered how.

The reader walks the mentions in question order and gives each a role from the cue words
between it and the previous mention (an aggregate, a superlative, a grouping, an ordering, a
filter, a negated relation, or part of what is asked for), then assembles the plan. The roles
of table and column mentions are the declared rule tables of ``rules.py`` (first match in
priority order wins); values, numbers and the later passes live in their own modules (values,
numbers, setops, superlatives, grouping, exclusions) and name the rules they apply from
``outcomes.py``. ``Choices`` flip the decisions that are most often ambiguous, which is how
alternative candidates are produced.
"""

from __future__ import annotations

from collections.abc import Callable

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.aggregates import summed_totals
from chatdb_server.prediction.template.exclusions import exclusions
from chatdb_server.prediction.template.grouping import (
    chronological,
    group_by_tables,
    implicit_grouping,
    needs_implicit_grouping,
    period_outputs,
    read_periods,
)
from chatdb_server.prediction.template.intents import ALL_COLUMNS_WORDS, DISTINCT_WORDS
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.numbers import read_number
from chatdb_server.prediction.template.plan import Ordering, Output, Plan
from chatdb_server.prediction.template.question import Choices, Question, Unreadable
from chatdb_server.prediction.template.rules import COLUMN_RULES, TABLE_RULES, ColumnSite, TableSite, apply_first
from chatdb_server.prediction.template.schema_index import SchemaIndex, TableEntry
from chatdb_server.prediction.template.setops import intersect_conflicting, read_average_comparisons
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.superlatives import (
    read_frequency_order,
    read_implied_superlative,
    stated_order,
)
from chatdb_server.prediction.template.values import read_value
from chatdb_server.prediction.template.words import Token

#: Whole-question passes after the mentions, in this order ("above the average age", "the oldest
#: dog" when no ordering was read yet, "per month").
PASSES: tuple[Callable[[Question, ReadingState], None], ...] = (
    read_average_comparisons, read_implied_superlative, read_periods, read_frequency_order)


class Reader:
    """Reads one question (tokens + mentions) against one schema."""

    def __init__(self, tokens: list[Token], mentions: list[Mention], index: SchemaIndex, graph: JoinGraph,
                 choices: Choices | None = None) -> None:
        self.q = Question(tokens, mentions, index, graph, choices)

    def read(self) -> Plan:
        """The plan of the question; Unreadable when it names nothing of the schema."""
        q = self.q
        state = ReadingState()
        previous_end = 0
        names: list[tuple[int, Mention, list[str]]] = []
        for position, mention in enumerate(q.mentions):
            gap = q.lowers[previous_end:mention.start]
            if mention.kind == "column":
                apply_first(COLUMN_RULES, ColumnSite(q, position, mention, gap), state)
            elif mention.kind == "table":
                apply_first(TABLE_RULES, TableSite(q, mention, gap), state)
            elif mention.kind == "value" and mention.proper_noun:
                names.append((position, mention, gap))
            elif mention.kind == "value":
                read_value(q, position, mention, gap, state)
            previous_end = max(previous_end, mention.end)
        # A name read from its capitals may stand before what it filters ("Lisbon's population"):
        # placed once everything else was read.
        for position, mention, gap in names:
            read_value(q, position, mention, gap, state)
        for position, mention in enumerate(q.mentions):
            if mention.kind == "number":
                read_number(q, position, mention, state)
        for read_pass in PASSES:
            read_pass(q, state)
        return self._assemble(state)

    # ---- assembling ------------------------------------------------------------------------------

    def _assemble(self, state: ReadingState) -> Plan:
        q = self.q
        subject = self._subject(state)
        group_by = list(state.group_by)
        tables: list[TableEntry] = [subject]

        def need(table: TableEntry) -> None:
            if all(table is not t for t in tables):
                tables.append(table)

        outputs = group_by_tables(subject, state, summed_totals(state), group_by, need)
        outputs += _labels_of_tables_also_asked(q, subject, state, outputs)
        counted = state.count_requested or (state.count_subject is not None and not outputs)
        if counted:
            outputs.append(Output(None, "count"))
            state.fire("count-rows")
        periods, outputs = period_outputs(subject, state, outputs)
        outputs = periods + outputs
        if needs_implicit_grouping(q, state) and not group_by and not periods:
            group_by = implicit_grouping(subject, outputs)
            state.fire("implicit-grouping")
        plain_outputs = [o for o in outputs if o.aggregate is None]
        if not plain_outputs and not any(o.aggregate for o in outputs):
            request = set(q.lowers[:q.boundary])
            if request & ALL_COLUMNS_WORDS or q.choices.all_columns:
                outputs = [Output(None)]
                state.fire("all-columns")
            else:
                outputs = [Output(c) for c in subject.label_columns]
                state.penalty += costs.LABEL_COLUMNS_GUESSED
                state.fire("label-columns")
                state.notes.append(f"showing {', '.join(c.name for c in subject.label_columns)} of {subject.name}")
        for output in outputs:
            if output.column is not None:
                need(output.column.table)
        for condition in state.conditions:
            if condition.column is not None:
                need(condition.column.table)
        for compared in state.average_comparisons:
            need(compared.column.table)
        for ordering in state.order:
            if ordering.expression.column is not None:
                need(ordering.expression.column.table)
        for column in group_by:
            need(column.table)
        if not q.choices.drop_context_tables:
            for table in state.context_tables:
                if all(table is not n for n in state.negated_tables):
                    need(table)
        order = list(state.order)
        if not order:
            stated = stated_order(q, outputs)
            if stated is not None:
                order.append(stated)
                state.fire("stated-order")
        if not order and state.count_superlative is None:
            order = chronological(periods)
            if order:
                state.fire("chronological-order")
        limit = state.limit
        if state.count_superlative is not None:
            order.insert(0, Ordering(Output(None, "count"), state.count_superlative))
            limit = limit or 1
        excluded, conditions = exclusions(q, subject, state, tables)
        tables = self._connectable(subject, tables, state)
        if counted and len(tables) > 1 and subject.key is not None and set(q.lowers[:q.boundary]) & DISTINCT_WORDS:
            # "how many different customers placed orders": each customer once, not once per join row.
            outputs = [Output(subject.key, "count", distinct=True) if o.column is None and o.aggregate == "count"
                       else o for o in outputs]
            state.fire("count-distinct-joined")
        distinct = bool(set(q.lowers[:q.boundary + 1]) & DISTINCT_WORDS) and not any(
            o.aggregate for o in outputs) and not q.choices.drop_distinct and not group_by and not periods
        if distinct:
            state.fire("distinct")
        return intersect_conflicting(q, Plan(subject=subject, outputs=outputs, tables=tables, conditions=conditions,
                    any_condition=state.any_condition, group_by=group_by, periods=periods, having=state.having,
                    order=order, limit=limit, distinct=distinct, exclusions=excluded,
                    average_comparisons=state.average_comparisons, aggregate_first=q.asks_aggregate_first(),
                    notes=state.notes, penalty=state.penalty,
                    rules=list(dict.fromkeys(state.fired))))

    def _subject(self, state: ReadingState) -> TableEntry:
        q = self.q
        if state.count_subject is not None:
            return state.count_subject
        if state.select_tables:
            return state.select_tables[0]
        for output in state.outputs:
            if output.column is not None:
                return output.column.table
        if q.mentioned_tables:
            return q.mentioned_tables[0]
        for condition in state.conditions:
            if condition.column is not None:
                return condition.column.table
        for ordering in state.order:
            if ordering.expression.column is not None:
                return ordering.expression.column.table
        if len(q.index.tables) == 1 and (state.count_requested or q.count_end is not None):
            state.penalty += costs.ONLY_TABLE_ASSUMED
            state.fire("only-table-assumed")
            return q.index.tables[0]
        raise Unreadable("no table or column of the schema is mentioned")

    def _connectable(self, subject: TableEntry, tables: list[TableEntry], state: ReadingState) -> list[TableEntry]:
        """The tables, dropping context-only tables the join graph cannot reach."""
        if self.q.graph.connect(subject, tables[1:]) is not None:
            return tables
        required = {id(c.table) for o in state.outputs if (c := o.column) is not None}
        required |= {id(c.column.table) for c in state.conditions if c.column is not None}
        kept = [t for t in tables if t is subject or id(t) in required]
        state.penalty += costs.UNREACHABLE_TABLE_DROPPED
        state.fire("unreachable-table-dropped")
        return kept


def _labels_of_tables_also_asked(q: Question, subject: TableEntry, state: ReadingState,
                                 outputs: list[Output]) -> list[Output]:
    """The label columns of each further table the request names, where none of its columns is shown
    ("the emails of customers and the products" shows the products' names too) and a join reaches it."""
    added: list[Output] = []
    for table in state.also_asked:
        if q.graph.connect(subject, [table]) is None:
            continue
        if not any(o.column is not None and o.column.table is table for o in [*outputs, *added]):
            added += [Output(c) for c in table.label_columns]
            state.notes.append(f"also {', '.join(c.name for c in table.label_columns)} of {table.name}")
    return added
