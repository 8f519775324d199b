"""What identity and policies add to one ask.

Three parts, each beside a floor measured in the same run:

* authentication and authorisation of one call (an API key as steady traffic sees it, from the
  verified-key cache; a key read from the metadata store; an HS256 and an RS256 JWT), then the
  permission and tenant checks — floor: a call that only builds the credential;
* column and row policy rewriting of the SQL an ask runs (the sample shop's questions as the
  template generator writes them, under a row policy and an excluded and a masked column) —
  floor: the guard's own check of the same SQL, which every query pays anyway;
* ExecuteSql over gRPC against the real runtime with authentication on (key, policies, audit
  event) — floor: the same server with authentication off.

    .venv/bin/python -m tests.bench.access_bench [--rounds 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb_server import log
from chatdb_server.access.authenticate import Authenticator, Credentials
from chatdb_server.access.certificates import CertificatePrincipals
from chatdb_server.access.enforce import enforce
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Permission
from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.access.tokens import TokenSettings, TokenVerifier
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from chatdb_server.server.runtime import RunningServer
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard
from tests.support.server import in_process_suite, keyed_metadata

SECRET = "bench-shared-secret-of-at-least-32-bytes"
ISSUER, AUDIENCE = "https://issuer.bench", "chatdb"
METHOD = "/chatdb.query.v1.QueryService/Ask"

ASK_SQL = (  # what the template generator writes for the sample shop's questions
    "SELECT COUNT(*) AS count FROM customers",
    "SELECT name, email, city FROM customers WHERE city = 'Berlin' LIMIT 100",
    "SELECT c.name, COUNT(o.id) AS orders FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
    "GROUP BY c.name ORDER BY orders DESC LIMIT 10",
    "SELECT city, COUNT(*) AS count FROM customers GROUP BY city ORDER BY count DESC LIMIT 100",
    "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE status = 'shipped') LIMIT 100",
    "SELECT status, SUM(total_amount) AS total FROM orders GROUP BY status LIMIT 100",
)


def p50_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def timed(rounds: int, work: Callable[[], object]) -> list[float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return timings


async def timed_async(rounds: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return timings


def row(name: str, timings: list[float], floor: list[float]) -> None:
    value, base = p50_ms(timings), p50_ms(floor)
    print(f"{name:<44}{value:>10.4f}{base:>10.4f}{value - base:>10.4f}")


async def authentication(rounds: int, directory: Path) -> None:
    store = MetadataStore(f"sqlite+aiosqlite:///{directory / 'keys.db'}")
    await store.migrate()
    try:
        cached, uncached = ApiKeyStore(store), ApiKeyStore(store, cache_ttl_s=0.0)
        secret = (await cached.create("acme", ["asker"])).secret
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks = directory / "jwks.json"
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig"}]}))
        hmac = TokenVerifier(TokenSettings(secret=SECRET, issuer=ISSUER, audience=AUDIENCE))
        rsa_verifier = TokenVerifier(TokenSettings(jwks=str(jwks), issuer=ISSUER, audience=AUDIENCE))
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bench", "tenant": "acme", "roles": ["asker"],
                  "exp": int(time.time()) + 3600}
        hs256 = jwt.encode(claims, SECRET, algorithm="HS256")
        rs256 = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
        none = CertificatePrincipals({})

        def authenticator(keys: ApiKeyStore, tokens: TokenVerifier) -> Authenticator:
            return Authenticator(keys, tokens, none)

        async def admit(auth: Authenticator, bearer: str) -> None:
            principal = await auth.authenticate(Credentials(bearer=bearer))
            principal.require(Permission.ASK, METHOD)
            principal.with_tenant(principal.acting_tenant(""))

        async def floor() -> None:
            Credentials(bearer=secret)

        base = await timed_async(rounds, floor)
        print(f"\nauthentication and authorisation of one call, {rounds} calls each; ms")
        print(f"{'credential':<44}{'p50':>10}{'floor':>10}{'adds':>10}")
        for name, auth, bearer, count in (
                ("API key (verified-key cache)", authenticator(cached, hmac), secret, rounds),
                ("API key (read from the metadata store)", authenticator(uncached, hmac), secret, rounds // 10),
                ("JWT HS256", authenticator(cached, hmac), hs256, rounds),
                ("JWT RS256 (JWKS file)", authenticator(cached, rsa_verifier), rs256, rounds)):
            await admit(auth, bearer)  # warm: caches, key parsing
            row(name, await timed_async(count, functools.partial(admit, auth, bearer)), base)
    finally:
        await store.close()


def policies(rounds: int, directory: Path) -> None:
    import sqlite3

    shop = build_shop_database(directory / "shop.db")
    with sqlite3.connect(shop) as db:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        columns = {t.lower(): [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')] for t in tables}
    known = {t: {c.lower() for c in cs} for t, cs in columns.items()}
    bound = EffectivePolicies(excluded=frozenset({("customers", "email")}), masked=frozenset({("customers", "name")}),
                              row_predicates={"customers": ("city = :city",), "orders": ("status <> 'cancelled'",)},
                              attributes={"city": "Berlin"})
    guard = SqlGuard()
    verdicts = [guard.check(sql, Dialect.SQLITE, known, 100) for sql in ASK_SQL]
    shown = [v.executable_sql for v in verdicts]
    assert all(v.valid for v in verdicts), [v.violations for v in verdicts if not v.valid]
    refused = sum(enforce(sql, Dialect.SQLITE, columns, bound).refused for sql in shown)
    floor = timed(rounds, lambda: [guard.check(sql, Dialect.SQLITE, known, 100) for sql in ASK_SQL])
    empty = timed(rounds, lambda: [enforce(sql, Dialect.SQLITE, columns, EffectivePolicies()) for sql in shown])
    rewrite = timed(rounds, lambda: [enforce(sql, Dialect.SQLITE, columns, bound) for sql in shown])
    per = len(ASK_SQL)
    guard_p50 = p50_ms([t / per for t in floor])
    print(f"\npolicy rewriting of {per} asks' SQL (sample shop), {rounds} rounds; ms per query "
          f"({refused} refused: it names the excluded column)")
    print(f"{'policies':<44}{'p50':>10}{'guard':>10}{'x guard':>10}")
    for name, timings in (("none (the common case)", empty), ("row policy + excluded + masked column", rewrite)):
        value = p50_ms([t / per for t in timings])
        print(f"{name:<44}{value:>10.4f}{guard_p50:>10.4f}{value / guard_p50:>10.2f}")

Call = Callable[[], Awaitable[object]]


async def _serve_shop(running: RunningServer, admin: grpc.aio.Channel, bare: grpc.aio.Channel, shop: Path,
                      key: bool) -> Call:
    """Register the shop on ``running``; one ExecuteSql call on it (with an asker key when ``key``)."""
    await schema_service_pb2_grpc.SchemaServiceStub(admin).CreateDataSource(
        schema_service_pb2.CreateDataSourceRequest(data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}))
    metadata: tuple[tuple[str, str], ...] = ()
    if key:
        metadata = keyed_metadata((await shared_keys(running.components).create("default", ["asker"])).secret)
    query = query_service_pb2_grpc.QueryServiceStub(bare)
    request = query_service_pb2.ExecuteSqlRequest(parent="dataSources/shop",
                                                  sql="SELECT name, city FROM customers WHERE city = 'Berlin'")

    async def ask() -> object:
        return await query.ExecuteSql(request, metadata=metadata)

    return ask


async def end_to_end(rounds: int, directory: Path) -> None:
    shop = build_shop_database(directory / "shop2.db")
    async with in_process_suite(directory / "off", ["schema", "query"], authentication=False,
                                result_cache_ttl_s=0) as (off, off_channel), \
            in_process_suite(directory / "on", ["schema", "query"], result_cache_ttl_s=0) as (on, on_channel):
        bare = {label: grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") for label, server in
                (("off", off), ("on", on))}
        calls = {"off": await _serve_shop(off, off_channel, bare["off"], shop, key=False),
                 "on": await _serve_shop(on, on_channel, bare["on"], shop, key=True)}
        timings: dict[str, list[float]] = {"off": [], "on": []}
        for index in range(rounds + 20):  # alternate, so drift in the machine touches both alike
            for label in ("on", "off") if index % 2 else ("off", "on"):
                started = time.perf_counter()
                await calls[label]()
                if index >= 20:
                    timings[label].append(time.perf_counter() - started)
        for channel in bare.values():
            await channel.close()
    print(f"\nExecuteSql over gRPC, two in-process servers called in turn, {rounds} calls each; ms")
    print(f"{'server':<44}{'p50':>10}{'floor':>10}{'adds':>10}")
    row("authentication on (key, checks, audit event)", timings["on"], timings["off"])


async def main(rounds: int) -> None:
    log.configure("warning", "json")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        await authentication(rounds, directory)
        policies(max(rounds // 4, 50), directory)
        await end_to_end(max(rounds // 10, 50), directory)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rounds))
