"""Ask: a question about a trained source → retrieval → generation → guard → execution → reply.

Generation goes to PredictionService through its breaker; when that service is down (or
its breaker open) the in-process template generator answers (level 2). If the database
rejects every candidate, the error goes back to generation once (in the prompt for model
backends; the template generator rewrites the SQL for the error where it can and adds its next
readings). With several candidates
the answer is chosen by agreement of their results, then confidence. Every ask is
recorded in the history, failed ones too. Before any generation, a golden example the question
repeats or closely paraphrases answers it (``generation.example_reuse``; served by EXAMPLE).

The caller's column and row policies bind from retrieval on: the schema context and the golden
examples a generator is given leave out excluded columns (and masked columns' sample values),
and every candidate is checked and rewritten under them (``GuardedExecution.check``). The
answer shows the rewritten SQL; candidates, repair hints and the history keep the SQL as the
guard passed it (``Answer.recorded_sql``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from chatdb_server import tracing
from chatdb_server.access import context as call
from chatdb_server.access.enforce import names_excluded
from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.errors import (
    ChatDBError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from chatdb_server.generation.example_reuse import reuse_example
from chatdb_server.generation.followup import read_follow_up
from chatdb_server.generation.interface import (
    MAX_PREVIOUS_TURNS,
    MAX_QUESTION_CHARS,
    ConversationTurn,
    ExampleInfo,
    GenerationRequest,
    GenerationResult,
    RepairHint,
    SqlGenerator,
)
from chatdb_server.log import get_logger
from chatdb_server.query.candidates import Ballot, choose, result_signature
from chatdb_server.query.domain import QueryState, ServedBy, StageKind
from chatdb_server.query.history import QueryHistory, QueryRecord, query_name_parts
from chatdb_server.query.low_confidence import below_threshold
from chatdb_server.query.pipeline_execution import GuardedExecution, Limits, PolicedVerdict, Rows, Run
from chatdb_server.query.pipeline_sources import SourceContext, SourceContexts, metadata_store_errors
from chatdb_server.query.ports import Generator
from chatdb_server.query.reading import Reading, read_answer, unreliable
from chatdb_server.resilience.breakers import database_key, is_service_failure
from chatdb_server.resilience.levels import HealthMonitor, Level
from chatdb_server.retrieval.retriever import Retrieval, Retriever, ScoredTable
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.errors import QueryFailed
from chatdb_server.sql.values import ResultColumn

log = get_logger(__name__)

MAX_CANDIDATES = 8
RETRIEVED_TABLES = 5
RETRIEVED_EXAMPLES = 3
TEMPLATE_MODEL_NAME = "template"


@dataclass(frozen=True)
class AskOptions:
    """Options of an ask; zero values take the defaults."""

    max_rows: int = 0
    timeout_s: float | None = None
    execute: bool = True
    candidate_count: int = 0
    model: str = ""
    previous_query: str = ""
    """The recorded query (``dataSources/{ds}/queries/{q}``) the question follows up; empty: none."""


@dataclass(frozen=True)
class Stage:
    """A step of an ask, reported as it completes (StreamAsk)."""

    kind: StageKind
    elapsed_s: float
    retrieved: tuple[ScoredTable, ...] = ()
    sql: str = ""
    columns: tuple[ResultColumn, ...] = ()


StageListener = Callable[[Stage], Awaitable[None]]


@dataclass
class Answer:
    """The reply to an ask."""

    query: str
    sql: str
    explanation: str
    confidence: float
    retrieved: list[ScoredTable]
    tables_used: list[str]
    warnings: list[str]
    rows: Rows | None
    timings: dict[str, float]
    level: Level
    served_by: ServedBy
    model: str
    executed: bool
    stale: bool = False
    cached_time: datetime | None = None
    recorded_sql: str = ""
    """The SQL before the caller's policies, as the history records it (``sql`` when none apply)."""
    trace_id: str = ""
    """The call's trace id, as in its log lines and exported spans."""
    reading: Reading = field(default_factory=Reading)
    """The answer in a sentence, its chart, and whether it fell below the source's ``min_confidence``."""


@dataclass
class _Candidate:
    sql: str
    """As the guard passed it, before the caller's policies (the verdict holds the rewritten SQL)."""
    confidence: float
    explanation: str
    verdict: PolicedVerdict


@dataclass
class _Generated:
    candidates: list[_Candidate]
    served_by: ServedBy
    fallback: bool
    rejected: list[str] = field(default_factory=list)


@dataclass
class _Progress:
    """What is known so far of an ask, for its history record when it fails; each step is timed and
    traced as a child span of the call."""

    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    sql: str = ""
    served_by: ServedBy | None = None
    model: str = ""
    level: Level = Level.FULL
    warnings: list[str] = field(default_factory=list)

    def add(self, step: str, seconds: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + seconds

    @contextmanager
    def step(self, timing: str, span_name: str) -> Iterator[None]:
        """Time a step under ``timing`` (repeats add up) inside the span ``ask.<span_name>``."""
        started = time.perf_counter()
        try:
            with tracing.span(f"ask.{span_name}"):
                yield
        finally:
            self.add(timing, time.perf_counter() - started)

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": time.perf_counter() - self.started}


class AskPipeline:
    """Answers questions about trained sources."""

    def __init__(self, contexts: SourceContexts, retriever: Retriever, prediction: Generator,
                 fallback: SqlGenerator, execution: GuardedExecution, history: QueryHistory,
                 monitor: HealthMonitor, *,
                 min_example_similarity: float = Settings.example_reuse_min_similarity) -> None:
        self._contexts = contexts
        self._retriever = retriever
        self._prediction = prediction
        self._fallback = fallback
        self._execution = execution
        self._history = history
        self._monitor = monitor
        self._min_example_similarity = min_example_similarity

    async def ask(self, tenant: str, parent: str, question: str, options: AskOptions, *,
                  request_id: str = "", on_stage: StageListener | None = None) -> Answer:
        """Answer ``question`` about the tenant's source ``parent``."""
        question = _require_question(question)
        count = _candidate_count(options.candidate_count)
        limits = self._execution.limits(options.max_rows, options.timeout_s, prefix="options.")
        context = await self._contexts.get(tenant, parent)
        source = context.source
        if not context.trained:
            raise FailedPrecondition(
                f"{source.name} has no trained tables yet: create a training job for it "
                f"(TrainingService.CreateTrainingJob, parent {source.name}) and ask again once it has succeeded",
                "NOT_TRAINED", {"data_source": source.name})
        previous_id, turns = await self.conversation(context, options.previous_query)
        progress = _Progress()
        call.note(data_source=source.source_id, question=question)
        try:
            answer = await self._answer(context, question, count, limits, options, progress, request_id, on_stage,
                                        turns)
        except ChatDBError as error:
            call.note(sql=progress.sql)
            await self._record_failure(context, question, progress, error, previous_id)
            raise
        call.note(sql=answer.sql, row_count=len(answer.rows.rows) if answer.rows else 0)
        answer.trace_id = tracing.current_trace_id()
        async with metadata_store_errors():
            with tracing.span("ask.record"):
                answer.query = await self._history.record(source, QueryRecord(
                    question=question, sql=answer.recorded_sql or answer.sql, state=_state(answer),
                    served_by=answer.served_by, model=answer.model, level=answer.level,
                    row_count=len(answer.rows.rows) if answer.rows else 0,
                    confidence=answer.confidence, timings=answer.timings, previous_query_id=previous_id))
        return answer

    async def conversation(self, context: SourceContext,
                           previous_query: str) -> tuple[str, tuple[ConversationTurn, ...]]:
        """The id of the query an ask follows up and the conversation it ends (oldest turn first, at most
        ``MAX_PREVIOUS_TURNS``); NotFound for a query of another source, InvalidArgument for a malformed name,
        FailedPrecondition (NOT_FOLLOWABLE) for one that is no answered question."""
        if not previous_query:
            return "", ()
        source_id, query_id = query_name_parts(previous_query, "previous_query")
        if source_id != context.source.source_id:
            raise NotFound(previous_query, "query")
        async with metadata_store_errors():
            turns = await self._history.conversation(context.source, query_id, MAX_PREVIOUS_TURNS)
        return query_id, tuple(ConversationTurn(t.question, t.sql) for t in turns)

    async def _answer(self, context: SourceContext, question: str, count: int, limits: Limits,
                      options: AskOptions, progress: _Progress, request_id: str,
                      on_stage: StageListener | None, turns: tuple[ConversationTurn, ...]) -> Answer:
        source = context.source
        follows_up = bool(turns) and read_follow_up(question) is not None
        # A follow-up is about the tables of the conversation: they are searched with its earlier questions.
        searched = " ".join([*(t.question for t in turns), question])[-MAX_QUESTION_CHARS:] if follows_up else question
        with progress.step("retrieval", "retrieve"):
            retrieval = await self._retriever.retrieve(source, searched, context.tables, context.joins,
                                                       k=RETRIEVED_TABLES, example_k=RETRIEVED_EXAMPLES,
                                                       version=context.version)
        if on_stage:
            await on_stage(Stage(StageKind.RETRIEVED, progress.timings["retrieval"], retrieved=tuple(retrieval.tables)))

        request = replace(_generation_request(retrieval, context.caller_policies(), question, source.dialect, count,
                                              options.model or source.default_adapter), previous_turns=turns)
        # A golden example answers first, unless the caller named the model that must write the SQL or the
        # question refines the previous answer.
        reuse = not options.model and not follows_up
        generated = (await self._reuse_example(context, request, limits, progress) if reuse else None) \
            or await self._generate(context, request, limits, progress, tenant=source.tenant,
                                    request_id=request_id, named_model=bool(options.model))
        best = generated.candidates[0]
        progress.sql = best.sql
        if on_stage:
            await on_stage(Stage(StageKind.GENERATED, progress.timings["generation"] + progress.timings["guard"],
                                 sql=best.verdict.sql))

        run: Run | None = None
        if below_threshold(best.confidence, source.min_confidence):
            options = replace(options, execute=False)
        if options.execute:
            started = time.perf_counter()
            best, run = await self._execute(context, request, generated, limits, progress, request_id)
            if on_stage:
                await on_stage(Stage(StageKind.EXECUTED, time.perf_counter() - started,
                                     columns=tuple(run.rows.columns)))
        level = max(progress.level, await self._monitor.level(database_key(source.tenant, source.name)))
        if run is not None and run.stale:
            level = max(level, Level.NO_DATABASE)
        served_by = ServedBy.CACHE if run is not None and run.from_cache else progress.served_by or generated.served_by
        return Answer(
            query="", sql=best.verdict.sql, confidence=best.confidence,
            explanation=_follow_up_explanation(best.explanation, options.previous_query,
                                               follows_up and served_by is ServedBy.MODEL),
            retrieved=list(retrieval.tables), tables_used=list(dict.fromkeys(best.verdict.tables)),
            warnings=list(dict.fromkeys([*progress.warnings, *best.verdict.warnings, *(run.warnings if run else [])])),
            rows=run.rows if run else None, timings=progress.total(), level=level, served_by=served_by,
            model=progress.model, executed=run is not None, stale=bool(run and run.stale),
            cached_time=run.cached_time if run else None, recorded_sql=best.sql,
            reading=(unreliable(retrieval.tables) if below_threshold(best.confidence, source.min_confidence)
                     else read_answer(best.verdict.sql, source.dialect, run.rows if run else None)))

    # ---- generation -----------------------------------------------------------------------------

    async def _reuse_example(self, context: SourceContext, request: GenerationRequest, limits: Limits,
                             progress: _Progress) -> _Generated | None:
        """The SQL of a golden example the question repeats or closely paraphrases (``example_reuse``), when
        it passes the guard under the caller's policies; None sends the question to generation."""
        if not request.examples:
            return None
        with progress.step("generation", "reuse_example"):
            reuse = await reuse_example(request, self._min_example_similarity, self._retriever.question_similarity)
        if reuse is None:
            return None
        with progress.step("guard", "guard"):
            verdict = await self._execution.check(context, reuse.sql, limits.max_rows)
        if not verdict.valid:
            log.info("ask.example_refused", example=reuse.example.example_id)
            return None
        progress.served_by, progress.model = ServedBy.EXAMPLE, ""
        explanation = reuse.explanation(f"{context.source.name}/examples/{reuse.example.example_id}")
        return _Generated([_Candidate(verdict.checked_sql, reuse.confidence, explanation, verdict)],
                          ServedBy.EXAMPLE, fallback=False)

    async def _generate(self, context: SourceContext, request: GenerationRequest, limits: Limits, progress: _Progress,
                        *, tenant: str, request_id: str, named_model: bool, fallback_only: bool = False,
                        exclude: frozenset[str] = frozenset()) -> _Generated:
        """Candidates that pass the guard, best first, leaving out SQL in ``exclude``.

        FailedPrecondition (UNSAFE_SQL) when no candidate passes (first round only: a repair round
        may come back empty, and the database's error is then the answer)."""
        with progress.step("generation", "generate"):
            result, fallback = await self._generate_sql(request, progress, tenant=tenant, request_id=request_id,
                                                        named_model=named_model, fallback_only=fallback_only)
        served_by = ServedBy.TEMPLATE if fallback or result.backend == "template" else ServedBy.MODEL
        progress.served_by = served_by
        progress.model = TEMPLATE_MODEL_NAME if served_by is ServedBy.TEMPLATE else result.model

        generated = _Generated([], served_by, fallback)
        seen = set(exclude)
        with progress.step("guard", "guard"):
            for candidate in result.candidates:
                verdict = await self._execution.check(context, candidate.sql, limits.max_rows)
                if not verdict.valid:
                    generated.rejected.append("; ".join(v.message for v in verdict.violations))
                elif verdict.checked_sql not in seen:
                    seen.add(verdict.checked_sql)
                    generated.candidates.append(_Candidate(verdict.checked_sql, candidate.confidence,
                                                           candidate.explanation, verdict))
        if not generated.candidates and not exclude:
            reasons = "; ".join(generated.rejected) or "the generator returned no SQL"
            raise FailedPrecondition(f"no safe SQL could be produced for the question: {reasons}", "UNSAFE_SQL")
        return generated

    async def _generate_sql(self, request: GenerationRequest, progress: _Progress, *, tenant: str, request_id: str,
                            named_model: bool, fallback_only: bool) -> tuple[GenerationResult, bool]:
        """PredictionService's candidates, or the template generator's when it is down (or only it may
        answer); whether the template generator stood in."""
        if not fallback_only:
            try:
                return await self._prediction.generate(request, tenant, request_id), False
            except Exception as exc:
                if not is_service_failure(exc):
                    raise
                if named_model:
                    raise Unavailable(
                        f"PredictionService is unavailable, so model {request.model!r} cannot generate; "
                        "ask without options.model to be answered by the template generator",
                        reason="DEGRADED", metadata={"dependency": "prediction"}) from None
                log.info("ask.template_fallback", error=type(exc).__name__)
                progress.level = max(progress.level, Level.NO_MODEL)
                progress.warnings.append("PredictionService is unavailable: the template generator answered")
        return await self._fallback.generate(replace(request, model="")), True

    async def _regenerate(self, context: SourceContext, request: GenerationRequest, generated: _Generated,
                          failures: list[tuple[str, str]], limits: Limits, progress: _Progress,
                          request_id: str) -> _Generated:
        """The one repair round: the database's error goes back to generation."""
        tried = frozenset(sql for sql, _ in failures)
        sql, error = failures[0]
        repair = replace(request, repair=RepairHint(failed_sql=sql, error=error))
        if generated.served_by is ServedBy.TEMPLATE:
            # The template generator fixes the SQL for the error where it can, then offers its next readings.
            repair = replace(repair, candidate_count=min(len(tried) + request.candidate_count, MAX_CANDIDATES))
        return await self._generate(context, repair, limits, progress, tenant=context.source.tenant,
                                    request_id=request_id, named_model=False, fallback_only=generated.fallback,
                                    exclude=tried)

    # ---- execution ------------------------------------------------------------------------------

    async def _execute(self, context: SourceContext, request: GenerationRequest, generated: _Generated,
                       limits: Limits, progress: _Progress, request_id: str) -> tuple[_Candidate, Run]:
        """Run the candidates, repair once if the database rejected them all, and choose."""
        runs, failures = await self._run_all(context, generated.candidates, limits, progress)
        if not runs and failures:
            repaired = await self._regenerate(context, request, generated, failures, limits, progress, request_id)
            if repaired.candidates:
                progress.warnings.append("the first SQL was rejected by the database; it was repaired once")
                runs, more = await self._run_all(context, repaired.candidates, limits, progress)
                failures += more
        if not runs:
            sql, message = failures[-1]
            progress.sql = sql
            raise QueryFailed(context.source.name, message)
        if len(runs) == 1:
            return runs[0]
        choice = choose([Ballot(result_signature(run.rows.columns, run.rows.rows), candidate.confidence,
                                (candidate, run)) for candidate, run in runs])
        if choice.voters > 1:
            progress.warnings.append(f"{choice.agreeing} of {choice.voters} candidates agreed on this result")
        return choice.winner

    async def _run_all(self, context: SourceContext, candidates: list[_Candidate], limits: Limits,
                       progress: _Progress) -> tuple[list[tuple[_Candidate, Run]], list[tuple[str, str]]]:
        """Each candidate's run, and the (sql, database message) of those the database rejected.

        Once the database proves unreachable the remaining candidates are answered from the cache only.
        With no run at all, an unreachable database or a timeout is the answer."""
        runs: list[tuple[_Candidate, Run]] = []
        failures: list[tuple[str, str]] = []
        blocking: ChatDBError | None = None
        live = True
        for candidate in candidates:
            try:
                with progress.step("execution", "execute"):
                    run = await self._execution.run(context.source, candidate.verdict, limits, fresh_cache=True,
                                                     live=live)
            except QueryFailed as failed:
                failures.append((candidate.sql, failed.database_message))
                continue
            except (Unavailable, DeadlineExceeded) as error:
                blocking = blocking or error
                live = live and not isinstance(error, Unavailable)
                continue
            live = live and not run.stale
            runs.append((candidate, run))
        if not runs and blocking is not None:
            progress.sql = candidates[0].sql
            raise blocking
        return runs, failures

    async def _record_failure(self, context: SourceContext, question: str, progress: _Progress,
                              error: ChatDBError, previous_id: str) -> None:
        try:
            async with metadata_store_errors():
                name = await self._history.record(context.source, QueryRecord(
                    question=question, sql=progress.sql, state=QueryState.FAILED, error_reason=error.reason,
                    error_message=error.message, served_by=progress.served_by, model=progress.model,
                    level=progress.level, timings=progress.total(), previous_query_id=previous_id))
            error.metadata = {**error.metadata, "query": name}
        except Unavailable:
            log.warning("ask.history_unavailable")


def _generation_request(retrieval: Retrieval, policies: EffectivePolicies, question: str, dialect: Dialect,
                        count: int, model: str) -> GenerationRequest:
    """What the generator is given: the retrieved schema and examples as the caller may see them (no
    excluded column, no example naming one, no sample value of a masked column)."""
    schema = retrieval.context
    examples = retrieval.examples
    if not policies.empty:
        schema = schema.without_columns(policies.excluded, unsampled=policies.masked)
        examples = [e for e in examples if not names_excluded(e.sql, dialect, policies)]
    return GenerationRequest(question=question, dialect=dialect, schema=schema,
                             examples=tuple(ExampleInfo(e.question, e.sql, e.example_id, e.score) for e in examples),
                             candidate_count=count, model=model)


def _state(answer: Answer) -> QueryState:
    """How an answered ask is recorded: LOW_CONFIDENCE when its SQL was not trusted enough to run."""
    return QueryState.LOW_CONFIDENCE if answer.reading.low_confidence else QueryState.SUCCEEDED


def _follow_up_explanation(explanation: str, previous_query: str, follows_up: bool) -> str:
    """The explanation of a model's answer to a follow-up, which names the query it refines (the template
    generator's says what it changed)."""
    if not follows_up:
        return explanation
    return f"Follows up {previous_query}. {explanation}".strip()


def _require_question(question: str) -> str:
    text = question.strip()
    if not text:
        raise InvalidArgument("question", "is required: a question in plain language")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidArgument("question", f"must be at most {MAX_QUESTION_CHARS} characters")
    return text


def _candidate_count(requested: int) -> int:
    if requested < 0 or requested > MAX_CANDIDATES:
        raise InvalidArgument("options.candidate_count", f"must be 0 to {MAX_CANDIDATES}")
    return requested or 1
