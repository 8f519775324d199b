"""The ``chatdb`` command.

    chatdb serve                      every service in one process (embedded defaults)
    chatdb serve query prediction     only the named services
    chatdb serve --workers 2          every service in two processes on one port (one event loop per core)
    chatdb serve console              only the browser console, against the services at CHATDB_ADDRESS
    chatdb migrate                    bring the metadata store to the newest schema
    chatdb demo                       the newcomer's tour: sample database, discovery, training, questions

Operator commands, straight on the metadata store the settings name (usable before any key exists):

    chatdb keys create --tenant T --role R [--role R2] [--data-source ID ...]
                       [--expires-in 30d | --expires-at ISO] [--name NAME]
                                      a new API key: the secret alone on stdout (shown once), its id on stderr
    chatdb keys list [--tenant T]     the keys as a table (never a secret)
    chatdb keys revoke ID             revoke a key (exit status 1 for an unknown one)
    chatdb keys secret                a fresh key secret for CHATDB_BOOTSTRAP_ADMIN_KEY; stores nothing
    chatdb secrets rotate [--new-key=KEY]
                                      re-seal every data-source password under a new Fernet key

Flags override ``CHATDB_*`` environment variables (see chatdb_server.settings.Settings).

Every other command (``sources``, ``train``, ``ask``, ``sql``, ``shell``, ...), and ``chatdb --help``, which
lists both kinds, is the people's command line of the chatdb-cli distribution (``chatdb_cli.app``): it
talks to a running server through the SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import io
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from chatdb_cli.connection import CLIENT_VARIABLES
from chatdb_server import cli_access, log
from chatdb_server.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatdb", description="Ask relational databases questions over gRPC.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="embedded data directory (CHATDB_DATA_DIR, default .chatdb)")
    common.add_argument("--metadata-url", help="metadata store URL (CHATDB_METADATA_URL)")
    common.add_argument("--log-level", help="debug, info, warning, error (CHATDB_LOG_LEVEL)")
    common.add_argument("--log-format", choices=["json", "console"], help="(CHATDB_LOG_FORMAT)")
    serve = sub.add_parser("serve", parents=[common],
                           help="run services (all when none is named; access and webhook come with schema)")
    serve.add_argument("services", nargs="*", metavar="SERVICE",
                       help="schema, training, query, prediction, access, webhook; or console alone")
    serve.add_argument("--host", help="bind address (CHATDB_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="gRPC port (CHATDB_PORT, default 50051; 0 picks one)")
    serve.add_argument("--workers", type=int,
                       help="server processes on the port, one per core to use (CHATDB_WORKERS, default 1)")
    sub.add_parser("migrate", parents=[common], help="upgrade the metadata store schema")
    demo = sub.add_parser("demo", parents=[common], help="start the suite and tour the sample database")
    demo.add_argument("--port", type=int, help="gRPC port for the tour's server (default: a free one)")
    cli_access.add_parsers(sub, common)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the flags that were given."""
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None), metadata_url=getattr(args, "metadata_url", None),
        log_level=getattr(args, "log_level", None), log_format=getattr(args, "log_format", None),
        host=getattr(args, "host", None), port=getattr(args, "port", None), workers=getattr(args, "workers", None),
    )


SERVER_COMMANDS = {
    "serve": "Run services (all, with the browser console, when none is named; access comes with schema).",
    "migrate": "Upgrade the metadata store schema.",
    "demo": "Start the suite and tour the sample database.",
    "keys": "Create, list and revoke API keys, straight on the metadata store.",
    "secrets": "Re-seal every data-source password under a new key.",
}
"""The commands this module runs itself (name → help, for the help of the whole ``chatdb``)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chatdb`` console script: the server's commands here, the rest to chatdb_cli."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in SERVER_COMMANDS:
        from chatdb_cli.app import exit_status
        from chatdb_cli.app import main as people_main

        return exit_status(people_main(arguments, SERVER_COMMANDS))
    args = _parser().parse_args(arguments)
    settings = settings_from(args)
    log.configure(settings.log_level, settings.log_format)
    unknown = sorted(set(settings.extra) - CLIENT_VARIABLES)
    if unknown:
        log.get_logger(__name__).warning("settings.unknown_variables", names=unknown)
    if args.command in cli_access.COMMANDS:
        return cli_access.run(args, settings)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what a server that does not stop is doing.
    with contextlib.suppress(io.UnsupportedOperation, ValueError):  # no file behind stderr (captured): no dump
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    if args.command == "serve" and args.services == ["console"]:
        from chatdb_server.server.console import serve_alone

        try:
            asyncio.run(serve_alone(settings))
        except ValueError as exc:
            print(f"chatdb serve console: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "serve":
        from chatdb_server.server.runtime import select, serve

        try:
            select(args.services)
        except ValueError as exc:
            print(f"chatdb serve: {exc}", file=sys.stderr)
            return 2
        if settings.workers < 1:
            print(f"chatdb serve: --workers must be at least 1, not {settings.workers}", file=sys.stderr)
            return 2
        if settings.workers > 1:
            from chatdb_server.server.workers import serve_workers

            return serve_workers(settings, args.services)
        asyncio.run(serve(settings, args.services))
        return 0
    if args.command == "migrate":
        from chatdb_server.metadata.db import MetadataStore

        async def migrate() -> None:
            store = MetadataStore(settings.resolved_metadata_url)
            await store.migrate()
            await store.close()

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(migrate())
        return 0
    from chatdb_server.demo import run_demo

    return asyncio.run(run_demo(settings))


if __name__ == "__main__":
    sys.exit(main())
