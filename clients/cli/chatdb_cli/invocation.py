"""What one run of ``chatdb`` shares between its global options and the command: the connection
settings (resolved on first use), the SDK client (opened once, closed when the command ends) and the
consoles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console

from chatdb_cli.connection import Connection, open_client, resolve_connection
from chatdb_client import ChatDBClient


@dataclass
class Invocation:
    """The global options as given (None where not given) and what is built from them."""

    address: str | None = None
    api_key: str | None = None
    tenant: str | None = None
    profile: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    timeout: float | None = None
    console: Console = field(default_factory=lambda: Console(highlight=False))
    """stdout, for results."""
    notes: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    """stderr, for progress, prompts and remarks."""
    _connection: Connection | None = None
    _client: ChatDBClient | None = None
    stream_interrupted: bool = False
    """A Ctrl-C broke into a stream of the client: its channel is left to the process's end (see :meth:`close`)."""

    @property
    def connection(self) -> Connection:
        """The connection the options, the environment and the profile file name."""
        if self._connection is None:
            self._connection = resolve_connection(self.address, self.api_key, self.tenant, self.profile,
                                                  self.ca_file, self.cert_file, self.key_file, self.timeout)
        return self._connection

    @property
    def client(self) -> ChatDBClient:
        """The SDK client, opened on first use."""
        if self._client is None:
            self._client = open_client(self.connection)
        return self._client

    def close(self) -> None:
        """Close the client, if one was opened. Not after a Ctrl-C broke into one of its streams: grpc's
        ``Channel.close`` then waits for ever for that call to finish (seen with ``chatdb train``); the command
        is ending, and the process's exit releases the channel."""
        if self._client is not None and not self.stream_interrupted:
            self._client.close()
        self._client = None


def current(ctx: typer.Context) -> Invocation:
    """The invocation the global options stored on the context."""
    invocation = ctx.find_object(Invocation)
    if invocation is None:  # a command run without the app's callback (never from the command line)
        invocation = ctx.ensure_object(Invocation)
    return invocation
