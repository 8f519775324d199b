"""Where ``chatdb`` connects: flags, then CHATDB_* variables, then the profile file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_cli.connection import (
    DEFAULT_ADDRESS,
    ConfigurationError,
    Connection,
    open_client,
    resolve_connection,
)

PROFILES = """
[default]
address = "file-default:50051"
api_key = "key-from-file"
tenant = "acme"
timeout = 12

[staging]
address = "staging:443"
ca_file = "~/ca.pem"
"""


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config dir of the test's own with the profile file, and no CHATDB_* variable set."""
    for name in ("ADDRESS", "API_KEY", "TENANT", "CA_FILE", "CERT_FILE", "KEY_FILE", "TIMEOUT", "PROFILE"):
        monkeypatch.delenv(f"CHATDB_{name}", raising=False)
    monkeypatch.setenv("CHATDB_CONFIG_DIR", str(tmp_path))
    (tmp_path / "profiles.toml").write_text(PROFILES)
    return tmp_path


def test_without_a_profile_file_the_defaults_apply(config_dir: Path) -> None:
    (config_dir / "profiles.toml").unlink()
    assert resolve_connection() == Connection(DEFAULT_ADDRESS, "", "", None, None, None, 30.0)


def test_the_default_profile_fills_what_nothing_else_names(config_dir: Path) -> None:
    connection = resolve_connection()
    assert (connection.address, connection.api_key, connection.tenant, connection.timeout) == (
        "file-default:50051", "key-from-file", "acme", 12.0)
    assert not connection.uses_tls


def test_variables_beat_the_file_and_flags_beat_variables(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATDB_ADDRESS", "env-host:1")
    monkeypatch.setenv("CHATDB_API_KEY", "key-from-env")
    from_env = resolve_connection()
    assert (from_env.address, from_env.api_key, from_env.tenant) == ("env-host:1", "key-from-env", "acme")

    from_flags = resolve_connection(address="flag-host:2", tenant="other", timeout=3)
    assert (from_flags.address, from_flags.api_key, from_flags.tenant, from_flags.timeout) == (
        "flag-host:2", "key-from-env", "other", 3.0)


def test_a_named_profile_by_flag_or_variable(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staging = resolve_connection(profile="staging")
    assert staging.address == "staging:443" and staging.api_key == ""  # profiles do not inherit [default]
    assert staging.ca_file == Path("~/ca.pem").expanduser() and staging.uses_tls

    monkeypatch.setenv("CHATDB_PROFILE", "staging")
    assert resolve_connection().address == "staging:443"
    assert resolve_connection(profile="default").address == "file-default:50051"  # the flag beats the variable


@pytest.mark.parametrize(("text", "profile", "message"), [
    pytest.param(PROFILES, "absent", "profile 'absent' not found in profiles.toml", id="unknown_profile"),
    pytest.param("[default\n", None, "cannot read profiles.toml", id="bad_toml"),
    pytest.param('[default]\nadress = "x"\n', None, "unknown settings: adress", id="unknown_setting"),
    pytest.param("default = 1\n", None, "is not a table", id="not_a_table"),
    pytest.param("[default]\ntimeout = -1\n", None, "timeout must be positive", id="negative_timeout"),
    pytest.param('[default]\ntimeout = "soon"\n', None, "timeout must be a number", id="bad_timeout"),
])
def test_unusable_settings_are_refused_clearly(config_dir: Path, text: str, profile: str | None,
                                              message: str) -> None:
    (config_dir / "profiles.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        resolve_connection(profile=profile)


def test_a_tls_file_that_cannot_be_read_is_a_configuration_error(config_dir: Path) -> None:
    connection = resolve_connection(ca_file=config_dir / "missing-ca.pem")
    with pytest.raises(ConfigurationError, match="cannot set up TLS"):
        open_client(connection)
    with pytest.raises(ConfigurationError, match="both the client certificate and its key"):
        open_client(resolve_connection(cert_file=config_dir / "profiles.toml"))


def test_the_client_carries_the_connection(config_dir: Path) -> None:
    with open_client(resolve_connection(address="127.0.0.1:1", timeout=4)) as client:
        assert (client.target, client.tenant, client.timeout) == ("127.0.0.1:1", "acme", 4.0)
