"""DSN query parameters: the per-dialect allow-list, and what the allowed ones become for the driver."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.dsn_params import PARAMETER_NOT_ALLOWED, TlsMode
from chatdb_server.sql.engines import driver_arguments
from tests.support.certificates import Authority


@pytest.mark.parametrize(("dsn", "parameter"), [
    ("postgresql://u:s3cret@db/shop?options=-cdefault_transaction_read_only%3Doff", "options"),
    ("postgresql://u:s3cret@db/shop?host=/var/run/postgresql", "host"),
    ("postgresql://u:s3cret@db/shop?sslmode=require&passfile=/root/.pgpass", "passfile"),
    ("mysql://u:s3cret@db/shop?unix_socket=/run/mysqld/mysqld.sock", "unix_socket"),
    ("mysql://u:s3cret@db/shop?local_infile=1", "local_infile"),
    ("mariadb://u:s3cret@db/shop?sslmode=require", "sslmode"),
    ("sqlite:////data/shop.db?mode=rwc", "mode"),
])
def test_unknown_parameters_are_refused_by_name(dsn: str, parameter: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_dsn(dsn)
    assert caught.value.reason == PARAMETER_NOT_ALLOWED
    assert caught.value.violations[0].field == "data_source.dsn"
    assert repr(parameter) in caught.value.message
    assert "s3cret" not in caught.value.message


@pytest.mark.parametrize(("dsn", "words"), [
    ("postgresql://u@db/shop?sslmode=sometimes", "sslmode"),
    ("postgresql://u@db/shop?sslmode=require&sslmode=disable", "more than once"),
    ("postgresql://u@db/shop?sslrootcert=/ca.pem", "sslmode=require"),
    ("postgresql://u@db/shop?sslmode=prefer&sslcert=/c.pem", "sslmode=require"),
    ("postgresql://u@db/shop?sslmode=require&sslkey=/k.pem", "'sslcert'"),
    ("mysql://u@db/shop?ssl_mode=disabled&ssl_ca=/ca.pem", "ssl_mode=required"),
    ("mysql://u@db/shop?ssl_mode=always", "ssl_mode"),
    ("mysql://u@db/shop?charset=utf8;drop", "charset"),
    ("postgresql://u@127.0.0.1,10.0.0.1/shop", "one host"),
    ("postgresql://u@%2Fvar%2Frun%2Fpostgresql/shop", "one host"),
    ("postgresql://u@[fe80::1%25eth0]/shop", "one host"),
])
def test_bad_values_are_refused(dsn: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        parse_dsn(dsn, "dsn")


def test_parameters_never_reach_the_url_the_driver_sees() -> None:
    parsed = parse_dsn("postgresql://u:s3cret@db/shop?sslmode=require")
    assert dict(parsed.async_url.query) == {}
    assert parsed.params.tls.mode is TlsMode.REQUIRE
    assert driver_arguments(parse_dsn("postgresql://u@db/shop")) == {}
    assert driver_arguments(parse_dsn("mysql://u@db/shop")) == {}


@pytest.mark.parametrize(("mode", "argument"), [("disable", False), ("allow", "allow"), ("prefer", "prefer")])
def test_postgres_modes_without_verification_are_asyncpgs_own(mode: str, argument: object) -> None:
    assert driver_arguments(parse_dsn(f"postgresql://u@db/shop?sslmode={mode}")) == {"ssl": argument}


def context_of(dsn: str) -> ssl.SSLContext:
    context = driver_arguments(parse_dsn(dsn))["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    return context


def test_require_encrypts_without_checking_unless_a_ca_is_named(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "target")
    plain = context_of("postgresql://u@db/shop?sslmode=require")
    assert (plain.verify_mode, plain.check_hostname) == (ssl.CERT_NONE, False)
    checked = context_of(f"postgresql://u@db/shop?sslmode=require&sslrootcert={ca.cert}")
    assert (checked.verify_mode, checked.check_hostname) == (ssl.CERT_REQUIRED, False)


def test_verify_modes_load_the_named_ca(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "target")
    verify_ca = context_of(f"postgresql://u@db/shop?sslmode=verify-ca&sslrootcert={ca.cert}")
    assert (verify_ca.verify_mode, verify_ca.check_hostname) == (ssl.CERT_REQUIRED, False)
    verify_full = context_of(f"postgresql://u@db/shop?sslmode=verify-full&sslrootcert={ca.cert}")
    assert (verify_full.verify_mode, verify_full.check_hostname) == (ssl.CERT_REQUIRED, True)
    issuers = [dict(item[0] for item in cert["subject"]) for cert in verify_full.get_ca_certs()]
    assert issuers == [{"commonName": "target"}]


def test_verify_without_a_ca_trusts_the_system_cas() -> None:
    context = context_of("postgresql://u@db/shop?sslmode=verify-full")
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_client_certificate_is_loaded(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "target")
    client = ca.issue("chatdb")
    context_of(f"postgresql://u@db/shop?sslmode=require&sslcert={client.cert}&sslkey={client.key}")
    with pytest.raises(ssl.SSLError):  # the key does not belong to the certificate
        context_of(f"postgresql://u@db/shop?sslmode=require&sslcert={client.cert}&sslkey={ca.issue('other').key}")


def test_mysql_modes_and_charset(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "target")
    identity = context_of(f"mysql://u@db/shop?ssl_mode=VERIFY_IDENTITY&ssl_ca={ca.cert}")
    assert (identity.verify_mode, identity.check_hostname) == (ssl.CERT_REQUIRED, True)
    implied = parse_dsn(f"mysql://u@db/shop?ssl_ca={ca.cert}")
    assert implied.params.tls.mode is TlsMode.VERIFY_CA
    preferred = context_of("mysql://u@db/shop?ssl_mode=preferred")
    assert preferred.verify_mode == ssl.CERT_NONE
    assert driver_arguments(parse_dsn("mysql://u@db/shop?ssl_mode=disabled&charset=utf8mb4")) == {
        "charset": "utf8mb4"}
