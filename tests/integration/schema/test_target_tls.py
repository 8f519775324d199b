"""TLS to target databases, against a throwaway PostgreSQL cluster that speaks TLS.

The module starts its own cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin, as the
``postgres`` user when the tests run as root) on a free port, with a server certificate for
localhost signed by a CA made here. DSNs with ``sslmode`` and ``sslrootcert`` then register
over the real gRPC server; a wrong CA and a server without TLS fail as FAILED_PRECONDITION with
the driver's reason, never UNKNOWN. The local MariaDB has no TLS: ``ssl_mode=required`` must be
refused there, ``preferred`` must connect.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
import pytest
from sqlalchemy import text

from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.engines import create_engine
from tests.support.certificates import Authority
from tests.support.grpc_unit import error_info
from tests.support.server import in_process_suite

TENANT = (("x-chatdb-tenant", "acme"),)


@dataclass(frozen=True)
class TlsCluster:
    """A running PostgreSQL that offers TLS with a certificate for localhost."""

    port: int
    ca: Path
    """The CA that signed the server's certificate."""
    foreign_ca: Path
    """A CA that signed nothing the server presents."""

    def dsn(self, query: str, host: str = "localhost") -> str:
        return f"postgresql://postgres@{host}:{self.port}/postgres?{query}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    """Run ``command`` as the postgres user when we are root (the server refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[TlsCluster]:
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        pytest.skip("initdb not found under /usr/lib/postgresql/*/bin: cannot start a TLS PostgreSQL")
    bin_dir = initdb[-1].parent
    work = Path(tempfile.mkdtemp(prefix="chatdb-tls-pg-"))
    try:
        authority = Authority(work / "certs", "target")
        foreign = Authority(work / "foreign", "foreign")
        server = authority.localhost()
        server.key.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(work, "postgres")
            for path in work.rglob("*"):
                shutil.chown(path, "postgres")
        cluster = work / "cluster"
        subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(cluster), "-A", "trust", "-U", "postgres",
                                     "--no-sync"]), check=True, capture_output=True)
        port = _free_port()
        options = (f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={work} -c ssl=on "
                   f"-c ssl_cert_file={server.cert} -c ssl_key_file={server.key} -c fsync=off")
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(cluster), "-l", str(work / "log"), "-w",
                                     "-t", "60", "-o", options, "start"]), check=True, capture_output=True)
        try:
            yield TlsCluster(port, authority.cert, foreign.cert)
        finally:
            subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(cluster), "-m", "immediate", "-w",
                                         "stop"]), check=False, capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def encrypted(dsn: str) -> bool:
    """Whether ChatDB's own engine for ``dsn`` gets a TLS session, as the server sees it."""
    engine = create_engine(parse_dsn(dsn))
    try:
        async with engine.connect() as conn:
            return bool((await conn.execute(text(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))).scalar_one())
    finally:
        await engine.dispose()


async def test_the_engine_really_speaks_tls_as_the_mode_says(tls_cluster: TlsCluster) -> None:
    assert await encrypted(tls_cluster.dsn(f"sslmode=verify-full&sslrootcert={tls_cluster.ca}"))
    assert await encrypted(tls_cluster.dsn(f"sslmode=verify-ca&sslrootcert={tls_cluster.ca}", host="127.0.0.1"))
    assert await encrypted(tls_cluster.dsn("sslmode=require"))
    assert not await encrypted(tls_cluster.dsn("sslmode=disable"))


async def test_verify_full_with_the_right_ca_registers_and_discovers(tls_cluster: TlsCluster,
                                                                     tmp_path: Path) -> None:
    setup = await asyncpg.connect(host="127.0.0.1", port=tls_cluster.port, user="postgres", database="postgres",
                                  ssl=False)
    try:
        await setup.execute("CREATE TABLE IF NOT EXISTS orders (id integer PRIMARY KEY, total numeric)")
    finally:
        await setup.close()
    dsn = tls_cluster.dsn(f"sslmode=verify-full&sslrootcert={tls_cluster.ca}")
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        report = await schema.TestConnection(schema_service_pb2.TestConnectionRequest(dsn=dsn), metadata=TENANT)
        assert report.server_version.startswith("PostgreSQL")
        source = (await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source={"dsn": dsn}), metadata=TENANT)).data_source
        tables = await schema.ListTables(schema_service_pb2.ListTablesRequest(parent=source.name), metadata=TENANT)
        assert [t.table for t in tables.tables] == ["orders"]
        by_name = await schema.TestConnection(schema_service_pb2.TestConnectionRequest(name=source.name),
                                              metadata=TENANT)
        assert by_name.server_version == report.server_version


async def unreachable_reason(tmp_path: Path, dsn: str) -> str:
    """TestConnection of ``dsn`` must fail as FAILED_PRECONDITION / SOURCE_UNREACHABLE; its message."""
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await schema.TestConnection(schema_service_pb2.TestConnectionRequest(dsn=dsn), metadata=TENANT)
    error = caught.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    info = error_info(error.trailing_metadata())
    assert info is not None and info.reason == "SOURCE_UNREACHABLE"
    return error.details() or ""


async def test_verify_full_with_a_wrong_ca_fails_clearly(tls_cluster: TlsCluster, tmp_path: Path) -> None:
    reason = await unreachable_reason(tmp_path, tls_cluster.dsn(
        f"sslmode=verify-full&sslrootcert={tls_cluster.foreign_ca}"))
    assert "certificate verify failed" in reason


async def test_require_with_the_ca_checks_the_chain(tls_cluster: TlsCluster, tmp_path: Path) -> None:
    dsn = tls_cluster.dsn(f"sslmode=require&sslrootcert={tls_cluster.foreign_ca}")
    assert "certificate verify failed" in await unreachable_reason(tmp_path, dsn)


async def test_require_against_a_server_without_tls_fails_clearly(pg_dsn: str, tmp_path: Path) -> None:
    reason = await unreachable_reason(tmp_path, f"{pg_dsn}?sslmode=require")
    assert "SSL" in reason


async def test_mysql_required_is_refused_by_a_server_without_tls_and_preferred_connects(mysql_dsn: str,
                                                                                       tmp_path: Path) -> None:
    reason = await unreachable_reason(tmp_path, f"{mysql_dsn}?ssl_mode=required")
    assert "did not agree to TLS" in reason
    async with in_process_suite(tmp_path / "data", ["schema"]) as (_, channel):
        report = await schema_service_pb2_grpc.SchemaServiceStub(channel).TestConnection(
            schema_service_pb2.TestConnectionRequest(dsn=f"{mysql_dsn}?ssl_mode=preferred&charset=utf8mb4"),
            metadata=TENANT)
    assert "MariaDB" in report.server_version or report.server_version[:1].isdigit()
