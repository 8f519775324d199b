"""``chatdb secrets rotate`` re-seals webhook secrets with the data-source passwords."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from chatdb_server.cli_access.common import CommandError
from chatdb_server.cli_access.rotation import reseal_sources
from chatdb_server.crypto import SecretBox
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import WebhookRow
from chatdb_server.webhooks.records import WebhookSpec
from chatdb_server.webhooks.subscriptions import WebhookStore


async def _sealed(store: MetadataStore) -> str:
    async with store.session() as session:
        return str(await session.scalar(select(WebhookRow.secret_sealed)))


async def test_rotation_reseals_webhook_secrets_under_the_new_key(metadata_store: MetadataStore) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    issued = await WebhookStore(metadata_store, SecretBox(old)).create("acme", WebhookSpec(url="http://10.0.0.5/"))
    await reseal_sources(metadata_store, SecretBox(new + b"," + old))
    assert SecretBox(new).open(await _sealed(metadata_store)) == issued.secret


async def test_a_secret_no_key_opens_stops_the_rotation(metadata_store: MetadataStore) -> None:
    await WebhookStore(metadata_store, SecretBox(Fernet.generate_key())).create("acme", WebhookSpec(url="http://x/"))
    before = await _sealed(metadata_store)
    with pytest.raises(CommandError, match="acme: webhooks/"):
        await reseal_sources(metadata_store, SecretBox(Fernet.generate_key()))
    assert await _sealed(metadata_store) == before
