"""A linked question as the reading rules see it: tokens, mentions and what is derived from them once.

Everything here is fixed for one reading: where the request ends and the row conditions
begin (``boundary``), which tables the question is about, which target each column
mention resolves to, and small look-ups the rules share. What a reading builds up lives in
``ReadingState``.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import (
    AGGREGATE_WORDS,
    CONDITION_WORDS,
    EXTREME_WORDS,
    GROUP_WORDS,
    IMPLIED_SUPERLATIVES,
    ORDER_WORDS,
    count_cue_end,
    is_negation,
)
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import Mention, Target
from chatdb_server.prediction.template.schema_index import ColumnEntry, SchemaIndex, TableEntry
from chatdb_server.prediction.template.vocabulary import word_set
from chatdb_server.prediction.template.words import STOPWORDS, Token

#: Words that may sit between a column and its value ("whose country *is* France").
VALUE_GLUE = word_set("cues", "value_glue")

#: Words that may sit between the things a question asks for ("the names *and* ages *of all* singers").
_REQUEST_GLUE = word_set("cues", "request_glue")


#: Words between a column and the table it belongs to ("name *of the* stadium").
_OF_TABLE = frozenset({"of", "for", "in", "the", "a", "an", "all", "each", "every", "those", "these"})

#: Words between the columns of a list ("id, name *and* age").
_LIST_GLUE = frozenset({"and", "or", "the", "its", "their"})

#: Target scores closer than this are a tie.
_TIE = 1e-9

#: Words that call a numeric column a total, which is summed when grouped ("revenue per month").
_TOTAL_WORDS = word_set("cues", "total_words")


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


class Question:
    """One question (tokens + mentions) linked against one schema, with its derived context."""

    def __init__(self, tokens: list[Token], mentions: list[Mention], index: SchemaIndex, graph: JoinGraph,
                 choices: Choices | None = None) -> None:
        self.tokens = tokens
        self.lowers = [t.lower for t in tokens]
        self.mentions = mentions
        self.index = index
        self.graph = graph
        self.choices = choices or Choices()
        named = {k for m in mentions if m.kind in ("table", "column") and m.end - m.start > 1
                 for k in range(m.start, m.end)}
        self.count_end = count_cue_end(tokens, named)
        self.boundary = self._request_boundary()
        self.mentioned_tables = self._mentioned_tables()
        self.column_choice = self._resolve_columns()

    # ---- derived once ----------------------------------------------------------------------------

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

    def _mentioned_tables(self, shared_keys_too: bool = True) -> list[TableEntry]:
        """Tables the question is about (a negated "... not used by any document" does not count).

        Without ``shared_keys_too`` a value of a column whose name other tables share (a key such as
        ``item_type_code``, sampled where it is a foreign key) does not count: it is as much the other
        tables'."""
        tables: list[TableEntry] = []
        shared = set() if shared_keys_too else _shared_column_names(self.index)
        for mention in self.mentions:
            if mention.kind == "table" and self.negated(mention):
                continue
            if mention.kind == "table" or (mention.kind == "value" and mention.targets and (
                    mention.best.column is None or mention.best.column.name.lower() not in shared)):
                candidate = mention.best.table
            else:
                continue
            if all(candidate is not t for t in tables):
                tables.append(candidate)
        return tables

    def _adjacent_table(self, mention: Mention) -> TableEntry | None:
        """A table named right before ("stadium name") or right after ("name of the stadium") a column, or
        after the list of columns it ends ("the id *and name* of the store")."""
        for other in self.mentions:
            if other.kind != "table":
                continue
            if other.end == mention.start or (other.end == mention.start - 1 and self.lowers[other.end] == "'s"):
                return other.best.table
            gap = self.lowers[self._end_of_column_list(mention):other.start]
            if other.start >= mention.end and gap and gap[0] in ("of", "for", "in") and len(gap) <= 3 and all(
                    w in _OF_TABLE for w in gap):
                return other.best.table
        return None

    def _end_of_column_list(self, mention: Mention) -> int:
        """Where the list of column names a column mention starts ends ("id, name *and* age"): the columns
        joined by "and" or "or" right after it."""
        end = mention.end
        for other in self.mentions:
            if other.start < end:
                continue
            if other.kind != "column" or not 0 < other.start - end <= 2 or not all(
                    w in _LIST_GLUE for w in self.lowers[end:other.start]):
                break
            end = other.end
        return end

    def _resolve_columns(self) -> dict[int, Target]:
        """The target of every column mention: best match in context, then fewest tables overall."""
        ranked_by_position: dict[int, list[tuple[float, Target]]] = {}
        named = self._mentioned_tables(shared_keys_too=False)
        for position, mention in enumerate(self.mentions):
            if mention.kind == "column":
                adjacent = self._adjacent_table(mention)
                targets = [*mention.targets, *self._targets_in_adjacent_table(mention, adjacent)]
                ranked_by_position[position] = sorted(
                    ((self._target_score(t, adjacent, named), t) for t in targets), key=lambda pair: -pair[0])
        tables_named = [m.best.table for m in self.mentions if m.kind == "table" and not self.negated(m)]
        support: dict[int, float] = {}
        for table in named:
            support[id(table)] = support.get(id(table), 0.0) + 1.0
        for ranked in ranked_by_position.values():
            # A mention whose best targets tie ("population" of cities and of countries) shares its vote.
            tied = [target for score, target in ranked if score >= ranked[0][0] - _TIE]
            for target in tied:
                support[id(target.table)] = support.get(id(target.table), 0.0) + 1.0 / len(tied)
        chosen: dict[int, Target] = {}
        for column_index, (position, ranked) in enumerate(sorted(ranked_by_position.items())):
            best_score = ranked[0][0]
            close = [pair for pair in ranked if pair[0] >= best_score - costs.CLOSE_TARGETS]
            beside = _namesake_support(position, close, ranked_by_position, tables_named, self.graph)
            close.sort(key=lambda pair: (-beside.get(id(pair[1].table), 0.0), -support.get(id(pair[1].table), 0.0),
                                         -pair[0]))
            ordered = [pair[1] for pair in close] + [pair[1] for pair in ranked if pair not in close]
            pick = 1 if self.choices.alternative_column == column_index and len(ordered) > 1 else 0
            chosen[position] = ordered[pick]
        return chosen

    def _targets_in_adjacent_table(self, mention: Mention, adjacent: TableEntry | None) -> list[Target]:
        """"product details", "the details of the product": when none of the word's matches is a column of
        the table named beside it, that table's columns whose names hold the word (``other_details``) are
        matches too, scored as part of their name (linking leaves out parts made of words as common as
        "details")."""
        if adjacent is None or any(t.table is adjacent for t in mention.targets):
            return []
        lemmas = {t.lemma for t in self.tokens[mention.start:mention.end]} - STOPWORDS
        if not lemmas:
            return []
        return [Target(adjacent, column, costs.PART_OF_NAME_MATCH * len(lemmas) / len(column.words))
                for column in adjacent.columns if lemmas <= set(column.words)]

    def _target_score(self, target: Target, adjacent: TableEntry | None, named: list[TableEntry]) -> float:
        score = target.score
        if any(target.table is t for t in named):
            score += costs.MENTIONED_TABLE_BONUS
        if adjacent is not None and target.table is adjacent:
            score += costs.ADJACENT_TABLE_BONUS
        if target.column is not None and target.column.is_key_like:
            score -= costs.KEY_COLUMN_MALUS
        return score

    # ---- shared look-ups -------------------------------------------------------------------------

    def negated(self, mention: Mention) -> bool:
        """Whether a negation sits in the five words before ``mention``."""
        return any(is_negation(t) for t in self.tokens[max(0, mention.start - 5):mention.start])

    def column_of(self, position: int) -> ColumnEntry:
        """The resolved column of the column mention at ``position``."""
        column = self.column_choice[position].column
        assert column is not None
        return column

    def aggregating(self, position: int) -> bool:
        """Whether a count or an aggregate was asked for before the mention at ``position``."""
        if self.count_end is not None:
            return True
        before = self.lowers[:self.mentions[position].start]
        return any(w in AGGREGATE_WORDS for w in before)

    def asks_aggregate_first(self) -> bool:
        """Whether a count or an aggregate word comes before any column is named ("how many ...",
        "what is the total population of ..."): the question asks for one figure, unless it says
        "each", "every" or "per" anywhere."""
        if set(self.lowers) & GROUP_WORDS:
            return False
        columns = [m.start for m in self.mentions if m.kind == "column"]
        first = min(columns, default=len(self.tokens))
        if self.count_end is not None and self.count_end <= first:
            return True
        return any(w in AGGREGATE_WORDS for w in self.lowers[:first])

    def right_after_count(self, start: int) -> bool:
        """Whether a mention is the first name after the count cue ("how many *different* store locations")."""
        assert self.count_end is not None
        if start < self.count_end or start - self.count_end > 4:
            return False
        return not any(self.count_end <= m.start < start for m in self.mentions if m.kind in ("table", "column"))

    def followed_by_value(self, mention: Mention) -> bool:
        """A column named just before its value ("whose country is France") is a filter, not an output."""
        for other in self.mentions:
            if other.kind == "value" and other.start >= mention.end:
                return self.column_holds_value(mention, other)
        return False

    def column_holds_value(self, column: Mention, value: Mention) -> bool:
        """Whether the value right after a column is that column's ("whose country is France").

        A name read only from its capitals needs more: the column right before it ("the supplier Acme
        Tools") or among the conditions; "which city is Acme in" asks for the city."""
        gap = self.lowers[column.end:value.start]
        if len(gap) > 3 or not all(w in VALUE_GLUE for w in gap):
            return False
        return not value.proper_noun or not gap or column.start >= self.boundary

    def names_a_total(self, mention: Mention, column: ColumnEntry) -> bool:
        """"total amount", "total revenue": the words of a numeric column mention call it a total."""
        return column.is_numeric and not column.is_key_like and any(
            w in _TOTAL_WORDS for w in self.lowers[mention.start:mention.end])

    def find_column(self, words: tuple[str, ...]) -> ColumnEntry | None:
        """A numeric column named by one of the words, in the tables the question is about."""
        tables = self.mentioned_tables or self.index.tables
        for word in words:
            for table in [*tables, *self.index.tables]:
                for column in table.columns:
                    if word in column.words and column.is_numeric and not column.is_key_like:
                        return column
        return None


def _shared_column_names(index: SchemaIndex) -> set[str]:
    """Lower-case column names more than one table has."""
    seen: set[str] = set()
    shared: set[str] = set()
    for table in index.tables:
        for name in {c.name.lower() for c in table.columns}:
            (shared if name in seen else seen).add(name)
    return shared


def _namesake_support(position: int, close: list[tuple[float, Target]],
                      ranked_by_position: dict[int, list[tuple[float, Target]]], tables_named: list[TableEntry],
                      graph: JoinGraph) -> dict[int, float]:
    """For a column name several tables share (a key on both sides of a join: ``item_type_code`` of ``items``
    and of ``item_types``), a preference for each of those tables: the key holds the same values on both
    sides, so it is read in the table the question's other columns and tables need (one vote each), else
    in the one fewest joins away from them, and no join is made for it. Empty when the close targets are not
    all one name."""
    names = {pair[1].column.name.lower() for pair in close if pair[1].column is not None}
    if len(close) < 2 or len(names) != 1:
        return {}
    others = list(tables_named)
    for other, ranked in ranked_by_position.items():
        top = [t.table for score, t in ranked if score >= ranked[0][0] - _TIE]
        if other != position and len({id(t) for t in top}) == 1:
            others.append(top[0])
    preference: dict[int, float] = {}
    for _, target in close:
        votes = sum(1.0 for t in others if t is target.table)
        path = graph.path(others, target.table) if others else []
        preference[id(target.table)] = votes - (0.01 * len(path) if path is not None else 1.0)
    return preference
