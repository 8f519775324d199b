"""The generator interface: what every SQL generation backend takes and returns.

QueryService calls PredictionService over gRPC; at degradation level 2 it calls the
template generator in-process through this same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chatdb.connectors.dsn import Dialect


@dataclass(frozen=True)
class ColumnInfo:
    """A column as a generator sees it."""

    name: str
    data_type: str = ""
    primary_key: bool = False
    comment: str = ""
    sample_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    """A table as a generator sees it (name as in the database, schema-qualified if needed)."""

    name: str
    columns: tuple[ColumnInfo, ...]
    description: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class JoinInfo:
    """from_table.from_columns = to_table.to_columns."""

    from_table: str
    from_columns: tuple[str, ...]
    to_table: str
    to_columns: tuple[str, ...]
    inferred: bool = False
    confidence: float = 1.0


@dataclass(frozen=True)
class SchemaContext:
    """The tables (most relevant first) and joins the SQL may use."""

    tables: tuple[TableInfo, ...]
    joins: tuple[JoinInfo, ...] = ()

    def table(self, name: str) -> TableInfo | None:
        """The table called ``name`` (case-insensitive), if present."""
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)


@dataclass(frozen=True)
class ExampleInfo:
    """A golden question/SQL pair."""

    question: str
    sql: str


@dataclass(frozen=True)
class RepairHint:
    """A previous answer the database rejected, for one repair round."""

    failed_sql: str
    error: str


@dataclass(frozen=True)
class Sampling:
    """Decoding settings; zeros mean the backend's defaults."""

    temperature: float = 0.0
    top_p: float = 0.0
    max_tokens: int = 0
    seed: int = 0


@dataclass(frozen=True)
class GenerationRequest:
    """A question with everything needed to write SQL for it."""

    question: str
    dialect: Dialect
    schema: SchemaContext
    examples: tuple[ExampleInfo, ...] = ()
    candidate_count: int = 1
    model: str = ""
    sampling: Sampling = Sampling()
    constrained: bool = False
    repair: RepairHint | None = None
    """Set for a repair round: what failed and why."""


@dataclass(frozen=True)
class SqlCandidate:
    """One generated query with an honest confidence in [0, 1]."""

    sql: str
    confidence: float
    explanation: str = ""


@dataclass
class GenerationResult:
    """Candidates (best first) and who produced them."""

    candidates: list[SqlCandidate]
    model: str
    backend: str
    """``template``, ``vllm`` or ``openai``."""
    generation_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notes: list[str] = field(default_factory=list)


class SqlGenerator(Protocol):
    """A backend that writes SQL. Raises chatdb.errors types for bad input."""

    name: str

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates for the request, best first."""
        ...
