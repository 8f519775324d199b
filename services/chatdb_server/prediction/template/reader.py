"""Reading a linked question into a plan: what to select, from where, filtered and ordered how.

The reader walks the mentions in question order and gives each a role from the cue words
between it and the previous mention (an aggregate, a superlative, a grouping, an ordering, a
filter, a negated relation, or part of what is asked for), then assembles the plan. The rules
for each kind of role live in their own modules (grouping, superlatives, values, numbers,
exclusions); ``Choices`` flip the decisions that are most often ambiguous, which is how
alternative candidates are produced.
"""

from __future__ import annotations

from chatdb_server.prediction.template.aggregates import (
    aggregates_before_table,
    asks_one_total,
    summed_totals,
    table_aggregate,
)
from chatdb_server.prediction.template.exclusions import exclusions
from chatdb_server.prediction.template.grouping import (
    chronological,
    group_by_tables,
    groups_by,
    implicit_grouping,
    needs_implicit_grouping,
    period_outputs,
    read_periods,
)
from chatdb_server.prediction.template.intents import (
    AGGREGATE_WORDS,
    ALL_COLUMNS_WORDS,
    CONDITION_WORDS,
    DISTINCT_WORDS,
    EXTREME_WORDS,
)
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.numbers import read_number
from chatdb_server.prediction.template.plan import Ordering, Output, Plan
from chatdb_server.prediction.template.question import Choices, Question, Unreadable
from chatdb_server.prediction.template.schema_index import SchemaIndex, TableEntry
from chatdb_server.prediction.template.setops import intersect_conflicting, read_average_comparisons
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.superlatives import (
    column_superlative,
    most_frequent,
    order_by_column,
    order_by_superlative,
    orders_by_column,
    read_implied_superlative,
    stated_order,
    table_superlative,
)
from chatdb_server.prediction.template.values import read_value
from chatdb_server.prediction.template.words import Token


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
        for position, mention in enumerate(q.mentions):
            gap = q.lowers[previous_end:mention.start]
            if mention.kind == "column":
                self._read_column(position, mention, gap, state)
            elif mention.kind == "table":
                self._read_table(mention, gap, state)
            elif mention.kind == "value":
                read_value(q, position, mention, gap, state)
            previous_end = max(previous_end, mention.end)
        for position, mention in enumerate(q.mentions):
            if mention.kind == "number":
                read_number(q, position, mention, state)
        read_average_comparisons(q, state)
        read_implied_superlative(q, state)
        read_periods(q, state)
        return self._assemble(state)

    # ---- roles of names --------------------------------------------------------------------------

    def _read_column(self, position: int, mention: Mention, gap: list[str], state: ReadingState) -> None:
        q = self.q
        column = q.column_of(position)
        words = set(gap)
        aggregates = [AGGREGATE_WORDS[w] for w in gap if w in AGGREGATE_WORDS] or aggregates_before_table(q, position)
        extremes = [EXTREME_WORDS[w] for w in gap if w in EXTREME_WORDS and w not in AGGREGATE_WORDS]
        prior = any(m.kind in ("table", "column") for m in q.mentions[:position])
        if groups_by(q, position, words):
            state.group_by.append(column)
            state.notes.append(f"grouped by {column.name}")
            return
        if orders_by_column(q, mention, words):
            order_by_column(q, mention, column, state)
            return
        frequency = most_frequent(words)
        if frequency is not None:
            state.group_by.append(column)
            state.outputs.append(Output(column))
            state.count_superlative = frequency
            return
        superlative_word = column_superlative(q, gap, prior)
        if superlative_word is not None:
            if not q.choices.superlative_as_aggregate:
                order_by_superlative(column, superlative_word, state)
                return
            aggregates = aggregates or ["max" if EXTREME_WORDS[superlative_word] else "min"]
        if not aggregates and extremes and not prior:
            aggregates = ["max" if extremes[0] else "min"]
        if aggregates:
            if q.choices.aggregate_as_superlative and prior and aggregates[0] in ("max", "min"):
                state.order.append(Ordering(Output(column), aggregates[0] == "max"))
                state.limit = 1
                return
            for aggregate in aggregates:
                state.outputs.append(Output(column, aggregate))
            return
        if q.count_end is not None and q.right_after_count(mention.start):
            if words & DISTINCT_WORDS and not column.is_key_like:
                state.outputs.append(Output(column, "count", distinct=True))
            elif column.kind == "number" and not column.is_key_like and q.lowers[:2] == ["how", "many"]:
                state.outputs.append(Output(column))
                state.notes.append(f"how many, read from {column.name}")
            else:
                state.count_subject = state.count_subject or column.table
                state.count_requested = True
            return
        if q.followed_by_value(mention):
            return
        if mention.start < q.boundary or (gap and gap[-1] in ("and",) and state.outputs
                                          and mention.start < q.boundary + 6 and not set(gap) & CONDITION_WORDS):
            output = Output(column)
            state.outputs.append(output)
            if q.names_a_total(mention, column):
                state.totals.append(output)
                state.one_total = state.one_total or asks_one_total(q, mention)
            return
        state.context_tables.append(column.table)

    def _read_table(self, mention: Mention, gap: list[str], state: ReadingState) -> None:
        q = self.q
        table = mention.best.table
        if q.count_end is not None and q.right_after_count(mention.start) and state.count_subject is None:
            state.count_subject = table
            state.count_requested = True
            return
        if q.negated(mention) and mention.start > q.boundary:
            state.negated_tables.append(table)
            return
        position = q.mentions.index(mention)
        aggregated = table_aggregate(q, position, gap)
        if aggregated is not None:
            state.outputs.append(aggregated)
            state.notes.append(f"the {aggregated.describe()} of {table.name}")
            return
        if groups_by(q, position, set(gap)):
            state.group_tables.append(table)
            return
        superlative = table_superlative(gap)
        if superlative is not None and mention.start > q.boundary:
            state.count_superlative = superlative
            state.context_tables.append(table)
            return
        if mention.start < q.boundary:
            state.select_tables.append(table)
        else:
            state.context_tables.append(table)

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
        counted = state.count_requested or (state.count_subject is not None and not outputs)
        if counted:
            outputs.append(Output(None, "count"))
        periods, outputs = period_outputs(subject, state, outputs)
        outputs = periods + outputs
        if needs_implicit_grouping(q, state) and not group_by and not periods:
            group_by = implicit_grouping(subject, outputs)
        plain_outputs = [o for o in outputs if o.aggregate is None]
        if not plain_outputs and not any(o.aggregate for o in outputs):
            request = set(q.lowers[:q.boundary])
            if request & ALL_COLUMNS_WORDS or q.choices.all_columns:
                outputs = [Output(None)]
            else:
                outputs = [Output(c) for c in subject.label_columns]
                state.penalty += 0.05
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
        if not order and state.count_superlative is None:
            order = chronological(periods)
        limit = state.limit
        if state.count_superlative is not None:
            order.insert(0, Ordering(Output(None, "count"), state.count_superlative))
            limit = limit or 1
        excluded, conditions = exclusions(q, subject, state, tables)
        tables = self._connectable(subject, tables, state)
        distinct = bool(set(q.lowers[:q.boundary + 1]) & DISTINCT_WORDS) and not any(
            o.aggregate for o in outputs) and not q.choices.drop_distinct and not group_by and not periods
        return intersect_conflicting(q, Plan(subject=subject, outputs=outputs, tables=tables, conditions=conditions,
                    any_condition=state.any_condition, group_by=group_by, periods=periods, having=state.having,
                    order=order, limit=limit, distinct=distinct, exclusions=excluded,
                    average_comparisons=state.average_comparisons, notes=state.notes, penalty=state.penalty))

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
            state.penalty += 0.3
            return q.index.tables[0]
        raise Unreadable("no table or column of the schema is mentioned")

    def _connectable(self, subject: TableEntry, tables: list[TableEntry], state: ReadingState) -> list[TableEntry]:
        """The tables, dropping context-only tables the join graph cannot reach."""
        if self.q.graph.connect(subject, tables[1:]) is not None:
            return tables
        required = {id(c.table) for o in state.outputs if (c := o.column) is not None}
        required |= {id(c.column.table) for c in state.conditions if c.column is not None}
        kept = [t for t in tables if t is subject or id(t) in required]
        state.penalty += 0.2
        return kept
