"""Tracing: what the standard OTEL_* variables turn on, and the trace id outside and inside spans."""

from __future__ import annotations

import json

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chatdb_server import log, tracing

OTEL_VARIABLES = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("variables", "exported"), [
    ({}, False),  # nothing is exported by default
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, False),
    ({"OTEL_TRACES_EXPORTER": "console,otlp"}, True),
])
def test_spans_are_exported_only_when_the_otel_variables_ask(
        clean_env: pytest.MonkeyPatch, variables: dict[str, str], exported: bool) -> None:
    for name, value in variables.items():
        clean_env.setenv(name, value)
    assert tracing.exports_spans() is exported


def test_an_unknown_otlp_protocol_is_refused_by_name(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        tracing._otlp_exporter()


def test_the_trace_id_is_empty_outside_a_span_and_on_every_log_line_inside_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert tracing.current_trace_id() == ""
    log.configure("info", "json")
    logger = structlog.get_logger("test")
    with provider.get_tracer("test").start_as_current_span("outer"):
        trace_id = tracing.current_trace_id()
        logger.info("inside")
        with tracing.db_span("postgresql", "SELECT 1", "shop"):
            logger.info("deeper")
    logger.info("outside")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(trace_id) == 32 and int(trace_id, 16) != 0
    assert [line.get("trace_id") for line in lines] == [trace_id, trace_id, None]

