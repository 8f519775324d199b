"""The command tree without a server: help, usage errors and their exit statuses."""

from __future__ import annotations

import pytest

from chatdb_cli.app import main


def test_help_lists_every_command_and_the_server_ones_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], {"serve": "Run services."}) == 0
    out = capsys.readouterr().out
    for command in ("sources", "train", "ask", "sql", "history", "feedback", "examples", "status", "shell",
                    "eval", "serve", "Run services.", "--address", "--api-key", "--profile"):
        assert command in out, command


def test_a_server_command_without_the_server_says_where_it_lives(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"], {"serve": "Run services."}) == 2
    assert capsys.readouterr().err.strip() == "error: 'chatdb serve' comes with the server distribution (chatdb-server)"


@pytest.mark.parametrize("argv", [
    pytest.param(["ask", "shop"], id="missing_question"),
    pytest.param(["sql", "shop", "SELECT 1", "--format", "xml"], id="unknown_format"),
    pytest.param(["nonsense"], id="unknown_command"),
    pytest.param(["feedback", "dataSources/shop/queries/q1"], id="no_rating"),
    pytest.param(["feedback", "dataSources/shop/queries/q1", "--good", "--sql", "SELECT 1"], id="contradiction"),
])
def test_bad_usage_exits_2_before_any_call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--address", "127.0.0.1:1", *argv]) == 2
    assert "Traceback" not in capsys.readouterr().err
