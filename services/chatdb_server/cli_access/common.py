"""What the operator commands share: the metadata store the settings name, and how a command fails."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from chatdb_server.datadir import prepare_data_dir, private_file
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.settings import EMBEDDED_METADATA_FILE, Settings

USAGE_ERROR = 2
"""Exit status of a command given bad arguments (what argparse uses)."""
FAILED = 1
"""Exit status of a command that could not do what it was asked."""


class CommandError(Exception):
    """A failure to report in one line, without a traceback, with the command's exit status."""

    def __init__(self, message: str, status: int = FAILED) -> None:
        super().__init__(message)
        self.status = status


def report(command: str, error: CommandError) -> int:
    """Print ``error`` as ``chatdb <command>: message`` on stderr; its exit status."""
    print(f"chatdb {command}: {error}", file=sys.stderr)
    return error.status


@asynccontextmanager
async def metadata_store(settings: Settings) -> AsyncIterator[MetadataStore]:
    """The settings' metadata store, migrated to the newest schema (as the server would), closed after."""
    if not settings.metadata_url:
        prepare_data_dir(settings.data_dir)
        private_file(settings.data_dir / EMBEDDED_METADATA_FILE)
    store = MetadataStore(settings.resolved_metadata_url)
    try:
        try:
            await store.migrate()
        except (OSError, DBAPIError) as exc:
            shown = make_url(settings.resolved_metadata_url).render_as_string(hide_password=True)
            raise CommandError(f"cannot reach the metadata store at {shown}: {exc}") from None
        yield store
    finally:
        await store.close()
