"""Settings: environment parsing, overrides, and that every setting is documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chatdb_server.settings import Settings
from tests.support.spider import REPO_ROOT


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings.from_env({})
    assert settings.port == 50051
    assert settings.data_dir == Path(".chatdb")
    assert settings.resolved_metadata_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_metadata_url.endswith("metadata.db")


def test_environment_and_overrides() -> None:
    env = {"CHATDB_PORT": "6000", "CHATDB_DATA_DIR": "/srv/chatdb", "CHATDB_BREAKER_RESET_S": "2.5",
           "CHATDB_TYPO": "x"}
    settings = Settings.from_env(env, port=7000, host=None)
    assert settings.port == 7000
    assert settings.data_dir == Path("/srv/chatdb")
    assert settings.breaker_reset_s == 2.5
    assert settings.host == "127.0.0.1"
    assert settings.extra == {"CHATDB_TYPO": "x"}


def test_bad_number_names_the_variable() -> None:
    with pytest.raises(ValueError, match="CHATDB_PORT"):
        Settings.from_env({"CHATDB_PORT": "fifty"})


def test_every_setting_is_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [f.name for f in dataclasses.fields(Settings)
               if f.name != "extra" and f"`CHATDB_{f.name.upper()}`" not in readme]
    assert missing == []
