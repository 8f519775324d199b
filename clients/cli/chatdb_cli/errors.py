"""How the ``chatdb`` command fails: one line on stderr and an exit status a script can test.

=====  ==========================================================================================
 exit  meaning
=====  ==========================================================================================
   0   done
   1   the server refused the request (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, ...)
   2   bad usage: an unknown option, a missing argument, an unusable profile file or TLS file
   3   the server could not be reached or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED)
   4   a training job the command followed failed or was cancelled elsewhere
 130   interrupted (Ctrl-C)
=====  ==========================================================================================

A refusal reads ``error: <STATUS> <reason>: <message>``, followed by the bad fields the server named
(``error: INVALID_ARGUMENT INVALID_FIELD: ... [data_source.dsn: not a URL]``); never a traceback.
"""

from __future__ import annotations

import enum
import re

import grpc

from chatdb_client import ChatDBError, TrainingJobFailed


class ExitCode(enum.IntEnum):
    """The exit statuses of ``chatdb``."""

    OK = 0
    REFUSED = 1
    USAGE = 2
    UNAVAILABLE = 3
    JOB_FAILED = 4
    INTERRUPTED = 130


UNREACHABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
"""Statuses that mean the server could not answer, rather than that it refused."""


class CommandError(Exception):
    """A failure the command itself detects (bad local input, a file it cannot write): its line and status."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, newlines included, made one space."""
    return re.sub(r"\s+", " ", text).strip()


def error_line(error: ChatDBError) -> str:
    """The line that reports a failed call: status, reason, message and the bad fields."""
    head = f"{error.code.name} {error.reason}" if error.reason else error.code.name
    message = one_line(error.message)
    line = f"error: {head}: {message or 'no message'}"
    # A violation the message already states (the server often words both alike) is not repeated.
    fields = [f"{v.field}: {one_line(v.description)}" for v in error.field_violations]
    fields = [text for text in fields if text not in message]
    if fields:
        line += f" [{'; '.join(fields)}]"
    return line


def job_failed_line(error: TrainingJobFailed) -> str:
    """The line that reports a training job that ended without succeeding."""
    reason = f" {error.reason}" if error.reason else ""
    return f"error: training job {error.state}{reason}: {one_line(error.message) or 'no message'}"


def exit_code(error: ChatDBError) -> ExitCode:
    """The exit status of a failed call."""
    return ExitCode.UNAVAILABLE if error.code in UNREACHABLE_CODES else ExitCode.REFUSED
