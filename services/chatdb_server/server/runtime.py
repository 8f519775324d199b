"""Build, run and stop a gRPC server hosting one or all ChatDB services.

Every server registers gRPC health checking (per service name and overall) and
server reflection, and drains in-flight calls on SIGTERM. Every other call passes the
access interceptor (authentication, authorisation, quotas, audit); with authentication on,
the first start creates the bootstrap admin key. The server speaks TLS (and mTLS) when
the settings name its certificate. Every call is traced (``chatdb_server.server.tracing_grpc``).
"""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from chatdb_server import tracing
from chatdb_server.access.bootstrap import bootstrap_admin_key, import_service_key
from chatdb_server.log import get_logger
from chatdb_server.resilience.metrics import MetricsServer
from chatdb_server.server.access import shared_audit, shared_authenticator, shared_keys, shared_quotas
from chatdb_server.server.components import Components
from chatdb_server.server.console import start_beside
from chatdb_server.server.interceptors import AccessInterceptor
from chatdb_server.server.registry import SERVICES, ServiceSpec
from chatdb_server.server.tls import server_credentials
from chatdb_server.server.tracing_grpc import server_interceptor, start_tracing
from chatdb_server.settings import Settings

log = get_logger(__name__)

SERVER_OPTIONS = [
    # Results carry up to max_rows typed rows; allow replies well beyond gRPC's 4 MiB default.
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # Keep idle client connections alive through load balancers, and tolerate client pings.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # A second server on a taken port must fail, not silently share it.
    ("grpc.so_reuseport", 0),
]


def server_options(settings: Settings, *, share_port: bool = False) -> list[tuple[str, Any]]:
    """SERVER_OPTIONS and the connection age. An aged connection gets a GOAWAY: its client resolves the
    service's name again and spreads its calls over the replicas there now, so replicas an autoscaler
    adds get work. gRPC jitters the age by ±10 %, so the clients of replicas started together do not all
    reconnect at once; calls in flight get the grace to finish. ``share_port``: the workers of
    ``chatdb serve --workers`` bind one port together (SO_REUSEPORT) and the kernel spreads connections."""
    age, grace = settings.max_connection_age_s, settings.max_connection_age_grace_s
    if grace < 0:
        raise ValueError(f"max_connection_age_grace_s must not be negative, not {grace}")
    options = [option for option in SERVER_OPTIONS if option[0] != "grpc.so_reuseport"]
    options.append(("grpc.so_reuseport", 1 if share_port else 0))
    if age <= 0:
        return options
    return [*options, ("grpc.max_connection_age_ms", round(age * 1000)),
            ("grpc.max_connection_age_grace_ms", round(grace * 1000))]


@dataclass
class RunningServer:
    """A started server, its bound port and what it hosts."""

    server: grpc.aio.Server
    port: int
    components: Components
    health: HealthServicer
    services: list[ServiceSpec] = field(default_factory=list)
    metrics: MetricsServer | None = None
    """The Prometheus endpoint, when ``metrics_port`` is set."""

    async def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, drain in-flight calls for ``grace`` seconds, release everything."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.components.settings.grace_s if grace is None else grace)
        if self.metrics is not None:
            self.metrics.close()
        tracing.flush()
        for spec in self.services:
            await spec.stop(self.components)
        await self.components.close()
        log.info("server.stopped", port=self.port)


def select(names: Sequence[str]) -> list[ServiceSpec]:
    """The specs of the named services and their companions; every service when ``names`` is empty."""
    if not names:
        return list(SERVICES.values())
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    chosen = [SERVICES[n] for n in names]
    return list({spec.name: spec for named in chosen for spec in (named, *named.companions)}.values())


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """ValueError when authentication is off on an address other machines reach; a warning when off."""
    if settings.authentication:
        return
    if not is_loopback(settings.host):
        raise ValueError(f"authentication may be turned off only on loopback, not on {settings.host}: "
                         "every caller would be an admin of every tenant")
    log.warning("access.authentication_off", host=settings.host,
                detail="every caller is an anonymous admin; acceptable on a developer's machine only")


async def _secure(components: Components) -> AccessInterceptor:
    """The access interceptor; with authentication on, the bootstrap key is made sure of first."""
    settings = components.settings
    if settings.authentication:
        keys = shared_keys(components)
        await bootstrap_admin_key(keys, settings.data_dir, settings.bootstrap_admin_key)
        if settings.service_key:
            await import_service_key(keys, settings.service_key)
    return AccessInterceptor(shared_authenticator(components), shared_audit(components), shared_quotas(components))


async def start_server(settings: Settings, names: Sequence[str] = (), *, worker: int | None = None) -> RunningServer:
    """Build and start a server for the named services on settings.host:settings.port (0 picks a port).
    ``worker``: this process is that worker of ``chatdb serve --workers`` (:mod:`workers`), sharing the port."""
    specs = select(names)
    check_exposure(settings)
    start_tracing([spec.name for spec in specs] if names else [])
    options = server_options(settings, share_port=worker is not None)
    credentials = server_credentials(settings)
    components = Components(settings)
    try:
        await components.start()
        interceptor = await _secure(components)
    except BaseException:
        await components.close()
        raise
    server = grpc.aio.server(options=options, interceptors=[server_interceptor(), interceptor])
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    full_names = [reflection.SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    for spec in specs:
        await spec.register(server, components)
        full_names.append(spec.full_name)
    reflection.enable_server_reflection(full_names, server)
    address = f"{settings.host}:{settings.port}"
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    await server.start()
    for spec in specs:
        await spec.start(components)
        await health.set(spec.full_name, health_pb2.HealthCheckResponse.SERVING)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    metrics = MetricsServer(settings.host, settings.metrics_port) if settings.metrics_port > 0 else None
    # A worker is announced as such; the supervisor announces the server once every worker serves.
    log.info("server.started" if worker is None else "worker.started", host=settings.host, port=port,
             services=[s.name for s in specs], data_dir=str(settings.data_dir), tls=credentials is not None,
             mutual_tls=bool(settings.tls_client_ca_file), authentication=settings.authentication,
             **({} if worker is None else {"worker": worker, "pid": os.getpid()}))
    return RunningServer(server, port, components, health, specs, metrics)


async def serve(settings: Settings, names: Sequence[str] = (), *, worker: int | None = None,
                on_ready: Callable[[], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then drain and stop. Serving every service, the browser console comes
    along on ``console_port``. ``worker`` as for :func:`start_server`; ``on_ready`` is called once serving."""
    running = await start_server(settings, names, worker=worker)
    try:
        console = None if names else await start_beside(settings, running.port)
    except BaseException:
        await running.stop(grace=0)
        raise
    if on_ready is not None:
        on_ready()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("server.stopping", grace_s=settings.grace_s)
    if console is not None:
        await console.stop()
    await running.stop()
    await _settle_leftover_tasks(settings.grace_s)


LEFTOVER_GRACE_S = 5.0
"""Least time tasks still running after the server stopped get to finish once cancelled."""


async def _settle_leftover_tasks(grace_s: float) -> None:
    """Cancel what still runs once the server has stopped (tasks of calls abandoned mid-way) and give it a bounded
    time to finish. Tasks that do not finish are named in the log and left behind, and the process exits
    anyway: ``asyncio.run`` would otherwise wait for them for ever after cancelling them (seen after the
    process had been paused under load), and a server must stop on SIGTERM."""
    current = asyncio.current_task()
    leftover = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftover:
        task.cancel()
    if not leftover:
        return
    _, pending = await asyncio.wait(leftover, timeout=max(grace_s, LEFTOVER_GRACE_S))
    if pending:
        log.error("server.tasks_left_running", count=len(pending), tasks=[repr(task)[:300] for task in pending][:20])
        atexit._run_exitfuncs()  # what would run at a normal exit (an embedded Milvus Lite server is stopped)
        for handler in (sys.stdout, sys.stderr):
            handler.flush()
        os._exit(0)  # the server has stopped serving; what is stuck dies with the process
