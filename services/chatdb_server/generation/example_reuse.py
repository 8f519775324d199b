"""Answering from a golden example: a question asked again, or close to one a person answered (by
CreateExample, or by SubmitFeedback's correction or approval), gets that example's SQL.

Independent of the backend: QueryService tries it before asking a generator, so a correction takes
effect on the next ask whether a model or the template generator serves the source (a model still
sees the examples in its prompt when none is reused). An exact repeat (the same words, case and
punctuation aside) takes the example's SQL as it is. Otherwise an example answers when every table
it reads is among those retrieved for the question, the two questions have the same shape
(``question_cues``: counting, grouping, extremes, negation... agree), its values re-link to the
question's (``literal_relinking``), and the question is at least ``min_similarity`` close to the
example's (cosine of their embeddings; where values changed, of the question restated with the
example's values, so that "orders from Madrid" is as close to "orders from Berlin" as the words
around the value make it). The reused SQL is guarded and bound by the caller's policies like any other.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import sqlglot
from sqlglot import exp

from chatdb_server.generation.interface import ExampleInfo, GenerationRequest
from chatdb_server.generation.literal_relinking import relink
from chatdb_server.generation.question_cues import same_shape
from chatdb_server.retrieval.context import SchemaContext

EXACT_CONFIDENCE = 0.98
"""Confidence of an exact repeat: a person gave this SQL for these words."""
MAX_REUSED_CONFIDENCE = 0.95
"""A close question's confidence is its similarity, at most this."""
_WORD = re.compile(r"\w+")

QuestionSimilarity = Callable[[str, str], Awaitable[float]]
"""The cosine similarity of two questions' embeddings."""


@dataclass(frozen=True)
class Reuse:
    """The example that answers a question, and its SQL for that question."""

    example: ExampleInfo
    sql: str
    exact: bool
    changes: tuple[tuple[str, str], ...]
    """Each (example's value, question's value) put into the SQL."""
    restated: str
    """The question with the example's values in place of the changed ones."""
    similarity: float
    """How close the question is to the example's (restated where values changed); 1 for an exact repeat."""

    @property
    def confidence(self) -> float:
        """An exact repeat's :data:`EXACT_CONFIDENCE`, else the similarity up to :data:`MAX_REUSED_CONFIDENCE`."""
        return EXACT_CONFIDENCE if self.exact else round(min(MAX_REUSED_CONFIDENCE, self.similarity), 3)

    def explanation(self, example_name: str) -> str:
        """Says which example answered, how close it was, and which values changed."""
        if self.exact:
            return f"Answered with the SQL of golden example {example_name}, asked in the same words."
        said = f"golden example {example_name} (\"{self.example.question}\", similarity {self.similarity:.2f})"
        if not self.changes:
            return f"Answered with the SQL of {said}."
        values = ", ".join(f"{old!r} → {new!r}" for old, new in self.changes)
        return f"Answered from {said} with its values re-linked: {values}."


async def reuse_example(request: GenerationRequest, min_similarity: float,
                        similarity: QuestionSimilarity) -> Reuse | None:
    """The first of :func:`reuse_candidates` that is an exact repeat or at least ``min_similarity`` close
    (``similarity`` compares a restated question with the example's), or None."""
    for reuse in reuse_candidates(request):
        if reuse.changes:
            reuse = replace(reuse, similarity=await similarity(reuse.example.question, reuse.restated))
        if reuse.exact or reuse.similarity >= min_similarity:
            return reuse
    return None


def reuse_candidates(request: GenerationRequest) -> list[Reuse]:
    """The examples of ``request`` that could answer its question, exact repeats first, then by similarity:
    those whose tables were retrieved, whose shape agrees and whose values re-link (similarity not yet
    restated)."""
    asked = normalised(request.question)
    exact = [Reuse(e, e.sql, True, (), request.question, 1.0) for e in request.examples
             if normalised(e.question) == asked]
    if exact:
        return exact[:1]
    visible = {table.name.casefold() for table in request.schema.tables}
    samples = column_samples(request.schema)
    found = []
    for example in sorted(request.examples, key=lambda e: -e.similarity):
        tables = sql_tables(example.sql, request.dialect)
        if not tables or not tables <= visible or not same_shape(example.question, request.question):
            continue
        relinked = relink(example.question, example.sql, request.question, request.dialect, samples)
        if relinked is not None:
            found.append(Reuse(example, relinked.sql, False, relinked.changes, relinked.restated, example.similarity))
    return found


def normalised(question: str) -> str:
    """A question's words, lower-cased: what an exact repeat must match."""
    return " ".join(_WORD.findall(question.casefold()))


def sql_tables(sql: str, dialect: str) -> set[str]:
    """The tables ``sql`` reads (lower-case, schema-qualified where it qualifies them; CTEs left out), or
    nothing when it does not parse."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return set()
    ctes = {cte.alias_or_name.casefold() for cte in tree.find_all(exp.CTE)}
    names = {(f"{t.db}.{t.name}" if t.db else t.name).casefold() for t in tree.find_all(exp.Table) if t.name}
    return names - ctes


def column_samples(schema: SchemaContext) -> dict[str, list[str]]:
    """Lower-case column name → the sample values the schema shows for columns of that name."""
    samples: dict[str, list[str]] = {}
    for table in schema.tables:
        for column in table.columns:
            if column.sample_values:
                samples.setdefault(column.name.casefold(), []).extend(column.sample_values)
    return samples
