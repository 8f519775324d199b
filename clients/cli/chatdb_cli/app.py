"""The ``chatdb`` command for people: a running ChatDB server's sources, training, questions and SQL,
from a terminal, through the Python SDK.

Built on typer (commands and options from type hints, with click underneath: a well-kept, widely used
pair) and rich (tables, trees, highlighted SQL and progress bars, already typer's own dependency for its
help pages), and prompt_toolkit for the shell's line editing and history.

Exit statuses (see :mod:`chatdb_cli.errors`): 0 done, 1 the server refused (``error: <STATUS>
<reason>: <message>`` on stderr), 2 bad usage or settings, 3 the server unreachable or too slow,
4 a followed training job failed, 130 interrupted or declined at a prompt.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer

from chatdb_cli.commands import query
from chatdb_cli.commands.evaluate import evaluate
from chatdb_cli.commands.examples import examples
from chatdb_cli.commands.shell import shell
from chatdb_cli.commands.sources import sources
from chatdb_cli.commands.status import status
from chatdb_cli.commands.train import train
from chatdb_cli.connection import ConfigurationError
from chatdb_cli.errors import CommandError, ExitCode, error_line, exit_code, job_failed_line, one_line
from chatdb_cli.invocation import Invocation
from chatdb_client import ChatDBError, TrainingJobFailed

SERVER_PANEL = "Server host (chatdb-server)"
CONNECTION_PANEL = "Connection"


def connect(ctx: typer.Context,
            address: Annotated[str | None, typer.Option(
                help="Server host:port (CHATDB_ADDRESS; default 127.0.0.1:50051).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            api_key: Annotated[str | None, typer.Option(
                help="API key (CHATDB_API_KEY).", show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
            tenant: Annotated[str | None, typer.Option(
                help="Act for this tenant, operators only (CHATDB_TENANT).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            profile: Annotated[str | None, typer.Option(
                help="Profile of profiles.toml (CHATDB_PROFILE; default 'default').", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            ca_file: Annotated[Path | None, typer.Option(
                help="CA of the server's certificate; turns TLS on (CHATDB_CA_FILE).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            cert_file: Annotated[Path | None, typer.Option(
                help="Client certificate for mTLS (CHATDB_CERT_FILE).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            key_file: Annotated[Path | None, typer.Option(
                help="Client key for mTLS (CHATDB_KEY_FILE).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            timeout: Annotated[float | None, typer.Option(
                help="Seconds each call may take (CHATDB_TIMEOUT; default 30).", show_default=False,
                rich_help_panel=CONNECTION_PANEL)] = None,
            ) -> None:
    """Ask a running ChatDB server about your databases. Flags beat CHATDB_* variables, which beat
    the profile file (profiles.toml in the user's config directory)."""
    invocation = Invocation(address, api_key, tenant, profile, ca_file, cert_file, key_file, timeout)
    ctx.obj = invocation
    ctx.call_on_close(invocation.close)


def create_app(server_commands: Mapping[str, str] | None = None) -> typer.Typer:
    """The command tree. ``server_commands`` (name → help) are listed in the help under their own panel:
    the server distribution runs them itself before handing the rest here."""
    app = typer.Typer(name="chatdb", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                      rich_markup_mode="rich", context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(connect)
    app.add_typer(sources, name="sources")
    app.command("train")(train)
    app.command("ask")(query.ask)
    app.command("sql")(query.sql)
    app.command("history")(query.history)
    app.command("feedback")(query.feedback)
    app.add_typer(examples, name="examples")
    app.command("status")(status)
    app.command("eval")(evaluate)
    app.command("shell")(shell)
    if importlib.util.find_spec("chatdb_cli.mcp") is not None:  # the `mcp` command, when it is installed
        importlib.import_module("chatdb_cli.mcp").register(app)
    for name, help_text in (server_commands or {}).items():
        _list_server_command(app, name, help_text)
    return app


def _list_server_command(app: typer.Typer, name: str, help_text: str) -> None:
    def elsewhere() -> None:
        raise CommandError(f"'chatdb {name}' comes with the server distribution (chatdb-server)")

    app.command(name, help=help_text, rich_help_panel=SERVER_PANEL, add_help_option=False,
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True})(elsewhere)


def main(argv: Sequence[str] | None = None, server_commands: Mapping[str, str] | None = None) -> int:
    """Run ``chatdb`` with ``argv`` (default: the process's arguments); the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        create_app(server_commands)(args=args, prog_name="chatdb", standalone_mode=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else ExitCode.USAGE)
    except ChatDBError as error:
        _complain(error_line(error))
        return exit_code(error)
    except TrainingJobFailed as failed:
        _complain(job_failed_line(failed))
        return ExitCode.JOB_FAILED
    except (CommandError, ConfigurationError) as error:
        _complain(f"error: {one_line(str(error))}")
        return error.exit_code if isinstance(error, CommandError) else ExitCode.USAGE
    except KeyboardInterrupt:
        _complain("interrupted")
        return ExitCode.INTERRUPTED
    return ExitCode.OK


def exit_status(code: int) -> int:
    """``code``, for the process to exit with. An interrupted command (Ctrl-C) ends the process here and now:
    grpc can wait for ever, at exit, on a channel whose stream a Ctrl-C broke into, and there is nothing
    left to finish."""
    if code == ExitCode.INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _complain(line: str) -> None:
    """One line on stderr, never wrapped (scripts and people grep it)."""
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)
