"""The fine-tune dataset: a source's golden examples plus pairs synthesised from its schema.

Synthetic questions come from templates over the source's tables and columns ("how many
{table} are there", "list the {column} of {table} whose {column} is {value}", ...); the
template generator writes their SQL, and only answers it is reasonably sure of are kept.
Each pair is trained with the tables its SQL names as schema context, the shape of
context retrieval hands the model at serving time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from chatdb_server.errors import ChatDBError
from chatdb_server.generation.interface import GenerationRequest, SqlGenerator
from chatdb_server.log import get_logger
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.retrieval.words import identifier_words
from chatdb_server.sql.dsn import Dialect

log = get_logger(__name__)

MIN_SYNTHETIC_CONFIDENCE = 0.3
GOLDEN = "golden"
SYNTHETIC = "synthetic"
_NUMERIC_TYPES = ("int", "real", "float", "double", "decimal", "numeric", "number")


@dataclass(frozen=True)
class TrainingPair:
    """One question with its SQL and where it came from."""

    question: str
    sql: str
    origin: str = GOLDEN


def _words(name: str) -> str:
    return " ".join(identifier_words(name)) or name


def _is_numeric(column: ColumnInfo) -> bool:
    return any(kind in column.data_type.lower() for kind in _NUMERIC_TYPES)


def _table_questions(table: TableInfo) -> list[str]:
    noun = _words(table.name)
    questions = [f"How many {noun} are there?", f"List all {noun}."]
    for column in table.columns:
        if column.primary_key:
            continue
        col = _words(column.name)
        questions.append(f"List the {col} of all {noun}.")
        if _is_numeric(column):
            questions += [f"What is the average {col} of {noun}?", f"What is the maximum {col} of {noun}?",
                          f"Which {noun} has the highest {col}?"]
        for value in column.sample_values[:2]:
            questions += [f"How many {noun} have {col} {value}?", f"List the {noun} whose {col} is {value}."]
    return questions


def synthetic_questions(schema: SchemaContext, limit: int) -> list[str]:
    """Up to ``limit`` template questions, taken round-robin over the tables so every table is covered."""
    per_table = [_table_questions(table) for table in schema.tables]
    mixed = [q for group in itertools.zip_longest(*per_table) for q in group if q is not None]
    return list(dict.fromkeys(mixed))[:limit]


async def build_dataset(golden: list[TrainingPair], schema: SchemaContext, dialect: Dialect,
                        generator: SqlGenerator, synthetic: int) -> list[TrainingPair]:
    """Golden pairs, then up to ``synthetic`` pairs the generator answers with confidence."""
    pairs = list(golden)
    seen = {p.question.strip().lower() for p in pairs}
    for question in synthetic_questions(schema, synthetic * 2):
        if len(pairs) - len(golden) >= synthetic:
            break
        if question.lower() in seen:
            continue
        try:
            result = await generator.generate(GenerationRequest(question=question, dialect=dialect, schema=schema))
        except ChatDBError:
            continue
        best = result.candidates[0] if result.candidates else None
        if best is None or best.confidence < MIN_SYNTHETIC_CONFIDENCE:
            continue
        seen.add(question.lower())
        pairs.append(TrainingPair(question=question, sql=best.sql, origin=SYNTHETIC))
    log.info("finetune.dataset", golden=len(golden), synthetic=len(pairs) - len(golden))
    return pairs


def schema_for_sql(schema: SchemaContext, sql: str, dialect: Dialect) -> SchemaContext:
    """The tables ``sql`` names (and the joins among them); the whole schema when it names none known."""
    try:
        named = {t.name.lower() for t in sqlglot.parse_one(sql, read=dialect.value).find_all(exp.Table)}
    except sqlglot.errors.ParseError:
        return schema
    tables = tuple(t for t in schema.tables if t.name.lower().split(".")[-1] in named or t.name.lower() in named)
    if not tables:
        return schema
    kept = {t.name for t in tables}
    joins = tuple(j for j in schema.joins if j.from_table in kept and j.to_table in kept)
    return SchemaContext(tables=tables, joins=joins)
