"""SubmitFeedback: a caller's judgement of a recorded query, and the golden example it makes.

A CORRECT rating of an answered question (or of the SQL a low-confidence reply did not run: a person
vouches for it), or an INCORRECT one with corrected SQL (guarded first), becomes a FEEDBACK example
through TrainingService. While TrainingService is down (level 1) such feedback is refused with
UNAVAILABLE (DEGRADED) rather than half-recorded.
"""

from __future__ import annotations

from chatdb_server.errors import ChatDBError, InvalidArgument, Unavailable
from chatdb_server.query.domain import QueryState, Rating
from chatdb_server.query.history import Feedback, QueryHistory, StoredQuery, query_name_parts
from chatdb_server.query.pipeline_execution import GuardedExecution, refusal, require_sql
from chatdb_server.query.pipeline_sources import SourceContext, SourceContexts, metadata_store_errors
from chatdb_server.query.ports import ExampleSink
from chatdb_server.resilience.breakers import is_service_failure
from chatdb_server.resilience.levels import TRAINING, HealthMonitor

MAX_COMMENT_CHARS = 4_000
VOUCHABLE = frozenset({QueryState.SUCCEEDED, QueryState.LOW_CONFIDENCE})
"""The states whose SQL a CORRECT rating makes a golden example of."""


class FeedbackDesk:
    """Records feedback and turns it into golden examples."""

    def __init__(self, contexts: SourceContexts, history: QueryHistory, execution: GuardedExecution,
                 training: ExampleSink, monitor: HealthMonitor) -> None:
        self._contexts = contexts
        self._history = history
        self._execution = execution
        self._training = training
        self._monitor = monitor

    async def submit(self, tenant: str, name: str, rating: Rating | None, corrected_sql: str, comment: str,
                     request_id: str = "") -> StoredQuery:
        """Attach feedback to the query ``name``; InvalidArgument when ``rating`` is None."""
        source_id, query_id = query_name_parts(name)
        if rating is None:
            raise InvalidArgument("rating", "is required: FEEDBACK_RATING_CORRECT or FEEDBACK_RATING_INCORRECT")
        if corrected_sql.strip() and rating is Rating.CORRECT:
            raise InvalidArgument("corrected_sql", "is only for an INCORRECT rating")
        if len(comment) > MAX_COMMENT_CHARS:
            raise InvalidArgument("comment", f"must be at most {MAX_COMMENT_CHARS} characters")
        context = await self._contexts.get(tenant, f"dataSources/{source_id}", "name")
        source = context.source
        async with metadata_store_errors():
            stored = await self._history.get(source, query_id)
        example_sql = ""
        if rating is Rating.INCORRECT and corrected_sql.strip():
            example_sql = require_sql(corrected_sql, "corrected_sql")
            verdict = await self._execution.check(context, example_sql, self._execution.limits(0, None).max_rows)
            if not verdict.valid:
                raise refusal(verdict, "corrected_sql")
        elif rating is Rating.CORRECT and stored.record.state in VOUCHABLE:
            example_sql = stored.record.sql
        example = ""
        if example_sql and stored.record.question:
            example = await self._make_example(context, stored.record.question, example_sql, request_id)
        feedback = Feedback(rating, corrected_sql=corrected_sql.strip(), comment=comment, example=example)
        async with metadata_store_errors():
            return await self._history.set_feedback(source, query_id, feedback)

    async def _make_example(self, context: SourceContext, question: str, sql: str, request_id: str) -> str:
        refused = Unavailable("TrainingService is unavailable (level 1): feedback that makes a golden example "
                              "is refused; retry when it is back", reason="DEGRADED",
                              metadata={"dependency": "training"})
        if not await self._monitor.healthy(TRAINING):
            raise refused
        try:
            return await self._training.create_feedback_example(context.source, question, sql, request_id)
        except ChatDBError as error:
            if is_service_failure(error):
                raise refused from None
            raise
