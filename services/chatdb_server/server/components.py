"""Everything one process builds once and its servicers share.

Pieces are built lazily on first use, so a process serving only PredictionService
never loads the embedding model or opens Milvus. ``close()`` releases them in reverse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chatdb_server.crypto import SecretBox, load_or_create_key
from chatdb_server.datadir import prepare_data_dir, private_file
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.settings import EMBEDDED_METADATA_FILE, Settings

log = get_logger(__name__)


class Components:
    """The shared objects of a process, built from its settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        prepare_data_dir(settings.data_dir)
        if not settings.metadata_url:
            private_file(settings.data_dir / EMBEDDED_METADATA_FILE)
        key = load_or_create_key(settings.secret_key, settings.data_dir)
        self.secret_key = key
        """The server's Fernet key(s), comma-separated, sealing key first."""
        self.box = SecretBox(key)
        self.pages = PageTokens(key)
        self.store = MetadataStore(settings.resolved_metadata_url)
        self._cache: dict[str, Any] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        """Bring the metadata schema to the newest migration."""
        await self.store.migrate()

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` at shutdown (last registered, first run)."""
        self._closers.append(closer)

    def shared(self, key: str, build: Callable[[], Any]) -> Any:
        """The one instance of ``key`` in this process, built by ``build`` on first use."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    async def close(self) -> None:
        """Release everything, in reverse order of creation."""
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("shutdown.close_failed")
        self._closers.clear()
        await self.store.close()
