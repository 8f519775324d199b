"""Reading a linked question into a plan: what to select, from where, filtered and ordered how.

The reader walks the mentions in question order and gives each a role from the cue words
between it and the previous mention (an aggregate, a superlative, a grouping, an ordering, a
filter, a negated relation, or part of what is asked for). ``Choices`` flip the decisions that
are most often ambiguous, which is how alternative candidates are produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatdb.prediction.template.intents import (
    AGGREGATE_WORDS,
    ALL_COLUMNS_WORDS,
    CONDITION_WORDS,
    DISTINCT_WORDS,
    EXTREME_WORDS,
    FREQUENCY_WORDS,
    GROUP_WORDS,
    IMPLIED_SUPERLATIVES,
    ORDER_WORDS,
    comparison_after,
    comparison_before,
    count_cue_end,
    is_negation,
    order_direction,
)
from chatdb.prediction.template.joins import JoinGraph
from chatdb.prediction.template.linking import Mention, Target
from chatdb.prediction.template.plan import Aggregate, Condition, Exclusion, Literal_, Operator, Ordering, Output, Plan
from chatdb.prediction.template.schema_index import ColumnEntry, SchemaIndex, TableEntry
from chatdb.prediction.template.words import Token

_SUPERLATIVE_LINKS = CONDITION_WORDS | {"by", "is", "are", "was", "were", "the"}
_LIKE_WORDS = frozenset({"contain", "contains", "containing", "include", "includes", "including", "like",
                         "substring", "word"})
_VALUE_GLUE = frozenset({"is", "are", "was", "were", "of", "named", "called", "=", "as", "equal", "equals",
                         "to", "the", "a", "an", "not", "in", "at", "from", "with", "by"})


#: Words that may sit between the things a question asks for ("the names *and* ages *of all* singers").
_REQUEST_GLUE = frozenset({"of", "and", "the", "a", "an", "all", "each", "every", "for", "their", "its", "as",
                           "well", "also", "both", "along", "together", "plus", "in", "corresponding",
                           "respective", "distinct", "different", "unique", "list", "show", "what", "are", "is"})


class Unreadable(ValueError):
    """Nothing in the question could be tied to the schema."""


@dataclass(frozen=True)
class Choices:
    """Switches that produce alternative readings of one question."""

    alternative_column: int | None = None
    """Index (in question order) of the column mention read with its second-best target."""
    superlative_as_aggregate: bool = False
    aggregate_as_superlative: bool = False
    drop_distinct: bool = False
    all_columns: bool = False
    drop_context_tables: bool = False


@dataclass
class _State:
    outputs: list[Output] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    any_condition: bool = False
    group_by: list[ColumnEntry] = field(default_factory=list)
    group_tables: list[TableEntry] = field(default_factory=list)
    having: list[Condition] = field(default_factory=list)
    order: list[Ordering] = field(default_factory=list)
    limit: int | None = None
    negated_tables: list[TableEntry] = field(default_factory=list)
    negated_conditions: list[Condition] = field(default_factory=list)
    """Conditions on another table that rows must not have a match for ("countries that do not speak X")."""
    context_tables: list[TableEntry] = field(default_factory=list)
    count_subject: TableEntry | None = None
    count_requested: bool = False
    select_tables: list[TableEntry] = field(default_factory=list)
    count_superlative: bool | None = None
    """Order by COUNT(*) (True descending, False ascending), e.g. "the most orchestras"."""
    penalty: float = 0.0
    notes: list[str] = field(default_factory=list)


class Reader:
    """Reads one question (tokens + mentions) against one schema."""

    def __init__(self, tokens: list[Token], mentions: list[Mention], index: SchemaIndex, graph: JoinGraph,
                 choices: Choices | None = None) -> None:
        self.tokens = tokens
        self.lowers = [t.lower for t in tokens]
        self.mentions = mentions
        self.index = index
        self.graph = graph
        self.choices = choices or Choices()
        self.used_numbers: set[int] = set()
        self.consumed: set[int] = set()
        named = {k for m in mentions if m.kind in ("table", "column") and m.end - m.start > 1
                 for k in range(m.start, m.end)}
        self.count_end = count_cue_end(tokens, named)
        self.boundary = self._request_boundary()
        self.mentioned_tables = self._mentioned_tables()
        self.column_choice = self._resolve_columns()
        self.ambiguous_columns = [i for i, m in enumerate(mentions)
                                  if m.kind == "column" and len({id(t.column) for t in m.targets}) > 1]

    # ---- linking context -------------------------------------------------------------------------

    def _request_boundary(self) -> int:
        """Where the question stops saying what it wants and starts saying which rows.

        At the first condition word, ordering word, negation or superlative after the first name,
        or at the first other word after the first table named ("employees *received* ...").
        """
        names = [m for m in self.mentions if m.kind in ("table", "column")]
        first_mention = min((m.start for m in names), default=0)
        first_table = next((m for m in names if m.kind == "table"), None)
        in_names = {k for m in self.mentions for k in range(m.start, m.end)}
        for i, token in enumerate(self.tokens):
            if i <= first_mention:
                continue
            if (token.lower in CONDITION_WORDS or token.lower in ORDER_WORDS or is_negation(token)
                    or token.lower in EXTREME_WORDS or token.lower in IMPLIED_SUPERLATIVES):
                return i
            if (first_table is not None and i >= first_table.end and i not in in_names
                    and token.lower not in _REQUEST_GLUE and token.number is None):
                return i
        for mention in self.mentions:
            if mention.kind in ("value", "number") and mention.start > first_mention:
                return mention.start
        return len(self.tokens)

    def _negated(self, mention: Mention) -> bool:
        return any(is_negation(t) for t in self.tokens[max(0, mention.start - 5):mention.start])

    def _mentioned_tables(self) -> list[TableEntry]:
        """Tables the question is about (a negated "... not used by any document" does not count)."""
        tables: list[TableEntry] = []
        for mention in self.mentions:
            if mention.kind == "table" and self._negated(mention):
                continue
            if mention.kind == "table" or (mention.kind == "value" and mention.targets):
                candidate = mention.best.table
            else:
                continue
            if all(candidate is not t for t in tables):
                tables.append(candidate)
        return tables

    def _adjacent_table(self, mention: Mention) -> TableEntry | None:
        """A table named right before ("stadium name") or right after ("name of the stadium") a column."""
        for other in self.mentions:
            if other.kind != "table":
                continue
            if other.end == mention.start or (other.end == mention.start - 1 and self.lowers[other.end] == "'s"):
                return other.best.table
            gap = self.lowers[mention.end:other.start]
            if other.start >= mention.end and gap and gap[0] in ("of", "for", "in") and len(gap) <= 3 and all(
                    w in ("of", "for", "in", "the", "a", "an", "all", "each", "every", "those", "these") for w in gap):
                return other.best.table
        return None

    def _resolve_columns(self) -> dict[int, Target]:
        """The target of every column mention: best match in context, then fewest tables overall."""
        ranked_by_position: dict[int, list[tuple[float, Target]]] = {}
        for position, mention in enumerate(self.mentions):
            if mention.kind == "column":
                adjacent = self._adjacent_table(mention)
                ranked_by_position[position] = sorted(((self._target_score(t, adjacent), t) for t in mention.targets),
                                                      key=lambda pair: -pair[0])
        support: dict[int, float] = {}
        for table in self.mentioned_tables:
            support[id(table)] = support.get(id(table), 0.0) + 1.0
        for ranked in ranked_by_position.values():
            support[id(ranked[0][1].table)] = support.get(id(ranked[0][1].table), 0.0) + 1.0
        chosen: dict[int, Target] = {}
        for column_index, (position, ranked) in enumerate(sorted(ranked_by_position.items())):
            best_score = ranked[0][0]
            close = [pair for pair in ranked if pair[0] >= best_score - 0.15]
            close.sort(key=lambda pair: (-support.get(id(pair[1].table), 0.0), -pair[0]))
            ordered = [pair[1] for pair in close] + [pair[1] for pair in ranked if pair not in close]
            pick = 1 if self.choices.alternative_column == column_index and len(ordered) > 1 else 0
            chosen[position] = ordered[pick]
        return chosen

    def _target_score(self, target: Target, adjacent: TableEntry | None) -> float:
        score = target.score
        if any(target.table is t for t in self.mentioned_tables):
            score += 0.35
        if adjacent is not None and target.table is adjacent:
            score += 0.5
        if target.column is not None and target.column.is_key_like:
            score -= 0.05
        return score

    # ---- reading ---------------------------------------------------------------------------------

    def read(self) -> Plan:
        state = _State()
        previous_end = 0
        for position, mention in enumerate(self.mentions):
            gap = self.lowers[previous_end:mention.start]
            if mention.kind == "column":
                self._read_column(position, mention, gap, state)
            elif mention.kind == "table":
                self._read_table(mention, gap, state)
            elif mention.kind == "value":
                self._read_value(position, mention, gap, state)
            previous_end = max(previous_end, mention.end)
        for position, mention in enumerate(self.mentions):
            if mention.kind == "number":
                self._read_number(position, mention, state)
        self._read_implied_superlative(state)
        return self._assemble(state)

    def _column_of(self, position: int) -> ColumnEntry:
        column = self.column_choice[position].column
        assert column is not None
        return column

    def _read_column(self, position: int, mention: Mention, gap: list[str], state: _State) -> None:
        column = self._column_of(position)
        words = set(gap)
        aggregates = [AGGREGATE_WORDS[w] for w in gap if w in AGGREGATE_WORDS]
        extremes = [EXTREME_WORDS[w] for w in gap if w in EXTREME_WORDS and w not in AGGREGATE_WORDS]
        prior = any(m.kind in ("table", "column") for m in self.mentions[:position])
        if words & GROUP_WORDS or ("by" in words and not words & ORDER_WORDS and self._aggregating(position)):
            state.group_by.append(column)
            state.notes.append(f"grouped by {column.name}")
            return
        earlier_order = bool(set(self.lowers[:mention.start]) & ORDER_WORDS)
        if (words & ORDER_WORDS or earlier_order) and ("by" in words or "of" in words or "order" in words):
            descending = order_direction(self.lowers)
            state.order.append(Ordering(Output(column), bool(descending)))
            return
        if (words & FREQUENCY_WORDS and "most" in words) or ("least" in words and words & FREQUENCY_WORDS):
            state.group_by.append(column)
            state.outputs.append(Output(column))
            state.count_superlative = "most" in words
            return
        superlative_word = next((w for w in gap if w in EXTREME_WORDS), None)
        if superlative_word is not None and prior and words & _SUPERLATIVE_LINKS and (
                superlative_word not in AGGREGATE_WORDS or self.choices.aggregate_as_superlative):
            if not self.choices.superlative_as_aggregate:
                state.order.append(Ordering(Output(column), EXTREME_WORDS[superlative_word]))
                state.limit = state.limit or 1
                state.notes.append(f"the row with the {superlative_word} {column.name}")
                return
            aggregates = aggregates or ["max" if EXTREME_WORDS[superlative_word] else "min"]
        if not aggregates and extremes and not prior:
            aggregates = ["max" if extremes[0] else "min"]
        if aggregates:
            if self.choices.aggregate_as_superlative and prior and aggregates[0] in ("max", "min"):
                state.order.append(Ordering(Output(column), aggregates[0] == "max"))
                state.limit = 1
                return
            for aggregate in aggregates:
                state.outputs.append(Output(column, aggregate))
            return
        if self.count_end is not None and self._right_after_count(mention.start):
            if words & DISTINCT_WORDS and not column.is_key_like:
                state.outputs.append(Output(column, "count", distinct=True))
            elif column.kind == "number" and not column.is_key_like and self.lowers[:2] == ["how", "many"]:
                state.outputs.append(Output(column))
                state.notes.append(f"how many, read from {column.name}")
            else:
                state.count_subject = state.count_subject or column.table
                state.count_requested = True
            return
        if self._followed_by_value(mention):
            return
        if mention.start < self.boundary or (gap and gap[-1] in ("and",) and state.outputs
                                             and mention.start < self.boundary + 6 and not self._has_condition(gap)):
            state.outputs.append(Output(column))
            return
        state.context_tables.append(column.table)

    def _has_condition(self, gap: list[str]) -> bool:
        return bool(set(gap) & CONDITION_WORDS)

    def _aggregating(self, position: int) -> bool:
        if self.count_end is not None:
            return True
        before = self.lowers[:self.mentions[position].start]
        return any(w in AGGREGATE_WORDS for w in before)

    def _right_after_count(self, start: int) -> bool:
        """Whether a mention is the first name after the count cue ("how many *different* store locations")."""
        assert self.count_end is not None
        if start < self.count_end or start - self.count_end > 4:
            return False
        return not any(self.count_end <= m.start < start for m in self.mentions if m.kind in ("table", "column"))

    def _followed_by_value(self, mention: Mention) -> bool:
        """A column named just before its value ("whose country is France") is a filter, not an output."""
        for other in self.mentions:
            if other.kind == "value" and other.start >= mention.end:
                gap = self.lowers[mention.end:other.start]
                return len(gap) <= 3 and all(w in _VALUE_GLUE for w in gap)
        return False

    def _read_table(self, mention: Mention, gap: list[str], state: _State) -> None:
        table = mention.best.table
        words = set(gap)
        if self.count_end is not None and self._right_after_count(mention.start) and state.count_subject is None:
            state.count_subject = table
            state.count_requested = True
            return
        if self._negated(mention) and mention.start > self.boundary:
            state.negated_tables.append(table)
            return
        if words & GROUP_WORDS or ("by" in words and self._aggregating(self.mentions.index(mention))
                                   and not words & ORDER_WORDS):
            state.group_tables.append(table)
            return
        extreme = next((w for k, w in enumerate(gap) if w in ("most", "fewest", "least", "maximum", "minimum",
                                                              "highest", "lowest", "largest", "smallest")
                        and not (k + 1 < len(gap) and gap[k + 1] in IMPLIED_SUPERLATIVES)), None)
        if extreme is not None and mention.start > self.boundary:
            state.count_superlative = EXTREME_WORDS.get(extreme, True)
            state.context_tables.append(table)
            return
        if mention.start < self.boundary:
            state.select_tables.append(table)
        else:
            state.context_tables.append(table)

    def _read_value(self, position: int, mention: Mention, gap: list[str], state: _State) -> None:
        previous = self._previous_column(position)
        target = mention.best if mention.targets else None
        if previous is not None:
            matching = [t for t in mention.targets if t.column is previous]
            if matching:
                target = matching[0]
            elif target is None:
                target = Target(previous.table, previous, 0.5, mention.text)
        elif target is not None and len(mention.targets) > 1:
            target = max(mention.targets, key=self._value_target_score)
        if target is None:
            target = self._label_target(position, mention)
        if target is None or target.column is None:
            state.penalty += 0.2
            state.notes.append(f"could not place value {mention.text!r}")
            return
        negated = any(is_negation(self.tokens[k]) for k in range(max(0, mention.start - 3), mention.start))
        value: Literal_ = target.value if target.value is not None else mention.text
        operator: Operator = "!=" if negated else "="
        if set(gap) & _LIKE_WORDS:
            operator = "not like" if negated else "like"
            value = f"%{value}%"
        if target.column.is_numeric and not target.column.looks_numeric_text:
            number = _as_number(str(value))
            if number is not None:
                value = number
        if operator == "!=" and target.column.table is not self._subject_guess(state) and (
                self._subject_guess(state) is not None):
            state.negated_conditions.append(Condition(target.column, "=", (value,)))
            state.notes.append(f"without {target.column.name} = {value!r}")
            return
        existing = [c for c in state.conditions if c.column is target.column and c.operator == "="]
        if (existing and operator == "=") or ("or" in gap and state.conditions):
            state.any_condition = True
        state.conditions.append(Condition(target.column, operator, (value,)))
        state.notes.append(f"{target.column.name} {operator} {value!r}")

    def _label_target(self, position: int, mention: Mention) -> Target | None:
        """"the document named 'Summer Show'": a value nobody sampled names a row of the table before it."""
        for back in range(position - 1, -1, -1):
            other = self.mentions[back]
            if other.kind == "table":
                labels = other.best.table.label_columns
                if labels and labels[0].kind == "text":
                    return Target(other.best.table, labels[0], 0.5, mention.text)
                return None
        return None

    def _value_target_score(self, target: Target) -> float:
        """Prefer a value's column in a table the question names."""
        named = [m.best.table for m in self.mentions if m.kind == "table"]
        return target.score + (0.3 if any(target.table is t for t in named) else 0.0)

    def _previous_column(self, position: int) -> ColumnEntry | None:
        mention = self.mentions[position]
        for back in range(position - 1, -1, -1):
            other = self.mentions[back]
            if other.kind == "column":
                gap = self.lowers[other.end:mention.start]
                if len(gap) <= 3 and all(w in _VALUE_GLUE for w in gap):
                    return self._column_of(back)
                return None
            if other.kind != "table":
                return None
        return None

    def _read_number(self, position: int, mention: Mention, state: _State) -> None:
        assert mention.number is not None
        start = mention.start
        before = self.lowers[max(0, start - 2):start]
        after = self.lowers[mention.end:mention.end + 2]
        if start in self.used_numbers:
            return
        if (before and before[-1] in ("top", "first")) or (after and after[0] in EXTREME_WORDS) or (
                after and after[0] in IMPLIED_SUPERLATIVES):
            state.limit = int(mention.number)
            return
        if before and before[-1] == "between":
            following = next((m for m in self.mentions[position + 1:] if m.kind == "number"), None)
            if following is not None and following.number is not None:
                self.used_numbers.add(following.start)
                after_pair = self.mentions.index(following) + 1
                counted = self.mentions[after_pair] if after_pair < len(self.mentions) else None
                if counted is not None and counted.kind == "table" and counted.start - following.end <= 1 and (
                        self._counts_related_rows(counted.best.table, state)):
                    bounds = (_int_if_whole(mention.number), _int_if_whole(following.number))
                    state.having.append(Condition(None, "between", bounds, "count"))
                    state.context_tables.append(counted.best.table)
                    return
                column = self._number_column(position, mention, None)
                if column is not None:
                    low, high = _year_bounds(column, mention.number, following.number)
                    state.conditions.append(Condition(column, "between", (low, high)))
                    state.notes.append(f"{column.name} between {low} and {high}")
                return
        comparison = comparison_before(self.tokens, start)
        operator: Operator | None = comparison.operator if comparison else comparison_after(self.tokens, mention.end)
        following = self.mentions[position + 1] if position + 1 < len(self.mentions) else None
        if following is not None and following.kind == "table" and following.start - mention.end <= 2 and (
                self._counts_related_rows(following.best.table, state)):
            state.having.append(Condition(None, operator or "=", (_int_if_whole(mention.number),), "count"))
            state.context_tables.append(following.best.table)
            state.notes.append(f"having {operator or '='} {_int_if_whole(mention.number)} {following.best.table.name}")
            return
        implied = comparison.implied if comparison else ()
        column = self._number_column(position, mention, implied)
        if column is None:
            if operator is not None:
                state.penalty += 0.2
                state.notes.append(f"could not place number {mention.text}")
            return
        if operator is None:
            operator = "="
        start_of_phrase = comparison.start if comparison else mention.start
        if state.conditions and "or" in self.lowers[max(0, start_of_phrase - 2):start_of_phrase]:
            state.any_condition = True
        value = _int_if_whole(mention.number)
        state.conditions.extend(_date_aware(column, operator, value))
        state.notes.append(f"{column.name} {operator} {value}")

    def _counts_related_rows(self, table: TableEntry, state: _State) -> bool:
        """"with more than 2 orchestras": rows of another table, or rows grouped by a selected column."""
        if state.count_subject is table or any(t is table for t in state.select_tables):
            return False
        plain = [o.column for o in state.outputs if o.column is not None and o.aggregate is None]
        return table is not self._subject_guess(state) or bool(plain)

    def _subject_guess(self, state: _State) -> TableEntry | None:
        if state.count_subject is not None:
            return state.count_subject
        if state.select_tables:
            return state.select_tables[0]
        return self.mentioned_tables[0] if self.mentioned_tables else None

    def _number_column(self, position: int, mention: Mention, implied: tuple[str, ...] | None
                       ) -> ColumnEntry | None:
        following = self.mentions[position + 1] if position + 1 < len(self.mentions) else None
        if following is not None and following.kind == "column" and following.start - mention.end <= 1:
            column = self._column_of(position + 1)
            if column.is_numeric:
                return column
        if implied:
            found = self._find_column(implied)
            if found is not None:
                return found
        for back in range(position - 1, max(-1, position - 4), -1):
            other = self.mentions[back]
            if other.kind == "column" and mention.start - other.end <= 6:
                column = self._column_of(back)
                if column.is_numeric:
                    return column
        if 1000 <= (mention.number or 0) <= 2100:
            return self._find_column(("year", "date", "time"))
        return None

    def _find_column(self, words: tuple[str, ...]) -> ColumnEntry | None:
        """A numeric column named by one of the words, in the tables the question is about."""
        tables = self.mentioned_tables or self.index.tables
        for word in words:
            for table in [*tables, *self.index.tables]:
                for column in table.columns:
                    if word in column.words and column.is_numeric and not column.is_key_like:
                        return column
        return None

    def _read_implied_superlative(self, state: _State) -> None:
        if state.order:
            return
        for i, lower in enumerate(self.lowers):
            if lower not in IMPLIED_SUPERLATIVES:
                continue
            if i + 1 < len(self.lowers) and any(m.start == i + 1 and m.kind == "column" for m in self.mentions):
                continue
            words, descending = IMPLIED_SUPERLATIVES[lower]
            if lower == "recent" and (i == 0 or self.lowers[i - 1] != "most"):
                continue
            if lower == "expensive" and (i == 0 or self.lowers[i - 1] not in ("most", "least")):
                continue
            if lower == "expensive" and self.lowers[i - 1] == "least":
                descending = False
            column = self._find_column(words)
            if column is None and lower in ("oldest", "youngest"):
                column = self._find_column(("birth", "born", "date", "year"))
                descending = lower == "youngest"
            if column is None:
                continue
            state.order.append(Ordering(Output(column), descending))
            state.limit = state.limit or 1
            state.notes.append(f"the {lower} by {column.name}")
            return

    # ---- assembling ------------------------------------------------------------------------------

    def _assemble(self, state: _State) -> Plan:
        subject = self._subject(state)
        outputs = list(state.outputs)
        group_by = list(state.group_by)
        tables: list[TableEntry] = [subject]

        def need(table: TableEntry) -> None:
            if all(table is not t for t in tables):
                tables.append(table)

        for table in state.group_tables:
            if table is subject and not (state.count_requested and state.count_subject is not table) and not any(
                    o.aggregate for o in outputs):
                continue
            key = table.key
            labels = table.label_columns
            group_by.extend([key] if key else [])
            group_by.extend(c for c in labels if c is not key)
            outputs = [Output(c) for c in labels if all(o.column is not c or o.aggregate for o in outputs)] + outputs
            need(table)
        for column in state.group_by:
            if all(o.column is not column or o.aggregate for o in outputs):
                outputs.insert(0, Output(column))
        counted = state.count_requested or (state.count_subject is not None and not outputs)
        if counted:
            outputs.append(Output(None, "count"))
        if (state.having or state.count_superlative is not None or self._trailing_each(state)) and not group_by:
            group_by = self._implicit_grouping(subject, outputs)
        plain_outputs = [o for o in outputs if o.aggregate is None]
        if not plain_outputs and not any(o.aggregate for o in outputs):
            request = set(self.lowers[:self.boundary])
            if request & ALL_COLUMNS_WORDS or self.choices.all_columns:
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
        for ordering in state.order:
            if ordering.expression.column is not None:
                need(ordering.expression.column.table)
        for column in group_by:
            need(column.table)
        if not self.choices.drop_context_tables:
            for table in state.context_tables:
                if all(table is not n for n in state.negated_tables):
                    need(table)
        order = list(state.order)
        if not order and order_direction(self.lowers) is not None and set(self.lowers) & (
                ORDER_WORDS | {"alphabetical", "alphabetically"}):
            first_plain = next((o for o in outputs if o.column is not None and o.aggregate is None), None)
            if first_plain is not None:
                order.append(Ordering(first_plain, bool(order_direction(self.lowers))))
        limit = state.limit
        if state.count_superlative is not None:
            order.insert(0, Ordering(Output(None, "count"), state.count_superlative))
            limit = limit or 1
        exclusions, conditions = self._exclusions(subject, state, tables)
        tables = self._connectable(subject, tables, state)
        distinct = bool(set(self.lowers[:self.boundary + 1]) & DISTINCT_WORDS) and not any(
            o.aggregate for o in outputs) and not self.choices.drop_distinct and not group_by
        return Plan(subject=subject, outputs=outputs, tables=tables, conditions=conditions,
                    any_condition=state.any_condition, group_by=group_by, having=state.having, order=order,
                    limit=limit, distinct=distinct, exclusions=exclusions, notes=state.notes,
                    penalty=state.penalty)

    def _trailing_each(self, state: _State) -> bool:
        """"... and the number of templates for each": a count or aggregate per selected value."""
        if not (state.count_requested or any(o.aggregate for o in state.outputs)):
            return False
        for i, lower in enumerate(self.lowers):
            if lower in GROUP_WORDS and not any(m.start > i and m.kind in ("table", "column") for m in self.mentions):
                return True
        return False

    def _implicit_grouping(self, subject: TableEntry, outputs: list[Output]) -> list[ColumnEntry]:
        """Group by the one plain selected column, or by the subject's key and label."""
        plain = [o.column for o in outputs if o.column is not None and o.aggregate is None]
        if len(plain) == 1 and plain[0] not in plain[0].table.label_columns:
            return [plain[0]]
        key = subject.key
        return ([key] if key else []) + [c for c in subject.label_columns if c is not key]

    def _subject(self, state: _State) -> TableEntry:
        if state.count_subject is not None:
            return state.count_subject
        if state.select_tables:
            return state.select_tables[0]
        for output in state.outputs:
            if output.column is not None:
                return output.column.table
        if self.mentioned_tables:
            return self.mentioned_tables[0]
        for condition in state.conditions:
            if condition.column is not None:
                return condition.column.table
        for ordering in state.order:
            if ordering.expression.column is not None:
                return ordering.expression.column.table
        if len(self.index.tables) == 1 and (state.count_requested or self.count_end is not None):
            state.penalty += 0.3
            return self.index.tables[0]
        raise Unreadable("no table or column of the schema is mentioned")

    def _exclusions(self, subject: TableEntry, state: _State, tables: list[TableEntry]
                    ) -> tuple[list[Exclusion], list[Condition]]:
        """NOT IN subqueries for negated tables and negated conditions on other tables."""
        conditions = list(state.conditions)
        targets = list(state.negated_tables)
        for condition in state.negated_conditions:
            if condition.column is not None and all(condition.column.table is not t for t in targets):
                targets.append(condition.column.table)
        exclusions: list[Exclusion] = []
        for negated in targets:
            if negated is subject:
                continue
            path = self.graph.path([subject], negated)
            if not path:
                state.penalty += 0.2
                continue
            first = path[0]
            inner_tables = [first.right, *[e.right for e in path[1:]]]

            def inside(condition: Condition, inner: list[TableEntry] = inner_tables) -> bool:
                column = condition.column
                return column is not None and column.table is not subject and any(column.table is t for t in inner)

            inner_conditions = [c for c in conditions if inside(c)]
            inner_conditions += [c for c in state.negated_conditions if inside(c)]
            conditions = [c for c in conditions if all(c is not i for i in inner_conditions)]
            for table in inner_tables:
                if table in tables and table is not subject:
                    tables.remove(table)
            exclusions.append(Exclusion(first.left_columns[0], first.right_columns[0], inner_tables,
                                        inner_conditions))
            state.notes.append(f"without any matching {negated.name}")
        return exclusions, conditions

    def _connectable(self, subject: TableEntry, tables: list[TableEntry], state: _State) -> list[TableEntry]:
        """The tables, dropping context-only tables the join graph cannot reach."""
        if self.graph.connect(subject, tables[1:]) is not None:
            return tables
        required = {id(c.table) for o in state.outputs if (c := o.column) is not None}
        required |= {id(c.column.table) for c in state.conditions if c.column is not None}
        kept = [t for t in tables if t is subject or id(t) in required]
        state.penalty += 0.2
        return kept


def _as_number(text: str) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return _int_if_whole(value)


def _int_if_whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _year_bounds(column: ColumnEntry, low: float, high: float) -> tuple[Literal_, Literal_]:
    if column.kind == "date" and 1000 <= low <= 2100 and 1000 <= high <= 2100:
        return f"{int(low)}-01-01", f"{int(high)}-12-31 23:59:59"
    return _int_if_whole(low), _int_if_whole(high)


def _date_aware(column: ColumnEntry, operator: Operator, value: float | int) -> list[Condition]:
    """A year compared with a date column becomes a date range; anything else stays as it is."""
    if column.kind != "date" or not (1000 <= value <= 2100) or not float(value).is_integer():
        return [Condition(column, operator, (value,))]
    year = int(value)
    start, next_start = f"{year}-01-01", f"{year + 1}-01-01"
    if operator == "=":
        return [Condition(column, ">=", (start,)), Condition(column, "<", (next_start,))]
    if operator in (">", ">="):
        return [Condition(column, ">=", (next_start if operator == ">" else start,))]
    if operator in ("<", "<="):
        return [Condition(column, "<", (start if operator == "<" else next_start,))]
    return [Condition(column, operator, (value,))]


AggregateName = Aggregate
