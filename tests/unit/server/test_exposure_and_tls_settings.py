"""Authentication may be off only on loopback; TLS settings must be whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.server.runtime import check_exposure, is_loopback
from chatdb_server.server.tls import check_tls_settings, server_credentials
from chatdb_server.settings import Settings


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.4", False), ("chatdb.internal", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_authentication_off_is_refused_off_loopback_and_accepted_with_a_warning_on_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="only on loopback"):
        check_exposure(Settings.from_env({}, host="0.0.0.0", authentication=False, data_dir=tmp_path))
    check_exposure(Settings.from_env({}, host="127.0.0.1", authentication=False, data_dir=tmp_path))
    assert "access.authentication_off" in capsys.readouterr().err
    check_exposure(Settings.from_env({}, host="0.0.0.0", data_dir=tmp_path))  # on: anything goes


def test_authentication_setting_reads_off_from_the_environment(tmp_path: Path) -> None:
    assert Settings.from_env({"CHATDB_AUTHENTICATION": "off"}, data_dir=tmp_path).authentication is False
    assert Settings.from_env({}, data_dir=tmp_path).authentication is True


@pytest.mark.parametrize("values", [{"tls_cert_file": "server.crt"}, {"tls_key_file": "server.key"},
                                    {"tls_client_ca_file": "ca.pem"}])
def test_half_configured_tls_fails_at_start(tmp_path: Path, values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="tls"):
        check_tls_settings(Settings.from_env({}, data_dir=tmp_path, **values))


def test_without_tls_settings_the_server_is_plaintext(tmp_path: Path) -> None:
    assert server_credentials(Settings.from_env({}, data_dir=tmp_path)) is None
