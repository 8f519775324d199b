"""The Go SDK: its generated stubs are current, its own tests pass, the example
command built from it talks to real servers on loopback ports, and the Go tests in
clients/go/internal/livetest call every helper against the real suite.

Builds offline in GOPATH mode against Debian's Go packages (see clients/go/README.md);
skips with the reason when Go or those packages are not installed.
"""

from __future__ import annotations

import asyncio
import filecmp
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from chatdb.schema.v1 import schema_pb2
from chatdb_client import AsyncChatDBClient, ChatDBError, tls_credentials
from chatdb_server.access.bootstrap import read_admin_key
from chatdb_server.samples.shop import build_shop_database
from tests.integration.clients.scripted_server import ScriptedServer
from tests.support.certificates import Authority
from tests.support.server import in_process_suite

REPO = Path(__file__).resolve().parents[3]
GO_SDK = REPO / "clients" / "go"
SYSTEM_GOPATH = Path("/usr/share/gocode")
MODULE = "github.com/chatdb/chatdb"
BUILD_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def _require_go() -> str:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed (apt-get install golang-go and the Debian Go gRPC packages; "
                    "see clients/go/README.md)")
    if not (SYSTEM_GOPATH / "src" / "google.golang.org" / "grpc").is_dir():
        pytest.skip(f"the Debian Go gRPC packages are not in {SYSTEM_GOPATH} (see clients/go/README.md)")
    return go


@dataclass(frozen=True)
class GoWorkspace:
    """A GOPATH whose src holds the SDK at its import path, and the example command built in it."""

    go: str
    gopath: Path
    binary: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "GO111MODULE": "off", "GOPATH": f"{self.gopath}:{SYSTEM_GOPATH}",
                "GOFLAGS": "", "CGO_ENABLED": "0"}

    def go_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.go, *args], cwd=self.gopath / "src" / MODULE, env=self.env, text=True,
                              capture_output=True, timeout=BUILD_TIMEOUT_S)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> GoWorkspace:
    go = _require_go()
    gopath = tmp_path_factory.mktemp("gopath")
    (gopath / "src" / "github.com" / "chatdb").mkdir(parents=True)
    (gopath / "src" / MODULE).symlink_to(GO_SDK, target_is_directory=True)
    built = GoWorkspace(go, gopath, gopath / "bin" / "chatdb-ask")
    result = built.go_run("build", "-o", str(built.binary), "./cmd/chatdb-ask")
    assert result.returncode == 0, result.stderr
    return built


AskRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def ask(workspace: GoWorkspace) -> AskRunner:
    """Runs the built chatdb-ask against an address with the given arguments."""
    def run(address: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(workspace.binary), "-addr", address, "-timeout", "20s", *args], text=True,
                              capture_output=True, timeout=120)
    return run


def with_source(server: ScriptedServer, tenant: str, source_id: str) -> None:
    """Register a source on the scripted server directly, as a Python client would have."""
    name = f"dataSources/{source_id}"
    server.script.sources[tenant][name] = schema_pb2.DataSource(name=name)


def test_generated_stubs_are_current(tmp_path: Path) -> None:
    _require_go()
    for tool in ("protoc", "protoc-gen-go", "protoc-gen-go-grpc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc)")
    (tmp_path / "clients" / "go").mkdir(parents=True)
    (tmp_path / "proto").symlink_to(REPO / "proto", target_is_directory=True)
    shutil.copy(GO_SDK / "generate.sh", tmp_path / "clients" / "go" / "generate.sh")
    subprocess.run(["sh", str(tmp_path / "clients" / "go" / "generate.sh")], check=True, capture_output=True,
                   timeout=120)
    fresh, committed = tmp_path / "clients" / "go" / "gen", GO_SDK / "gen"
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*.go"))
    assert fresh_files == sorted(p.relative_to(committed) for p in committed.rglob("*.go"))
    stale = [str(p) for p in fresh_files if not filecmp.cmp(fresh / p, committed / p, shallow=False)]
    assert stale == [], "run clients/go/generate.sh and commit clients/go/gen"


def test_go_unit_tests_and_vet_pass(workspace: GoWorkspace) -> None:
    tested = workspace.go_run("test", "./chatdb")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    vetted = workspace.go_run("vet", "./chatdb", "./cmd/...", "./internal/...")
    assert vetted.returncode == 0, vetted.stderr


def _lines(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines()]


def test_example_runs_sql_and_prints_typed_values(ask: AskRunner, scripted_server: ScriptedServer) -> None:
    with_source(scripted_server, "go-team", "shop")
    done = ask(scripted_server.address, "-tenant", "go-team", "-source", "shop", "-sql", "SELECT * FROM customers")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert lines[0] == ["sql", "SELECT * FROM customers"]
    assert lines[1] == ["level", "0", "FULL"]
    assert lines[2] == ["served_by", "CALLER_SQL"]
    assert lines[3] == ["columns", "id:INTEGER", "ratio:DOUBLE", "total:DECIMAL", "active:BOOL", "name:STRING",
                        "photo:BYTES", "created:TIMESTAMP", "birthday:DATE", "opens:TIME", "prefs:JSON"]
    assert lines[4] == ["row", "int64(9007199254740993)", "float64(0.25)", "decimal(12.50)", "bool(true)",
                        'string("Zoë")', "bytes(0001ff)", "time(2023-11-14T22:13:20.123Z)", "date(1990-07-14)",
                        "timeofday(09:30:00)", 'json({"n":1,"tags":["a","b"]})']
    assert lines[5] == ["row", "int64(-2)", *["null"] * 9]
    (method, tenant, request_id), = scripted_server.script.seen
    assert (method, tenant, len(request_id)) == ("ExecuteSql", "go-team", 32)


def test_example_asks_a_question(ask: AskRunner, scripted_server: ScriptedServer) -> None:
    with_source(scripted_server, "default", "shop")
    done = ask(scripted_server.address, "-source", "dataSources/shop", "Who", "are", "our", "customers?")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert lines[0][1].startswith("SELECT id, ratio")
    assert lines[1:3] == [["level", "2", "NO_MODEL"], ["served_by", "TEMPLATE"]]
    assert len([line for line in lines if line[0] == "row"]) == 2


def test_example_reports_errors_with_code_reason_and_fields(ask: AskRunner, scripted_server: ScriptedServer) -> None:
    missing = ask(scripted_server.address, "-source", "nope", "-sql", "SELECT 1")
    assert missing.returncode == 1
    assert _lines(missing.stderr)[0][:3] == ["error", "NotFound", "NOT_FOUND"]

    with_source(scripted_server, "default", "shop")
    refused = ask(scripted_server.address, "-source", "shop", "-sql", "DROP TABLE customers")
    assert refused.returncode == 1
    assert _lines(refused.stderr)[0][:3] == ["error", "FailedPrecondition", "UNSAFE_SQL"]

    empty = ask(scripted_server.address, "-source", "shop", " ")
    assert empty.returncode == 1
    assert _lines(empty.stderr) == [["error", "InvalidArgument", "INVALID_FIELD", "question: must not be empty"],
                                    ["field", "question", "must not be empty"]]



async def _run_example(binary: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(str(binary), *args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_example_reads_the_real_suites_error_details(workspace: GoWorkspace, tmp_path: Path) -> None:
    async with in_process_suite(tmp_path / "data") as (running, _channel):
        code, _, stderr = await _run_example(workspace.binary, "-addr", f"127.0.0.1:{running.port}",
                                             "-api-key", read_admin_key(tmp_path / "data"),
                                             "-source", "no-such-source", "-sql", "SELECT 1")
    if "Unimplemented" in stderr:
        pytest.skip("QueryService.ExecuteSql is not implemented by the server in this build yet")
    assert code == 1
    assert _lines(stderr)[0][:3] == ["error", "NotFound", "NOT_FOUND"]


async def test_example_against_the_real_suite(workspace: GoWorkspace, tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as db:
        db.executescript("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                         "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');")
    async with in_process_suite(tmp_path / "data") as (running, _channel):
        address = f"127.0.0.1:{running.port}"
        key = read_admin_key(tmp_path / "data")
        async with AsyncChatDBClient(address, tenant="go-real", timeout=60, api_key=key) as sdk:
            try:
                await sdk.create_data_source(f"sqlite:///{database}", data_source_id="shop")
            except ChatDBError as error:
                if error.code.name == "UNIMPLEMENTED":
                    pytest.skip("SchemaService.CreateDataSource is not implemented by the server in this build yet")
                raise
        code, stdout, stderr = await _run_example(
            workspace.binary, "-addr", address, "-api-key", key, "-tenant", "go-real", "-source", "shop",
            "-sql", "SELECT id, name FROM customers ORDER BY id")
    if code == 1 and "Unimplemented" in stderr:
        pytest.skip("QueryService.ExecuteSql is not implemented by the server in this build yet")
    assert code == 0, stderr
    rows = [line for line in _lines(stdout) if line[0] == "row"]
    assert rows == [["row", "int64(1)", 'string("Ada")'], ["row", "int64(2)", 'string("Grace")']]


async def test_example_over_tls_and_mtls_with_a_key(workspace: GoWorkspace, tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as db:
        db.executescript("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                         "INSERT INTO customers VALUES (1, 'Ada');")
    ca = Authority(tmp_path / "pki", "chatdb")
    server, client = ca.localhost(), ca.issue("go-client")
    tls = {"tls_cert_file": str(server.cert), "tls_key_file": str(server.key), "tls_client_ca_file": str(ca.cert)}
    async with in_process_suite(tmp_path / "data", **tls) as (running, _):
        key = read_admin_key(tmp_path / "data")
        address = f"localhost:{running.port}"
        credentials = tls_credentials(str(ca.cert), str(client.cert), str(client.key))
        async with AsyncChatDBClient(address, timeout=60, api_key=key, credentials=credentials) as sdk:
            await sdk.create_data_source(f"sqlite:///{database}", data_source_id="shop")
        query = ("-source", "shop", "-sql", "SELECT id, name FROM customers")
        code, stdout, stderr = await _run_example(workspace.binary, "-addr", address, "-api-key", key,
                                                  "-ca", str(ca.cert), "-cert", str(client.cert),
                                                  "-key", str(client.key), *query)
        refused, _, _ = await _run_example(workspace.binary, "-addr", address, "-api-key", key,
                                           "-ca", str(ca.cert), "-timeout", "10s", *query)  # no client certificate
    assert code == 0, stderr
    assert [line for line in _lines(stdout) if line[0] == "row"] == [["row", "int64(1)", 'string("Ada")']]
    assert refused == 1


# --- every helper against the real suite (clients/go/internal/livetest) ---------------------------

LIVE_TESTS = ("TestDataSourcesAreRegisteredListedUpdatedAndDeleted", "TestBadSourcesAreRefusedWithTheFieldAndReason",
              "TestTablesAreListedOverPagesShownRefreshedAndGraphed", "TestTrainingIsWatchedToTheEndAndListed",
              "TestExamplesAreCreatedListedAndDeleted", "TestQuestionsAreAnsweredStreamedAndRecorded",
              "TestSQLIsValidatedAndErrorsAreTyped", "TestResultsAreExportedToAWriter", "TestQuestionsAreAskedInABatch",
              "TestFollowUpsRefineAnAnswerAndAnswersReadAsSentences")
AGING_TEST = "TestAWatchResumesAcrossAgedConnections"


@pytest.fixture(scope="module")
def live_tests(workspace: GoWorkspace) -> Path:
    """The compiled Go tests that call every helper of the SDK against a server the environment names."""
    binary = workspace.gopath / "bin" / "livetest"
    built = workspace.go_run("test", "-c", "-o", str(binary), "./internal/livetest")
    assert built.returncode == 0, built.stderr
    return binary


async def _run_live_tests(binary: Path, address: str, key: str, shop: Path, names: tuple[str, ...],
                          **env: str) -> str:
    """Run the named Go tests against the server at ``address``; return their verbose output."""
    process = await asyncio.create_subprocess_exec(
        str(binary), "-test.v", "-test.count=1", "-test.run", f"^({'|'.join(names)})$",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "CHATDB_LIVE_ADDR": address, "CHATDB_LIVE_API_KEY": key, "CHATDB_LIVE_SHOP": str(shop),
             **env})
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=BUILD_TIMEOUT_S)
    output = stdout.decode()
    assert process.returncode == 0, output
    assert "--- SKIP" not in output, output
    assert [name for name in names if f"--- PASS: {name} " not in output] == [], output
    return output


async def test_every_helper_against_the_real_suite(live_tests: Path, tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    # Small export chunks, so that an export of the customers arrives in several.
    async with in_process_suite(tmp_path / "data", export_chunk_bytes=512) as (running, _channel):
        await _run_live_tests(live_tests, f"127.0.0.1:{running.port}", read_admin_key(tmp_path / "data"), shop,
                              LIVE_TESTS)


async def test_a_watch_resumes_across_aged_connections(live_tests: Path, tmp_path: Path) -> None:
    # No training worker: the job stays queued while the server closes each connection after about
    # a second (and a second of grace for the watch), until the Go test cancels it.
    shop = build_shop_database(tmp_path / "shop.db")
    aging = {"training_workers": 0, "max_connection_age_s": 1.0, "max_connection_age_grace_s": 1.0}
    async with in_process_suite(tmp_path / "data", **aging) as (running, _channel):
        await _run_live_tests(live_tests, f"127.0.0.1:{running.port}", read_admin_key(tmp_path / "data"), shop,
                              (AGING_TEST,), CHATDB_LIVE_AGING="1")
