"""The admission rules: which SQLite files and network hosts a data source may name.

Files are real files and symlinks under ``tmp_path``; host names other than literal
addresses and ``localhost`` go through a resolver given to the rules, so that a name can be
made to resolve to a metadata or loopback address without a DNS server.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from chatdb_server.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from chatdb_server.settings import Settings
from chatdb_server.sql.admission import SOURCE_NOT_ALLOWED, SourceAdmission, resolve_host
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.engines import create_engine

NAMES = {"db.internal": ["10.0.0.5"], "evil.example": ["169.254.169.254"], "mixed.example": ["10.0.0.7", "127.0.0.1"],
         "store.internal": ["10.0.0.9"]}


async def fake_dns(host: str, port: int) -> Sequence[str]:
    """Resolves the names in NAMES, and localhost as the system does; any other name does not exist."""
    if host == "localhost":
        return await resolve_host(host, port)
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


def admission(tmp_path: Path, *, dirs: Sequence[Path] = (), hosts: str = "", metadata_url: str = "") -> SourceAdmission:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", metadata_url=metadata_url or None,
                                 allowed_sqlite_dirs=",".join(str(d) for d in dirs), allowed_hosts=hosts)
    return SourceAdmission.from_settings(settings, resolver=fake_dns)


def sqlite_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


async def refusal(rules: SourceAdmission, dsn: str) -> PermissionDenied:
    with pytest.raises(PermissionDenied) as caught:
        await rules.check(parse_dsn(dsn))
    assert caught.value.reason == SOURCE_NOT_ALLOWED
    return caught.value


# ------------------------------------------------------------------ SQLite files


async def test_the_metadata_store_file_is_refused_even_inside_an_allowed_directory(tmp_path: Path) -> None:
    rules = admission(tmp_path, dirs=[tmp_path])
    store = sqlite_file(tmp_path / "data" / "metadata.db")
    assert (await refusal(rules, f"sqlite:///{store}")).metadata["rule"] == "metadata_store"


async def test_a_metadata_store_outside_the_data_dir_and_its_journal_are_refused(tmp_path: Path) -> None:
    store = sqlite_file(tmp_path / "elsewhere" / "chatdb.db")
    journal = sqlite_file(tmp_path / "elsewhere" / "chatdb.db-wal")
    rules = admission(tmp_path, dirs=[tmp_path], metadata_url=f"sqlite+aiosqlite:///{store}")
    for path in (store, journal):
        assert (await refusal(rules, f"sqlite:///{path}")).metadata["rule"] == "metadata_store"


async def test_other_files_of_the_data_dir_are_refused_but_its_samples_are_allowed(tmp_path: Path) -> None:
    rules = admission(tmp_path, dirs=[tmp_path])
    milvus = sqlite_file(tmp_path / "data" / "milvus.db")
    assert (await refusal(rules, f"sqlite:///{milvus}")).metadata["rule"] == "data_dir"
    sample = sqlite_file(tmp_path / "data" / "samples" / "shop.db")
    await admission(tmp_path).check(parse_dsn(f"sqlite:///{sample}"))  # no allowed directories needed


async def test_by_default_no_file_outside_the_samples_is_allowed(tmp_path: Path) -> None:
    shop = sqlite_file(tmp_path / "shop.db")
    denied = await refusal(admission(tmp_path), f"sqlite:///{shop}")
    assert denied.metadata["rule"] == "allowed_sqlite_dirs"
    assert "CHATDB_ALLOWED_SQLITE_DIRS" in denied.message
    assert (await refusal(admission(tmp_path, dirs=[tmp_path]), "sqlite:////etc/passwd")).metadata["rule"] == \
        "allowed_sqlite_dirs"


async def test_a_file_in_an_allowed_directory_is_admitted(tmp_path: Path) -> None:
    shop = sqlite_file(tmp_path / "allowed" / "nested" / "shop.db")
    admitted = await admission(tmp_path, dirs=[tmp_path / "allowed"]).admit(parse_dsn(f"sqlite:///{shop}"))
    assert admitted.connect_check is not None
    assert admitted.database == str(shop)


async def test_dot_dot_is_resolved_before_the_check(tmp_path: Path) -> None:
    rules = admission(tmp_path, dirs=[tmp_path / "allowed"])
    outside = sqlite_file(tmp_path / "outside" / "x.db")
    inside = sqlite_file(tmp_path / "allowed" / "y.db")
    await refusal(rules, f"sqlite:///{tmp_path}/allowed/../outside/x.db")
    await refusal(rules, f"sqlite:///{tmp_path}/allowed/../data/metadata.db")
    await rules.check(parse_dsn(f"sqlite:///{tmp_path}/outside/../allowed/y.db"))
    assert outside.exists() and inside.exists()


async def test_symlinks_are_resolved_before_the_check(tmp_path: Path) -> None:
    rules = admission(tmp_path, dirs=[tmp_path / "allowed"])
    secret = sqlite_file(tmp_path / "outside" / "secret.db")
    store = sqlite_file(tmp_path / "data" / "metadata.db")
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed" / "innocent.db").symlink_to(secret)
    (tmp_path / "allowed" / "store.db").symlink_to(store)
    (tmp_path / "allowed" / "linked-dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert (await refusal(rules, f"sqlite:///{tmp_path}/allowed/innocent.db")).metadata["rule"] == \
        "allowed_sqlite_dirs"
    assert (await refusal(rules, f"sqlite:///{tmp_path}/allowed/store.db")).metadata["rule"] == "metadata_store"
    await refusal(rules, f"sqlite:///{tmp_path}/allowed/linked-dir/secret.db")


async def test_a_samples_dir_that_links_elsewhere_is_not_the_samples(tmp_path: Path) -> None:
    elsewhere = sqlite_file(tmp_path / "elsewhere" / "shop.db")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "samples").symlink_to(elsewhere.parent, target_is_directory=True)
    await refusal(admission(tmp_path), f"sqlite:///{tmp_path}/data/samples/shop.db")


@pytest.mark.parametrize("path", ["/tmp/allowed/x.db#/../../data/metadata.db", "/tmp/allowed/%252e%252e/metadata.db",
                                  "/tmp/a.db%3Fmode=rwc"])
def test_sqlite_uri_characters_are_refused_before_any_check(path: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_dsn(f"sqlite:///{path}")
    assert caught.value.violations[0].field == "data_source.dsn"


async def test_the_check_runs_again_when_an_engine_connects(tmp_path: Path) -> None:
    rules = admission(tmp_path, dirs=[tmp_path / "allowed"])
    shop = sqlite_file(tmp_path / "allowed" / "shop.db")
    admitted = await rules.admit(parse_dsn(f"sqlite:///{shop}"))
    secret = sqlite_file(tmp_path / "outside" / "secret.db")
    shop.unlink()
    shop.symlink_to(secret)  # swapped after admission
    engine = create_engine(admitted, read_only=True)
    try:
        with pytest.raises(PermissionDenied) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert caught.value.metadata["rule"] == "allowed_sqlite_dirs"


# ------------------------------------------------------------------ network hosts


@pytest.mark.parametrize(("host", "kind"), [
    ("127.0.0.1", "loopback"), ("localhost", "loopback"), ("[::1]", "loopback"), ("0.0.0.0", "unspecified"),
    ("169.254.169.254", "cloud metadata"), ("[fd00:ec2::254]", "cloud metadata"),
    ("[::ffff:169.254.169.254]", "cloud metadata"), ("168.63.129.16", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"), ("169.254.10.1", "link-local"), ("[fe80::1]", "link-local"),
    ("evil.example", "cloud metadata"), ("mixed.example", "loopback"),
])
async def test_special_addresses_are_refused_with_an_empty_allow_list(tmp_path: Path, host: str, kind: str) -> None:
    denied = await refusal(admission(tmp_path), f"postgresql://app:pw-never-shown@{host}:5432/shop")
    assert denied.metadata == {"rule": "special_address", "field": "data_source.dsn", "address_kind": kind}
    assert "pw-never-shown" not in denied.message


@pytest.mark.parametrize("host", ["10.1.2.3", "192.168.7.8", "8.8.4.4", "db.internal", "[2001:db8::5]"])
async def test_ordinary_addresses_are_allowed_with_an_empty_allow_list(tmp_path: Path, host: str) -> None:
    admitted = await admission(tmp_path).admit(parse_dsn(f"mysql://app:pw@{host}:3306/shop"))
    assert admitted.url.host == host.strip("[]")


async def test_a_non_empty_allow_list_admits_only_listed_names_and_cidrs(tmp_path: Path) -> None:
    rules = admission(tmp_path, hosts="10.0.0.0/8, db.internal, 2001:db8::/32")
    for allowed in ("10.200.0.1", "db.internal", "[2001:db8::1]"):
        await rules.check(parse_dsn(f"postgresql://u@{allowed}/shop"))
    assert (await refusal(rules, "postgresql://u@192.168.1.1/shop")).metadata["rule"] == "allowed_hosts"
    assert (await refusal(rules, "postgresql://u@127.0.0.1/shop")).metadata["rule"] == "special_address"
    assert (await refusal(rules, "postgresql://u@mixed.example/shop")).metadata["rule"] == "special_address"


async def test_special_addresses_pass_only_when_listed_by_name_or_cidr(tmp_path: Path) -> None:
    await admission(tmp_path, hosts="localhost").check(parse_dsn("postgresql://u@localhost/shop"))
    await admission(tmp_path, hosts="127.0.0.0/8").check(parse_dsn("postgresql://u@127.0.0.1/shop"))
    await admission(tmp_path, hosts="169.254.169.254/32").check(parse_dsn("postgresql://u@evil.example/shop"))
    await refusal(admission(tmp_path, hosts="127.0.0.1"), "postgresql://u@169.254.169.254/shop")


async def test_a_host_that_does_not_resolve_is_unreachable_not_allowed(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        await admission(tmp_path).check(parse_dsn("postgresql://u:secret-pw@nowhere.example/shop"))
    assert caught.value.reason == "SOURCE_UNREACHABLE"
    assert "nowhere.example" in caught.value.message and "secret-pw" not in caught.value.message


def test_a_malformed_allow_list_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CHATDB_ALLOWED_HOSTS"):
        admission(tmp_path, hosts="10.0.0.0/33x, db internal")


# ------------------------------------------------------------------ the metadata store's server


@pytest.mark.parametrize("target", ["store.internal:5432/chatdb", "store.internal/CHATDB", "10.0.0.9:5432/chatdb"])
async def test_the_metadata_database_is_refused_even_when_its_host_is_listed(tmp_path: Path, target: str) -> None:
    rules = admission(tmp_path, hosts="store.internal,10.0.0.0/8",
                      metadata_url="postgresql+asyncpg://chatdb:pw@store.internal:5432/chatdb")
    assert (await refusal(rules, f"postgresql://chatdb:pw@{target}")).metadata["rule"] == "metadata_store"


@pytest.mark.parametrize("target", ["postgresql://u@store.internal:5432/sales", "postgresql://u@store.internal:5433/chatdb",
                                    "mysql://u@store.internal:5432/chatdb"])
async def test_other_databases_of_the_metadata_server_are_allowed(tmp_path: Path, target: str) -> None:
    rules = admission(tmp_path, hosts="store.internal",
                      metadata_url="postgresql+asyncpg://chatdb:pw@store.internal:5432/chatdb")
    await rules.check(parse_dsn(target))


async def test_a_loopback_metadata_store_is_refused_by_address_too(tmp_path: Path) -> None:
    rules = admission(tmp_path, hosts="127.0.0.1,localhost",
                      metadata_url="postgresql+asyncpg://postgres@localhost/chatdb")
    assert (await refusal(rules, "postgresql://postgres@127.0.0.1:5432/chatdb")).metadata["rule"] == "metadata_store"


# ------------------------------------------------------------------ certificate files


async def test_certificate_files_must_be_readable_files_outside_the_data_dir(tmp_path: Path) -> None:
    rules = admission(tmp_path)
    ca = sqlite_file(tmp_path / "certs" / "ca.pem")
    await rules.check(parse_dsn(f"postgresql://u@10.0.0.1/shop?sslmode=verify-full&sslrootcert={ca}"))
    key = sqlite_file(tmp_path / "data" / "secret.key")
    denied = await refusal(rules, f"postgresql://u@10.0.0.1/shop?sslmode=require&sslrootcert={key}")
    assert denied.metadata["rule"] == "data_dir"
    for missing in (tmp_path / "certs" / "absent.pem", tmp_path / "certs"):
        with pytest.raises(InvalidArgument) as caught:
            await rules.check(parse_dsn(f"mysql://u@10.0.0.1/shop?ssl_ca={missing}", "dsn"), "dsn")
        assert caught.value.violations[0].field == "dsn"
        assert "ssl_ca" in caught.value.message
