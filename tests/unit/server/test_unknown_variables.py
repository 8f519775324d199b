"""`chatdb` reports misspelt CHATDB_* variables, but not the ones its own clients read."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.cli import main


def test_client_variables_are_not_reported_as_typos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATDB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHATDB_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("CHATDB_API_KEY", "cdb_not_a_real_key")
    monkeypatch.setenv("CHATDB_PROFILE", "ops")
    monkeypatch.setenv("CHATDB_PORTT", "50051")

    assert main(["migrate"]) == 0

    captured = capsys.readouterr()
    output = captured.out + captured.err
    warning = next(line for line in output.splitlines() if "settings.unknown_variables" in line)
    assert "CHATDB_PORTT" in warning
    for client_variable in ("CHATDB_ADDRESS", "CHATDB_API_KEY", "CHATDB_PROFILE"):
        assert client_variable not in warning
    assert "cdb_not_a_real_key" not in output
