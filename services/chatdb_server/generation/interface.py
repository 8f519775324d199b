"""The generator interface: what every SQL generation backend takes and returns.

QueryService calls PredictionService over gRPC; at degradation level 2 it calls the
template generator in-process through this same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect

MAX_QUESTION_CHARS = 2_000
"""The longest question any part of the suite accepts (asks, golden examples, generation)."""


@dataclass(frozen=True)
class ExampleInfo:
    """A golden question/SQL pair."""

    question: str
    sql: str
    example_id: str = ""
    similarity: float = 0.0
    """Cosine similarity of the example's question to the asked one (0 when not known)."""


@dataclass(frozen=True)
class ConversationTurn:
    """An earlier turn of a conversation: a question and the SQL that answered it."""

    question: str
    sql: str


MAX_PREVIOUS_TURNS = 5
"""The most earlier turns of a conversation a generator is given (the nearest ones)."""


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
    previous_turns: tuple[ConversationTurn, ...] = ()
    """The conversation the question follows up, oldest first, the turn it refines last; empty for a question
    asked on its own."""


@dataclass(frozen=True)
class SqlCandidate:
    """One generated query with an honest confidence in [0, 1]."""

    sql: str
    confidence: float
    explanation: str = ""
    rules: tuple[str, ...] = ()
    """Names of the rules that produced the query (template backend; empty for models)."""


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
    """A backend that writes SQL. Raises chatdb_server.errors types for bad input."""

    name: str

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates for the request, best first."""
        ...
