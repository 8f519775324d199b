"""TemplateGenerator: SQL from a question and a schema with no model, deterministic and grounded.

Cheap enough to run in-process at degradation level 2: the schema index is built once per
SchemaContext object and reused; one question costs tokenising, a dictionary walk over its
n-grams and a sqlglot build.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import sqlglot

from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.generation.followup import read_follow_up
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.builder import JoinError, build_sql
from chatdb_server.prediction.template.conformance import conform
from chatdb_server.prediction.template.followups import refine
from chatdb_server.prediction.template.intents import (
    AGGREGATE_WORDS,
    ASCENDING_WORDS,
    COUNT_PHRASES,
    DESCENDING_WORDS,
    DISTINCT_WORDS,
    EXTREME_WORDS,
    GROUP_WORDS,
    IMPLIED_COMPARATIVES,
    IMPLIED_SUPERLATIVES,
    NEGATION_WORDS,
    ORDER_WORDS,
)
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.linking import (
    Mention,
    build_phrases,
    link_by_embedding,
    link_names,
    link_proper_nouns,
    link_values,
    merge,
)
from chatdb_server.prediction.template.plan import Plan
from chatdb_server.prediction.template.question import Choices, Unreadable
from chatdb_server.prediction.template.reader import Reader
from chatdb_server.prediction.template.reliability import reliability_shift
from chatdb_server.prediction.template.repair import repair_sql
from chatdb_server.prediction.template.schema_index import SchemaIndex, build_index
from chatdb_server.prediction.template.vocabulary import word_set
from chatdb_server.prediction.template.words import STOPWORDS, Token, tokenize
from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect

MODEL_NAME = "models/template"
MAX_CANDIDATES = 10
_SCHEMA_CACHE_SIZE = 32
_CUE_WORDS = frozenset({*AGGREGATE_WORDS, *EXTREME_WORDS, *ORDER_WORDS, *GROUP_WORDS, *DISTINCT_WORDS,
                        *NEGATION_WORDS, *ASCENDING_WORDS, *DESCENDING_WORDS, *IMPLIED_SUPERLATIVES,
                        *IMPLIED_COMPARATIVES, *(w for p in COUNT_PHRASES for w in p),
                        *word_set("cues", "coverage_cue_words_extra")})
#: How much less sure each alternative reading is than the main one.
_ALTERNATIVES: tuple[tuple[Choices, float], ...] = (
    (Choices(superlative_as_aggregate=True), costs.SUPERLATIVE_AS_AGGREGATE),
    (Choices(aggregate_as_superlative=True), costs.AGGREGATE_AS_SUPERLATIVE),
    (Choices(drop_distinct=True), costs.DROP_DISTINCT),
    (Choices(drop_context_tables=True), costs.DROP_CONTEXT_TABLES),
    (Choices(all_columns=True), costs.ALL_COLUMNS),
)


@dataclass
class _Prepared:
    """What the generator derives once per schema."""

    schema: SchemaContext
    index: SchemaIndex
    phrases: object
    graph: JoinGraph
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class _Reading:
    plan: Plan
    sql: str
    confidence: float


class TemplateGenerator:
    """The no-model SQL generator (backend ``template``)."""

    name = "template"

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self._embed = embed
        self._prepared: OrderedDict[Hashable, _Prepared] = OrderedDict()

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates for the request, best first (off the event loop when an embedder is used)."""
        if self._embed is not None:
            return await asyncio.to_thread(self.generate_sync, request)
        return self.generate_sync(request)

    def generate_sync(self, request: GenerationRequest) -> GenerationResult:
        """Candidates for the request, best first. Raises InvalidArgument or FailedPrecondition(NO_ANSWER).

        In a repair round (``request.repair``) the rejected SQL, fixed for the database's error where
        a rule of ``repair.py`` applies, comes first, before the readings."""
        started = time.perf_counter()
        dialect = _validate(request)
        prepared = self._prepare(request.schema)
        tokens = tokenize(request.question)
        mentions = self._link(request.question, tokens, prepared)
        refined = _follow_up(request, tokens, mentions, prepared, dialect)
        if refined is not None:
            return GenerationResult(candidates=[refined], model=MODEL_NAME, backend=self.name,
                                    generation_seconds=time.perf_counter() - started)
        if not any(m.kind in ("table", "column", "value") and not m.proper_noun for m in mentions) and len(
                prepared.index.tables) > 1:
            raise FailedPrecondition("The question mentions nothing this schema knows; no SQL can be grounded.",
                                     "NO_ANSWER")
        wanted = min(max(request.candidate_count, 1), MAX_CANDIDATES)
        readings = self._readings(tokens, mentions, prepared, dialect, wanted)
        repaired = _repaired(request, dialect, readings[0].confidence if readings else costs.MIN_CONFIDENCE)
        if not readings and repaired is None:
            raise FailedPrecondition("The question could not be read against this schema.", "NO_ANSWER")
        candidates = [SqlCandidate(sql=r.sql, confidence=round(r.confidence, 3), explanation=_explain(r.plan),
                                   rules=tuple(r.plan.rules)) for r in readings[:wanted]]
        if repaired is not None:
            candidates = [repaired, *(c for c in candidates if c.sql != repaired.sql)][:MAX_CANDIDATES]
        return GenerationResult(candidates=candidates, model=MODEL_NAME, backend=self.name,
                                generation_seconds=time.perf_counter() - started)

    # ---- internals -------------------------------------------------------------------------------

    def _prepare(self, schema: SchemaContext) -> _Prepared:
        key = _schema_key(schema)
        cached = self._prepared.get(key)
        if cached is not None:
            self._prepared.move_to_end(key)
            return cached
        index = build_index(schema)
        prepared = _Prepared(schema, index, build_phrases(index), JoinGraph(index, schema))
        self._prepared[key] = prepared
        while len(self._prepared) > _SCHEMA_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    def _link(self, question: str, tokens: list[Token], prepared: _Prepared) -> list[Mention]:
        names = link_names(tokens, prepared.index, prepared.phrases)  # type: ignore[arg-type]
        mentions = link_proper_nouns(question, tokens, merge(names, link_values(tokens, prepared.index)))
        if self._embed is not None:
            mentions = link_by_embedding(tokens, mentions, prepared.index, self._embed, prepared.embeddings)
        return mentions

    def _readings(self, tokens: list[Token], mentions: list[Mention], prepared: _Prepared, dialect: str,
                  wanted: int) -> list[_Reading]:
        base = _coverage_confidence(tokens, mentions)
        choices: list[tuple[Choices, float]] = [(Choices(), 0.0)]
        if wanted > 1:
            ambiguous = sum(1 for m in mentions if m.kind == "column" and len(m.targets) > 1)
            choices += [(Choices(alternative_column=i), costs.ALTERNATIVE_COLUMN) for i in range(min(ambiguous, 3))]
            choices += list(_ALTERNATIVES)
        readings: list[_Reading] = []
        seen: set[str] = set()
        for choice, cost in choices:
            try:
                plan = conform(Reader(tokens, mentions, prepared.index, prepared.graph, choice).read())
                sql = build_sql(plan, prepared.graph, dialect)
            except (Unreadable, JoinError):
                continue
            if sql in seen or not _parses(sql, dialect):
                continue
            seen.add(sql)
            confidence = base - plan.penalty - cost + reliability_shift(plan.rules)
            confidence = max(costs.MIN_CONFIDENCE, min(costs.MAX_CONFIDENCE, confidence))
            readings.append(_Reading(plan, sql, confidence))
            if wanted == 1:
                break
        # The main reading stays first; alternatives follow by confidence, each below it.
        main, rest = readings[:1], sorted(readings[1:], key=lambda r: -r.confidence)
        return main + [_Reading(r.plan, r.sql, min(r.confidence, main[0].confidence - costs.BELOW_MAIN)) for r in rest]


def _repaired(request: GenerationRequest, dialect: str, confidence: float) -> SqlCandidate | None:
    """In a repair round, the rejected SQL fixed for the database's error (first of the candidates)."""
    if request.repair is None:
        return None
    fixed = repair_sql(request.repair.failed_sql, request.repair.error, dialect)
    if fixed is None or not _parses(fixed.sql, dialect):
        return None
    return SqlCandidate(sql=fixed.sql, confidence=round(confidence, 3),
                        explanation=f"The database rejected the previous SQL; it was rewritten ({fixed.rule}).",
                        rules=(fixed.rule,))


def _schema_key(schema: SchemaContext) -> Hashable:
    """What the prepared index depends on: the tables in order with their columns and descriptions, and the
    joins; not the retrieval scores, which differ with every question. Each ask brings a new context object
    (retrieval builds one per question), so the key is its content: the questions asked of one source's
    tables share one index instead of rebuilding it (about a third of an ask's time on the event loop)."""
    return tuple((t.name, t.description, t.columns) for t in schema.tables), schema.joins


def _follow_up(request: GenerationRequest, tokens: list[Token], mentions: list[Mention], prepared: _Prepared,
               dialect: str) -> SqlCandidate | None:
    """The previous turn's SQL refined for a follow-up question; None when it asks nothing of it."""
    if not request.previous_turns:
        return None
    follow = read_follow_up(request.question)
    if follow is None:
        return None
    if request.repair is not None:
        # The refined SQL was rejected by the database: fixed for its error where a rule applies.
        return _repaired(request, dialect, costs.FOLLOW_UP_CONFIDENCE)
    refined = refine(follow, request.previous_turns[-1].sql, request.question, [t.lower for t in tokens], mentions,
                     prepared.index, request.schema, dialect)
    if refined is None or not _parses(refined.sql, dialect):
        return None
    return SqlCandidate(sql=refined.sql, confidence=costs.FOLLOW_UP_CONFIDENCE,
                        explanation=f"Refines the previous query: {'; '.join(refined.notes)}.",
                        rules=("follow-up", *sorted(follow.changes)))


def _validate(request: GenerationRequest) -> str:
    if not request.question or not request.question.strip():
        raise InvalidArgument("question", "must not be empty")
    if not request.schema.tables:
        raise InvalidArgument("schema_context.tables", "must name at least one table")
    try:
        dialect = Dialect(request.dialect)
    except ValueError:
        raise InvalidArgument("dialect", f"unsupported dialect {request.dialect!r}; "
                              f"use one of {', '.join(d.value for d in Dialect)}") from None
    if request.candidate_count < 0:
        raise InvalidArgument("candidate_count", "must not be negative")
    return dialect.value


@functools.lru_cache(maxsize=4096)
def _parses(sql: str, dialect: str) -> bool:
    """Whether ``sql`` parses in ``dialect``: remembered per text, as the same questions come back and their SQL
    is the same (parsing it was a third of generation)."""
    try:
        sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return False
    return True


def _coverage_confidence(tokens: list[Token], mentions: list[Mention]) -> float:
    """Share of the question's content words that were understood, weighted by how well they matched."""
    covered: dict[int, float] = {}
    for mention in mentions:
        score = costs.CAPITALISED_VALUE_MATCH if mention.proper_noun else min(1.0, mention.score)
        for k in range(mention.start, mention.end):
            covered[k] = max(covered.get(k, 0.0), score)
    weights = []
    for i, token in enumerate(tokens):
        if token.lemma in STOPWORDS:
            continue
        if i in covered:
            weights.append(covered[i])
        elif token.lower in _CUE_WORDS or token.lemma in _CUE_WORDS:
            weights.append(costs.CUE_WORD_WEIGHT)
        else:
            weights.append(0.0)
    if not weights:
        return costs.NO_CONTENT_CONFIDENCE
    coverage = sum(weights) / len(weights)
    return costs.COVERAGE_BASE + costs.COVERAGE_WEIGHT * coverage


def _explain(plan: Plan) -> str:
    outputs = ", ".join(o.describe() for o in plan.outputs)
    tables = ", ".join(t.name for t in plan.tables)
    details = "; ".join(dict.fromkeys(plan.notes))
    sentence = f"Read as {outputs} from {tables}"
    read = f"{sentence} ({details})." if details else f"{sentence}."
    return f"{read} Rules: {', '.join(plan.rules)}." if plan.rules else read
