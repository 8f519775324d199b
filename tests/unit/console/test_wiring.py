"""How ``chatdb serve`` hosts the console: the settings, the local target, off when the port is 0."""

from __future__ import annotations

from pathlib import Path

import grpc

from chatdb_server.server.console import console_config, local_target, split_targets, start_beside
from chatdb_server.settings import Settings


def test_the_console_is_on_by_default_on_8080() -> None:
    settings = Settings.from_env({})
    assert settings.console_port == 8080 and settings.console_secret == "" and not settings.console_secure_cookies
    assert Settings.from_env({"CHATDB_CONSOLE_PORT": "0"}).console_port == 0


async def test_no_console_when_the_port_is_0(tmp_path: Path) -> None:
    assert await start_beside(Settings.from_env({}, data_dir=tmp_path, console_port=0), 50051) is None
    assert not (tmp_path / "console.key").exists()


def test_the_local_target_is_plaintext_loopback_without_tls() -> None:
    assert local_target(Settings.from_env({}), 50999) == ("127.0.0.1:50999", None)


def test_the_local_target_trusts_the_services_certificate_with_tls(tmp_path: Path) -> None:
    cert = tmp_path / "server.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    target, credentials = local_target(Settings.from_env({}, tls_cert_file=str(cert), tls_key_file="k"), 50999)
    assert target == "localhost:50999" and isinstance(credentials, grpc.ChannelCredentials)


def test_the_secret_comes_from_the_settings_or_the_data_dir(tmp_path: Path) -> None:
    configured = console_config(Settings.from_env({}, data_dir=tmp_path, console_secret="s" * 43 + "="), "t", None)
    assert configured.secret == "s" * 43 + "=" and not (tmp_path / "console.key").exists()
    generated = console_config(Settings.from_env({}, data_dir=tmp_path, console_secure_cookies=True), "t", None)
    assert generated.secret == (tmp_path / "console.key").read_text().strip()
    assert generated.secure_cookies and generated.target == "t"


def test_a_console_alone_finds_split_services_by_their_addresses() -> None:
    settings = Settings.from_env({}, schema_address="dns:///chatdb-schema:50051",
                                 training_address="dns:///chatdb-training:50051")
    assert split_targets(settings) == {
        "chatdb.schema.v1.SchemaService": "dns:///chatdb-schema:50051",
        "chatdb.access.v1.AccessService": "dns:///chatdb-schema:50051",
        "chatdb.webhook.v1.WebhookService": "dns:///chatdb-schema:50051",
        "chatdb.training.v1.TrainingService": "dns:///chatdb-training:50051",
    }
    assert split_targets(Settings.from_env({})) == {}
