"""The ``chatdb`` command.

    chatdb serve                      all four services in one process (embedded defaults)
    chatdb serve query prediction     only the named services
    chatdb migrate                    bring the metadata store to the newest schema
    chatdb demo                       the newcomer's tour: sample database, discovery, training, questions

Flags override ``CHATDB_*`` environment variables (see chatdb_server.settings.Settings).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from chatdb_server import log
from chatdb_server.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatdb", description="Ask relational databases questions over gRPC.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="embedded data directory (CHATDB_DATA_DIR, default .chatdb)")
    common.add_argument("--metadata-url", help="metadata store URL (CHATDB_METADATA_URL)")
    common.add_argument("--log-level", help="debug, info, warning, error (CHATDB_LOG_LEVEL)")
    common.add_argument("--log-format", choices=["json", "console"], help="(CHATDB_LOG_FORMAT)")
    serve = sub.add_parser("serve", parents=[common], help="run services (all four when none is named)")
    serve.add_argument("services", nargs="*", metavar="SERVICE", help="schema, training, query, prediction")
    serve.add_argument("--host", help="bind address (CHATDB_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="gRPC port (CHATDB_PORT, default 50051; 0 picks one)")
    sub.add_parser("migrate", parents=[common], help="upgrade the metadata store schema")
    demo = sub.add_parser("demo", parents=[common], help="start the suite and tour the sample database")
    demo.add_argument("--port", type=int, help="gRPC port for the tour's server (default: a free one)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the flags that were given."""
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None), metadata_url=getattr(args, "metadata_url", None),
        log_level=getattr(args, "log_level", None), log_format=getattr(args, "log_format", None),
        host=getattr(args, "host", None), port=getattr(args, "port", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chatdb`` console script."""
    args = _parser().parse_args(argv)
    settings = settings_from(args)
    log.configure(settings.log_level, settings.log_format)
    if settings.extra:
        log.get_logger(__name__).warning("settings.unknown_variables", names=sorted(settings.extra))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.command == "serve":
        from chatdb_server.server.runtime import select, serve

        try:
            select(args.services)
        except ValueError as exc:
            print(f"chatdb serve: {exc}", file=sys.stderr)
            return 2
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
