"""``chatdb shell``: an interactive session on one source.

Each line is a question, answered as ``chatdb ask`` answers it and following up the answer before it
("only those in Berlin", "how many are there?"); ``\\sql SELECT ...`` runs SQL of your
own; ``\\q`` (or Ctrl-D) quits; Ctrl-C drops the line being typed. A refusal prints its error line and
the session goes on. Lines are edited with prompt_toolkit and kept in a history file in the user's data
directory (``~/.local/share/chatdb/shell_history`` on Linux), shared by every source. With stdin not a
terminal the lines are read plainly, so ``chatdb shell shop < questions.txt`` works too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import typer
from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory

from chatdb_cli.commands.query import show_result
from chatdb_cli.errors import error_line
from chatdb_cli.invocation import Invocation, current
from chatdb_cli.options import SourceArgument
from chatdb_cli.output import Printer
from chatdb_cli.render import source_id
from chatdb_client import AskResult, ChatDBError

QUIT = "\\q"
SQL_PREFIX = "\\sql "
HELP = "\\?"
HELP_TEXT = "a question is answered as `chatdb ask` answers it · \\sql SELECT … runs SQL · \\q quits"


def history_file() -> Path:
    """Where the shell keeps the lines typed, across sessions."""
    return Path(platformdirs.user_data_dir("chatdb", appauthor=False)) / "shell_history"


class ShellSession:
    """One source's conversation: each question follows up the last answered one (``previous_query``), so
    "only those in Berlin" or "how many are there?" refine the answer before; a question that stands on its
    own is answered afresh by the server. SQL of your own, or a low-confidence reply (nothing was answered),
    starts a new conversation."""

    def __init__(self, run: Invocation, source: str) -> None:
        self.run = run
        self.source = source
        self.previous_query = ""
        self.printer = Printer(console=run.console, notes=run.notes)

    def handle(self, line: str) -> bool:
        """Answer one line; False when the session should end."""
        text = line.strip()
        if not text:
            return True
        if text == QUIT:
            return False
        if text == HELP:
            self.run.notes.print(HELP_TEXT)
            return True
        try:
            if text.startswith(SQL_PREFIX):
                result = self.run.client.execute_sql(self.source, text.removeprefix(SQL_PREFIX))
            else:
                result = self.run.client.ask(self.source, text, previous_query=self.previous_query)
        except ChatDBError as error:
            self.run.notes.print(error_line(error), markup=False, style="red")
            return True
        self.previous_query = result.query if isinstance(result, AskResult) and not result.low_confidence else ""
        show_result(self.run, result, self.printer)
        return True


def _terminal_lines(prompt: str) -> Iterator[str]:
    path = history_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(history=FileHistory(str(path)))
    while True:
        try:
            yield session.prompt(prompt)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return


def _plain_lines() -> Iterator[str]:
    yield from (line.rstrip("\n") for line in sys.stdin)


def shell(ctx: typer.Context, name: SourceArgument) -> None:
    """Ask a source question after question (\\sql runs SQL, \\q quits)."""
    run = current(ctx)
    run.client.get_data_source(name)  # an unknown source fails here, not at the first question
    session = ShellSession(run, name)
    interactive = sys.stdin.isatty()
    if interactive:
        run.notes.print(f"[bold]{source_id(name)}[/] · {HELP_TEXT}")
    for line in _terminal_lines(f"{source_id(name)}> ") if interactive else _plain_lines():
        if not session.handle(line):
            break
