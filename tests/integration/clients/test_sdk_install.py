"""The Python SDK installs light: a clean virtual environment gets the API package and gRPC, none of the
server's dependencies, and the SDK installed there talks to a real server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chatdb_server.access.bootstrap import read_admin_key
from chatdb_server.samples.shop import build_shop_database
from tests.support.server import in_process_suite

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SERVER_ONLY = {"sqlalchemy", "alembic", "asyncpg", "aiomysql", "aiosqlite", "pymilvus", "milvus-lite", "sqlglot",
               "numpy", "torch", "sentence-transformers", "transformers", "pybreaker", "structlog", "cryptography",
               "chatdb-server"}
EXPECTED = {"chatdb-client", "chatdb-api", "grpcio", "protobuf", "googleapis-common-protos"}


@pytest.fixture(scope="module")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the SDK (and what it depends on) installed."""
    venv = tmp_path_factory.mktemp("sdk") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(ROOT / "clients" / "api"), str(ROOT / "clients" / "python")], check=True)
    return python


def installed(python: Path) -> set[str]:
    listing = subprocess.run([str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
                             capture_output=True, text=True, check=True).stdout
    return {entry["name"].lower().replace("_", "-") for entry in json.loads(listing)}


def test_the_sdk_brings_the_api_package_and_grpc_and_nothing_of_the_server(sdk_venv: Path) -> None:
    names = installed(sdk_venv)
    assert names >= EXPECTED, EXPECTED - names
    assert not names & SERVER_ONLY, names & SERVER_ONLY


async def test_the_sdk_from_the_clean_environment_talks_to_a_real_server(sdk_venv: Path, tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    script = textwrap.dedent("""
        import sys
        from chatdb_client import ChatDBClient
        with ChatDBClient(sys.argv[1], api_key=sys.argv[3]) as client:
            source = client.create_data_source(f"sqlite:///{sys.argv[2]}", display_name="shop")
            print(" ".join(sorted(t.name.split("/")[-1] for t in client.list_tables(source.name))))
    """)
    async with in_process_suite(tmp_path / "chatdb", ["schema"]) as (running, _):
        child = await asyncio.create_subprocess_exec(
            str(sdk_venv), "-c", script, f"127.0.0.1:{running.port}", str(shop), read_admin_key(tmp_path / "chatdb"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    assert set(out.decode().split()) >= {"customers", "orders", "products"}
