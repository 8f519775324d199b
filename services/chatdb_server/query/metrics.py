"""Prometheus metrics of QueryService: where an ask's time goes, how many asks are being answered, and
how often the result cache answers instead of the database.

``chatdb_asks_in_flight`` is the signal QueryService scales on (k8s/README.md): an ask spends most of
its life waiting on the model, the vector store and the database, so CPU says little about how
loaded a replica is, while the number of asks it holds open says it directly.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram

from chatdb_server.query.history import QueryHistory, QueryRecord
from chatdb_server.sql.structure import SourceRef

STAGE_NAMES = {"retrieval": "retrieve", "generation": "generate", "guard": "guard", "execution": "execute",
               "total": "total"}
"""The pipeline's step names (as the Timings message reports them) → the ``stage`` label."""

ASK_STAGE_SECONDS = Histogram(
    "chatdb_ask_stage_seconds",
    "Time asks spent in each stage: retrieve, generate, guard, execute and total of answered asks; record "
    "(writing the history) of every ask, failed ones too.",
    ["stage"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
ASKS_IN_FLIGHT = Gauge("chatdb_asks_in_flight", "Asks (Ask and StreamAsk) this process is answering now.")
BATCH_ASK_PEAK = Histogram(
    "chatdb_batch_ask_peak_questions",
    "The most questions of one BatchAsk answered at the same time (bounded by batch_ask_concurrency), one "
    "observation per batch.", buckets=(1, 2, 4, 8, 16, 32, 64))
RESULT_CACHE_HITS = Counter(
    "chatdb_result_cache_hits",
    "Result-cache lookups that found an entry; lookup is fresh (a normal ask) or stale (the database is "
    "unreachable, so an entry up to a day old will do).", ["lookup"])
RESULT_CACHE_MISSES = Counter("chatdb_result_cache_misses", "Result-cache lookups that found no usable entry.",
                              ["lookup"])


def observe_stages(timings: Mapping[str, float]) -> None:
    """Record the step timings of one answered ask (a step it did not take is not observed)."""
    for step, seconds in timings.items():
        ASK_STAGE_SECONDS.labels(stage=STAGE_NAMES.get(step, step)).observe(seconds)


def cache_lookup(found: bool, *, stale_allowed: bool) -> None:
    """Count one result-cache lookup."""
    counter = RESULT_CACHE_HITS if found else RESULT_CACHE_MISSES
    counter.labels(lookup="stale" if stale_allowed else "fresh").inc()


class TimedHistory(QueryHistory):
    """The history as the ask pipeline writes it, timing each write as the ``record`` stage."""

    async def record(self, source: SourceRef, record: QueryRecord) -> str:
        started = time.perf_counter()
        try:
            return await super().record(source, record)
        finally:
            ASK_STAGE_SECONDS.labels(stage="record").observe(time.perf_counter() - started)
