"""Client-side load balancing over replicas behind one DNS name, as in Kubernetes with a headless
Service: real ``chatdb serve`` processes on the same port of two loopback addresses, sharing one
PostgreSQL metadata store, a DNS server of the test's own that answers for the name, and the
Python SDK's channel (``dns://`` target, ``round_robin``) calling them. Each replica counts the calls
it handled on its own Prometheus endpoint. The calls are ExecuteSql and ValidateSql, which reach no
vector store, so each replica keeps its own.

Every wait polls an observable condition under a deadline.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_client import AsyncChatDBClient, ChatDBClient, TrainingJobFailed
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.tls import service_channel
from chatdb_server.settings import Settings
from tests.support.databases import postgres_database
from tests.support.server import ServerProcess, keyed_channel

NAME = "chatdb-query.test"
"""The name both replicas stand behind, as a headless Service's name resolves to every ready pod."""
REPLICA_HOSTS = ("127.0.0.1", "127.0.0.2")
QUERY = "chatdb.query.v1.QueryService"
TRAINING = "chatdb.training.v1.TrainingService"
COUNT_SQL = "SELECT COUNT(*) FROM customers"
DEADLINE_S = 120.0
"""Safety limit of every wait. A client resolves the name again at most every 30 s (gRPC's default)."""


class Zone(BaseResolver):  # type: ignore[misc]
    """Answers A queries for NAME with ``addresses``, which a test changes as replicas come and go;
    every other name does not exist."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.queries = 0
        self._lock = threading.Lock()

    def publish(self, *addresses: str) -> None:
        """From now on NAME resolves to ``addresses``."""
        with self._lock:
            self.addresses = list(addresses)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        question = request.q
        if str(question.qname).rstrip(".") != NAME:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        with self._lock:
            self.queries += 1
            addresses = list(self.addresses) if question.qtype == QTYPE.A else []
        for address in addresses:
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=0))
        return reply


@dataclass
class Dns:
    """The test's DNS server and the zone it serves."""

    zone: Zone
    port: int

    def target(self, port: int) -> str:
        """The gRPC target of NAME on ``port``, resolved by this server (gRPC's c-ares resolver asks the DNS
        server named in the authority)."""
        return f"dns://127.0.0.1:{self.port}/{NAME}:{port}"


@pytest.fixture
def dns() -> Iterator[Dns]:
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger("-request,-reply"))
    server.start_thread()
    try:
        yield Dns(zone, int(server.server.server_address[1]))
    finally:
        server.stop()


def port_free_on(*hosts: str) -> int:
    """A TCP port nothing listens on at any of ``hosts`` (bound, then released)."""
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as first:
            first.bind((hosts[0], 0))
            port = int(first.getsockname()[1])
            try:
                for host in hosts[1:]:
                    with socket.socket() as other:
                        other.bind((host, port))
                return port
            except OSError:
                if time.monotonic() > deadline:
                    raise


@dataclass
class Replica:
    """One ``chatdb serve`` process and its metrics endpoint."""

    process: ServerProcess
    metrics_port: int

    def handled(self, service: str, method: str) -> float:
        """Calls of ``method`` this replica finished, whatever their status."""
        url = f"http://{self.process.host}:{self.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == "chatdb_rpc_handled_total"
                   and (sample.labels.get("service"), sample.labels.get("method")) == (service, method))


@dataclass
class Cluster:
    """Replicas of one deployment: the same port, a loopback address each, one metadata store and keys."""

    root: Path
    env: dict[str, str]
    port: int
    metrics_port: int
    replicas: list[Replica]

    @property
    def admin_key(self) -> str:
        return self.env["CHATDB_BOOTSTRAP_ADMIN_KEY"]

    def start(self, host: str, services: tuple[str, ...] = ("schema", "query"),
              env: dict[str, str] | None = None) -> Replica:
        """Start a replica on ``host`` with ``env`` over the shared settings; wait until it serves."""
        process = ServerProcess(self.root / host, list(services), port=self.port, host=host,
                                env={**self.env, "CHATDB_METRICS_PORT": str(self.metrics_port), **(env or {})})
        replica = Replica(process, self.metrics_port)
        self.replicas.append(replica)
        process.start()
        return replica


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Replicas the test starts, sharing a PostgreSQL metadata store (created and dropped here), the secret
    key and the bootstrap admin key; every one is killed at the end."""
    with postgres_database() as dsn:
        url = make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        env = {"CHATDB_METADATA_URL": url, "CHATDB_SECRET_KEY": Fernet.generate_key().decode(),
               "CHATDB_BOOTSTRAP_ADMIN_KEY": new_secret(), "CHATDB_RESULT_CACHE_TTL_S": "0"}
        built = Cluster(tmp_path, env, port_free_on(*REPLICA_HOSTS), port_free_on(*REPLICA_HOSTS), [])
        try:
            yield built
        finally:
            for replica in built.replicas:
                replica.process.kill()


async def until(what: str, condition: Callable[[], Awaitable[bool]]) -> None:
    """Await ``condition()`` until it holds, or fail after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {DEADLINE_S:.0f} s")


def sdk(target: str, key: str) -> AsyncChatDBClient:
    """The Python SDK's asyncio client, calling as the admin; use it with ``async with``."""
    return AsyncChatDBClient(target, api_key=key, timeout=30)


@pytest.mark.slow
async def test_one_sdk_client_spreads_its_asks_over_both_replicas(tmp_path: Path, cluster: Cluster,
                                                                  dns: Dns) -> None:
    first, second = (cluster.start(host) for host in REPLICA_HOSTS)
    dns.zone.publish(*REPLICA_HOSTS)
    async with sdk(dns.target(cluster.port), cluster.admin_key) as client:
        await client.create_data_source(f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}",
                                        data_source_id="shop")

        async def both_connected() -> bool:  # round_robin takes only replicas it is connected to
            assert (await client.validate_sql("shop", COUNT_SQL)).valid
            return all(r.handled(QUERY, "ValidateSql") > 0 for r in (first, second))

        await until("a connection to each replica", both_connected)
        before = [r.handled(QUERY, "ExecuteSql") for r in (first, second)]
        results = [await client.execute_sql("shop", COUNT_SQL) for _ in range(20)]
        after = [r.handled(QUERY, "ExecuteSql") for r in (first, second)]

    assert results[0].rows[0][0] > 0
    assert [result.rows for result in results] == [results[0].rows] * 20  # one database behind both
    assert [a - b for a, b in zip(after, before, strict=True)] == [10, 10]  # in turn, not all to the first
    assert dns.zone.queries > 0  # the name came from the test's DNS server, not from a file or the system


@pytest.mark.slow
async def test_a_client_finds_a_replica_started_later_once_its_connection_ages(tmp_path: Path, cluster: Cluster,
                                                                                 dns: Dns) -> None:
    aging = {"CHATDB_MAX_CONNECTION_AGE_S": "2", "CHATDB_MAX_CONNECTION_AGE_GRACE_S": "1"}
    first = cluster.start(REPLICA_HOSTS[0], env=aging)
    dns.zone.publish(REPLICA_HOSTS[0])
    async with sdk(dns.target(cluster.port), cluster.admin_key) as client:
        await client.create_data_source(f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}",
                                        data_source_id="shop")
        await client.execute_sql("shop", COUNT_SQL)
        assert first.handled(QUERY, "ExecuteSql") == 1

        later = cluster.start(REPLICA_HOSTS[1], env=aging)  # a scale-up: a new pod, then its DNS record
        dns.zone.publish(*REPLICA_HOSTS)
        asked = 1

        async def later_replica_serves() -> bool:
            nonlocal asked
            await client.execute_sql("shop", COUNT_SQL)  # a failed call fails the test: none may be lost
            asked += 1
            return later.handled(QUERY, "ExecuteSql") > 0

        await until("a call on the replica started later", later_replica_serves)

    assert first.handled(QUERY, "ExecuteSql") + later.handled(QUERY, "ExecuteSql") == asked


@pytest.mark.slow
@pytest.mark.parametrize("client_kind", ["asyncio", "blocking"])
async def test_the_sdk_follows_a_training_job_across_aged_connections(cluster: Cluster, dns: Dns,
                                                                      client_kind: str) -> None:
    # No training worker: the job stays queued until the test cancels it, so its watch outlives several
    # connections (each lives about 1 s, and 1 s of grace more for the watch). Each watch delivers the
    # job's state once when it starts; a third delivery means the watch was started twice more.
    replica = cluster.start(REPLICA_HOSTS[0], ("schema", "training"), {
        "CHATDB_TRAINING_WORKERS": "0", "CHATDB_MAX_CONNECTION_AGE_S": "1", "CHATDB_MAX_CONNECTION_AGE_GRACE_S": "1"})
    dns.zone.publish(REPLICA_HOSTS[0])
    target = dns.target(cluster.port)
    loop = asyncio.get_running_loop()
    states: list[int] = []
    resumed_twice = asyncio.Event()

    def progress(job: training_pb2.TrainingJob) -> None:  # called on the blocking client's thread too
        states.append(job.state)
        if len(states) >= 3:
            loop.call_soon_threadsafe(resumed_twice.set)

    shop = build_shop_database(cluster.root / "shop.db")
    async with sdk(target, cluster.admin_key) as client:
        await client.create_data_source(f"sqlite:///{shop}", data_source_id="shop")
        job = await client.train("shop", wait=False)
    blocking = ChatDBClient(target, api_key=cluster.admin_key, timeout=30)
    asynchronous = sdk(target, cluster.admin_key)
    waiting = asyncio.ensure_future(
        asynchronous.wait_for_training_job(job.name, on_progress=progress, timeout=DEADLINE_S)
        if client_kind == "asyncio" else
        asyncio.to_thread(blocking.wait_for_training_job, job.name, progress, DEADLINE_S))
    resumed = asyncio.ensure_future(resumed_twice.wait())
    try:
        await asyncio.wait({waiting, resumed}, timeout=DEADLINE_S, return_when=asyncio.FIRST_COMPLETED)
        assert not waiting.done(), waiting.exception() or waiting.result()
        assert resumed.done(), f"the watch was not started twice more within {DEADLINE_S:.0f} s"
        assert replica.handled(TRAINING, "WatchTrainingJob") >= 2  # the server saw watches end
        channel = keyed_channel(replica.process.address, cluster.admin_key)
        try:
            await training_service_pb2_grpc.TrainingServiceStub(channel).CancelTrainingJob(
                training_service_pb2.CancelTrainingJobRequest(name=job.name), timeout=30)
        finally:
            await channel.close()
        with pytest.raises(TrainingJobFailed) as ended:
            await asyncio.wait_for(waiting, DEADLINE_S)
    finally:
        blocking.close()  # ends a blocking wait still running
        await asynchronous.close()
        for task in (waiting, resumed):
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
    assert ended.value.job.state == training_pb2.TRAINING_JOB_STATE_CANCELLED
    assert set(states[:3]) == {training_pb2.TRAINING_JOB_STATE_QUEUED}


class CountedHealth(HealthServicer):  # type: ignore[misc]
    """Health checks that count the checks answered."""

    def __init__(self) -> None:
        super().__init__()
        self.checks = 0

    async def Check(self, request: health_pb2.HealthCheckRequest, context: Any) -> health_pb2.HealthCheckResponse:
        self.checks += 1
        return await super().Check(request, context)


@asynccontextmanager
async def health_servers(port: int) -> AsyncIterator[list[CountedHealth]]:
    """A gRPC server answering health checks on ``port`` of each REPLICA_HOSTS address."""
    servers: list[grpc.aio.Server] = []
    healths: list[CountedHealth] = []
    try:
        for host in REPLICA_HOSTS:
            health = CountedHealth()
            await health.set("", health_pb2.HealthCheckResponse.SERVING)
            server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(health, server)
            server.add_insecure_port(f"{host}:{port}")
            await server.start()
            servers.append(server)
            healths.append(health)
        yield healths
    finally:
        for server in servers:
            await server.stop(None)


async def checked(channel: grpc.aio.Channel, healths: list[CountedHealth], calls: int) -> list[int]:
    """Make ``calls`` health checks over ``channel``; how many each server answered."""
    before = [h.checks for h in healths]
    for _ in range(calls):
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return [h.checks - b for h, b in zip(healths, before, strict=True)]


async def test_service_channels_balance_over_every_address_of_a_dns_name(dns: Dns) -> None:
    port = port_free_on(*REPLICA_HOSTS)
    dns.zone.publish(*REPLICA_HOSTS)
    async with health_servers(port) as healths:
        channel = service_channel(Settings.from_env({}), dns.target(port))
        try:
            async def connected_to_both() -> bool:
                await checked(channel, healths, 1)
                return all(h.checks > 0 for h in healths)

            await until("a connection to each address", connected_to_both)
            assert await checked(channel, healths, 20) == [10, 10]
        finally:
            await channel.close()


async def test_service_channels_still_take_a_bare_host_and_port() -> None:
    port = port_free_on(*REPLICA_HOSTS)
    async with health_servers(port) as healths:
        channel = service_channel(Settings.from_env({}), f"{REPLICA_HOSTS[1]}:{port}")
        try:
            assert await checked(channel, healths, 20) == [0, 20]
        finally:
            await channel.close()
