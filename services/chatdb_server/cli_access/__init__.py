"""Operator commands of ``chatdb``: API keys and the secret key, straight on the metadata store.

They work on the store the settings name (``CHATDB_METADATA_URL`` or the embedded one in the data
directory), so an operator on the server host can use them before any API key exists.
"""

from __future__ import annotations

import argparse

from chatdb_server.cli_access import keys, rotation
from chatdb_server.settings import Settings

COMMANDS = ("keys", "secrets")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Register ``chatdb keys`` and ``chatdb secrets`` on the top-level subparsers."""
    keys.add_parser(sub, common)
    rotation.add_parser(sub, common)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the operator command ``args`` names; the exit status."""
    if args.command == "keys":
        return keys.run(args, settings)
    return rotation.run(args, settings)
