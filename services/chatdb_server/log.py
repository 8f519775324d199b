"""Structured JSON logging with a request id bound for the length of each call, and the trace id of
the call's span on every line written inside it.

Secrets never reach a log line: DSNs are logged redacted by the code that owns
them, and the ``redact_secrets`` processor masks any password in a URL that slips through.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<tail>@)")


def redact_url_passwords(text: str) -> str:
    """Mask the password of every URL in ``text``."""
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)


def _redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event.items():
        if isinstance(value, str) and "://" in value:
            event[key] = redact_url_passwords(value)
    return event


def current_trace_id() -> str:
    """The current trace's id as 32 hex digits; empty outside a (sampled or not) span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def _add_trace_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current trace's id on every line written inside a traced call."""
    trace_id = current_trace_id()
    if trace_id:
        event.setdefault("trace_id", trace_id)
    return event


class _StderrLogger:
    """Writes each rendered line to the current ``sys.stderr``.

    Looked up at every write (not captured once at configuration), so redirected or
    replaced streams keep working; a failing write never breaks the caller."""

    def msg(self, message: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_: Any) -> _StderrLogger:
    return _StderrLogger()


def configure(level: str = "info", fmt: str = "json") -> None:
    """Configure structlog and the standard library's logging for the process."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (structlog.processors.JSONRenderer() if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_trace_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr)


def get_logger(name: str) -> Any:
    """A structlog logger carrying the module name."""
    return structlog.get_logger(name)
