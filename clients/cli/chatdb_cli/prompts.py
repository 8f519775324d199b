"""Yes/no questions to the person at the terminal."""

from __future__ import annotations

import typer

from chatdb_cli.errors import CommandError, ExitCode


def confirm(question: str) -> bool:
    """Ask ``question`` on stderr, default no. End of input or Ctrl-C at the prompt stops the command
    (exit status 130) rather than answering."""
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        raise CommandError("interrupted", ExitCode.INTERRUPTED) from None
