"""``chatdb keys``: create, list and revoke API keys in the metadata store; make a bootstrap secret.

The secret of a new key goes alone on stdout (so a script can capture it) and is never shown
again; everything else goes to stderr. Listings never show a secret or its hash.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from chatdb_server.access.keys import ApiKey, ApiKeyStore, new_secret
from chatdb_server.access.permissions import Role
from chatdb_server.cli_access.common import USAGE_ERROR, CommandError, metadata_store, report
from chatdb_server.errors import InvalidArgument, NotFound
from chatdb_server.metadata.models import utcnow
from chatdb_server.settings import Settings

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_COLUMNS = ("ID", "NAME", "TENANT", "ROLES", "DATA SOURCES", "CREATED", "LAST USED", "EXPIRES", "REVOKED")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Register ``chatdb keys`` and its subcommands."""
    keys = sub.add_parser("keys", help="create, list and revoke API keys (directly in the metadata store)")
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="{create,list,revoke,secret}")
    create = commands.add_parser("create", parents=[common], help="create a key; its secret is printed once")
    create.add_argument("--tenant", required=True, help="the tenant the key acts for")
    create.add_argument("--role", dest="roles", action="extend", nargs="+", required=True, metavar="ROLE",
                        choices=[role.value for role in Role], help="a role (repeatable): " +
                        ", ".join(role.value for role in Role))
    create.add_argument("--data-source", dest="data_sources", action="extend", nargs="+", default=[],
                        metavar="ID", help="limit the key to these data-source ids (default: all of the tenant's)")
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in", type=duration, metavar="N{m,h,d,w}", help="lifetime, e.g. 30d or 12h")
    expiry.add_argument("--expires-at", type=instant, metavar="ISO", help="expiry time, e.g. 2026-01-31T00:00Z")
    create.add_argument("--name", default="", help="a display name")
    listing = commands.add_parser("list", parents=[common], help="list keys (never their secrets)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("key_id", metavar="ID", help="the key's id (or apiKeys/ID)")
    commands.add_parser("secret", help="print a fresh key secret (for CHATDB_BOOTSTRAP_ADMIN_KEY); stores nothing")


def duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` as a positive timedelta (an argparse type)."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h, 90m or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def instant(text: str) -> datetime:
    """An ISO 8601 time (UTC when it names no offset), as an argparse type."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time like 2026-01-31T00:00Z") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``chatdb keys <subcommand>``; the exit status."""
    if args.keys_command == "secret":
        print(new_secret())
        return 0
    handler = _HANDLERS[args.keys_command]
    try:
        return asyncio.run(_with_keys(settings, handler, args))
    except CommandError as error:
        return report(f"keys {args.keys_command}", error)


async def _with_keys(settings: Settings, handler: Callable[[ApiKeyStore, argparse.Namespace], Awaitable[int]],
                     args: argparse.Namespace) -> int:
    async with metadata_store(settings) as store:
        try:
            return await handler(ApiKeyStore(store), args)
        except InvalidArgument as error:
            raise CommandError(str(error), USAGE_ERROR) from None
        except NotFound as error:
            raise CommandError(str(error)) from None


async def _create(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    expires = args.expires_at if args.expires_in is None else utcnow() + args.expires_in
    issued = await keys.create(args.tenant, args.roles, data_sources=args.data_sources,
                               display_name=args.name, expire_time=expires)
    print(issued.secret, flush=True)
    key = issued.key
    label = f" ({key.display_name})" if key.display_name else ""
    expiry = f", expiring {_when(key.expire_time)}" if key.expire_time else ""
    print(f"created {key.name}{label} for tenant {key.tenant} with roles {', '.join(sorted(key.roles))}{expiry}; "
          "the secret above is shown only this once", file=sys.stderr)
    return 0


async def _list(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    print(table(await keys.list(args.tenant)))
    return 0


async def _revoke(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    key = await keys.revoke(args.key_id.removeprefix("apiKeys/"))
    print(f"revoked {key.name} of tenant {key.tenant} at {_when(key.revoke_time)}", file=sys.stderr)
    return 0


def table(keys: list[ApiKey]) -> str:
    """Keys as an aligned text table, a header line first."""
    rows = [_COLUMNS, *(_cells(key) for key in keys)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _cells(key: ApiKey) -> tuple[str, ...]:
    return (key.key_id, key.display_name or "-", key.tenant, ",".join(sorted(key.roles)),
            ",".join(key.data_sources) or "(all)", _when(key.create_time), _when(key.last_used_time),
            _when(key.expire_time), _when(key.revoke_time))


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


_HANDLERS: dict[str, Callable[[ApiKeyStore, argparse.Namespace], Awaitable[int]]] = {
    "create": _create, "list": _list, "revoke": _revoke,
}
