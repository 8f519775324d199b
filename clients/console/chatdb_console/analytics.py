"""History analytics, computed from a bounded window of recent ``chatdb.query.v1.Query`` records:
asks over time, outcomes (answered, refused, failed), latency percentiles, the most asked tables
and the feedback trend, each as a chart."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatdb.query.v1 import query_pb2
from chatdb_console.charts import ChartSpec, Dataset

REFUSAL_REASONS = frozenset({"UNSAFE_SQL", "WRITES_DATA", "NO_ANSWER", "SQL_TOO_COMPLEX", "UNKNOWN_TABLE",
                             "UNKNOWN_COLUMN", "SYSTEM_CATALOG", "UNBOUNDED_FUNCTION", "PARSE_ERROR",
                             "PERMISSION_DENIED"})
"""Failure reasons that mean the guard or the generator declined, rather than something breaking."""
PERCENTILES = (50, 90, 99)
TOP_TABLES = 10
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class Analytics:
    """The numbers and charts of a window of queries."""

    total: int
    answered: int
    refused: int
    failed: int
    latency_ms: dict[int, float]
    charts: list[ChartSpec]

    def rate(self, count: int) -> str:
        """``count`` as a percentage of all queries."""
        return f"{100 * count / self.total:.0f}%" if self.total else "n/a"


def outcome(query: Any) -> str:
    """``answered``, ``refused`` or ``failed``."""
    if query.state == query_pb2.QUERY_STATE_SUCCEEDED:
        return "answered"
    return "refused" if query.error_reason in REFUSAL_REASONS else "failed"


def percentile(sorted_values: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile of sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def tables_in(sql: str, tables: set[str]) -> set[str]:
    """The known table names that appear as identifiers in ``sql``."""
    return {word for word in (w.lower() for w in _WORD.findall(sql)) if word in tables}


def analyse(queries: Sequence[Any], table_names: Sequence[str]) -> Analytics:
    """The analytics of ``queries`` (newest first, as ListQueries returns them)."""
    ordered = sorted(queries, key=lambda q: q.create_time.ToDatetime())
    outcomes = Counter(outcome(q) for q in ordered)
    latencies = sorted(q.timings.total.ToMilliseconds() for q in ordered
                       if q.state == query_pb2.QUERY_STATE_SUCCEEDED and q.HasField("timings"))
    latency = {p: float(percentile(latencies, p)) for p in PERCENTILES}
    known = {name.lower() for name in table_names}
    asked = Counter(table for q in ordered for table in tables_in(q.sql, known))
    charts = [
        _over_time(ordered),
        ChartSpec("pie", ["answered", "refused", "failed"],
                  [Dataset("queries", [outcomes["answered"], outcomes["refused"], outcomes["failed"]])],
                  "Outcomes"),
        ChartSpec("bar", [f"p{p}" for p in PERCENTILES], [Dataset("milliseconds", list(latency.values()))],
                  "Latency of answered asks (ms)"),
        ChartSpec("bar", [t for t, _ in asked.most_common(TOP_TABLES)],
                  [Dataset("queries", [n for _, n in asked.most_common(TOP_TABLES)])], "Most asked tables"),
        _feedback(ordered),
    ]
    return Analytics(len(ordered), outcomes["answered"], outcomes["refused"], outcomes["failed"], latency, charts)


def _bucket_of(queries: Sequence[Any]) -> tuple[str, int]:
    """Buckets of a day when the window spans more than two days, else of an hour (format, minutes)."""
    if not queries:
        return "%Y-%m-%d", 1440
    span = queries[-1].create_time.ToDatetime() - queries[0].create_time.ToDatetime()
    return ("%Y-%m-%d", 1440) if span > dt.timedelta(days=2) else ("%Y-%m-%d %H:00", 60)


def _over_time(queries: Sequence[Any]) -> ChartSpec:
    fmt, _ = _bucket_of(queries)
    counts = Counter(q.create_time.ToDatetime().strftime(fmt) for q in queries)
    labels = sorted(counts)
    return ChartSpec("line", labels, [Dataset("asks", [counts[label] for label in labels])], "Asks over time")


def _feedback(queries: Sequence[Any]) -> ChartSpec:
    fmt, _ = _bucket_of(queries)
    rated = [q for q in queries if q.feedback.rating != query_pb2.FEEDBACK_RATING_UNSPECIFIED]
    good = Counter(q.create_time.ToDatetime().strftime(fmt) for q in rated
                   if q.feedback.rating == query_pb2.FEEDBACK_RATING_CORRECT)
    bad = Counter(q.create_time.ToDatetime().strftime(fmt) for q in rated
                  if q.feedback.rating == query_pb2.FEEDBACK_RATING_INCORRECT)
    labels = sorted({*good, *bad})
    return ChartSpec("bar", labels, [Dataset("correct", [good[label] for label in labels]),
                                     Dataset("incorrect", [bad[label] for label in labels])], "Feedback")
