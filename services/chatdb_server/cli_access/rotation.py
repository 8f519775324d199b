"""``chatdb secrets rotate``: a new Fernet key for the sealed data-source credentials.

Every sealed DSN is re-sealed under the new key in one transaction (``MultiFernet.rotate`` over
the new key and the current ones); a DSN that no current key opens stops the rotation before
anything changes. With the embedded key file, the file first lists the new and the old keys, so
every value opens whatever happens mid-way, and then only the new one (replaced atomically).
A key given in the settings (``CHATDB_SECRET_KEY``) cannot be written: the new key is printed
for the operator to store, keeping the old one listed after it until every replica has it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from cryptography.fernet import Fernet
from sqlalchemy import select

from chatdb_server.cli_access.common import USAGE_ERROR, CommandError, metadata_store, report
from chatdb_server.crypto import KEY_FILE, SecretBox, split_keys, write_key_file
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow, WebhookRow
from chatdb_server.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Register ``chatdb secrets`` and its subcommands."""
    secrets = sub.add_parser("secrets", help="manage the key that seals data-source passwords")
    commands = secrets.add_subparsers(dest="secrets_command", required=True, metavar="{rotate}")
    rotate = commands.add_parser("rotate", parents=[common],
                                 help="re-seal every data-source password under a new key")
    rotate.add_argument("--new-key", metavar="KEY",
                        help="the new Fernet key (default: a fresh one); write --new-key=KEY: a key may begin with -")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``chatdb secrets rotate``; the exit status."""
    try:
        return asyncio.run(rotate(settings, args.new_key))
    except CommandError as error:
        return report("secrets rotate", error)


async def rotate(settings: Settings, new_key: str | None = None) -> int:
    """Re-seal every stored credential under ``new_key`` (a fresh key when None) and store or print it."""
    current = _current_keys(settings)
    new = _new_key(new_key)
    combined = b",".join([new, *(key for key in split_keys(current) if key != new)])
    if settings.secret_key:
        async with metadata_store(settings) as store:
            count = await reseal_sources(store, SecretBox(combined))
        print(new.decode(), flush=True)
        print(f"re-sealed {count} data-source credential(s) under the new key printed above. CHATDB_SECRET_KEY "
              "comes from the settings, so nothing was written: put the new key first in it (e.g. in the "
              "Kubernetes Secret), keep the old key(s) listed after it, comma-separated, and restart the servers. "
              "Until every server has the new value, one still running with only the old key cannot open the "
              "re-sealed credentials and may seal new ones with the old key; once all have it, "
              "`chatdb secrets rotate --new-key=<new key>` re-seals those and the old key can be dropped.",
              file=sys.stderr)
        return 0
    path = write_key_file(settings.data_dir, combined)  # from here on, every value opens whatever happens
    try:
        async with metadata_store(settings) as store:
            count = await reseal_sources(store, SecretBox(combined))
    except CommandError:
        write_key_file(settings.data_dir, current)  # refused before anything was re-sealed
        raise
    write_key_file(settings.data_dir, new)
    print(f"re-sealed {count} data-source credential(s); the new key is in {path}. Restart running servers: "
          "they hold the old key in memory.", file=sys.stderr)
    return 0


async def reseal_sources(store: MetadataStore, box: SecretBox) -> int:
    """Re-seal every stored DSN (and, in the same transaction, every webhook's signing secret) under ``box``'s
    first key; how many DSNs there were.

    CommandError, and nothing changed, when some DSN or webhook secret opens with none of ``box``'s keys."""
    async with store.session() as session:
        rows = (await session.scalars(select(DataSourceRow).order_by(DataSourceRow.pk).with_for_update())).all()
        unreadable = []
        for row in rows:
            try:
                row.dsn_sealed = box.reseal(row.dsn_sealed)
            except ValueError:
                unreadable.append(f"{row.tenant}: dataSources/{row.source_id}")
        for webhook in (await session.scalars(select(WebhookRow).order_by(WebhookRow.pk).with_for_update())).all():
            try:
                webhook.secret_sealed = box.reseal(webhook.secret_sealed)
            except ValueError:
                unreadable.append(f"{webhook.tenant}: webhooks/{webhook.webhook_id}")
        if unreadable:
            raise CommandError(f"{len(unreadable)} data source(s) do not open with the current key(s), so nothing "
                               f"was changed (is CHATDB_SECRET_KEY what the servers use?): {'; '.join(unreadable)}")
    return len(rows)


def _current_keys(settings: Settings) -> bytes:
    """The keys in use: the setting, else the key file; never a newly generated one."""
    path = settings.data_dir / KEY_FILE
    if settings.secret_key:
        origin, keys = "CHATDB_SECRET_KEY", settings.secret_key.encode()
    elif path.exists():
        origin, keys = str(path), path.read_bytes().strip()
    else:
        raise CommandError(f"no key to rotate: CHATDB_SECRET_KEY is empty and {path} does not exist")
    try:
        split_keys(keys)
    except ValueError as exc:
        raise CommandError(f"{origin}: {exc}") from None
    return keys


def _new_key(given: str | None) -> bytes:
    if given is None:
        return Fernet.generate_key()
    try:
        keys = split_keys(given.encode())
    except ValueError as exc:
        raise CommandError(f"--new-key: {exc}", USAGE_ERROR) from None
    if len(keys) != 1:
        raise CommandError("--new-key: give one key, not a list", USAGE_ERROR)
    return keys[0]
