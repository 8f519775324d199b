"""The world the policy bypass tests attack: one small schema in PostgreSQL, MariaDB and SQLite, each
registered and trained, a QueryService over them with the policy store, and the callers.

Policies on every source: ``customers.ssn`` EXCLUDE (admins exempt), ``customers.email`` MASK (editors and
admins exempt), and ``region = :region`` on ``customers`` and ``orders`` (admins exempt). The
``regions`` table has no policy. Rows outside the EU carry values that appear nowhere else, so a reply
showing any of them has leaked a filtered row.
"""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from chatdb_server.access.masking import Masker
from chatdb_server.access.permissions import Role
from chatdb_server.access.policies import ColumnAction, PolicyStore
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.prediction.client import LocalPrediction
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.ports import Generator
from chatdb_server.query.service import QueryService
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.schema.records import DataSourceSpec
from chatdb_server.settings import Settings
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.structure import SourceRef
from tests.support.databases import mysql_database, postgres_database, sync_engine_for
from tests.unit.query.test_pipeline_support import train
from tests.unit.training.job_fixtures import TrainingStack, open_stack

TENANT = "acme"
MASK_KEY = b"policy bypass tests"
SCHEMA = (
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40), region VARCHAR(8), ssn VARCHAR(16), "
    "email VARCHAR(64))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount INTEGER, region VARCHAR(8))",
    "CREATE TABLE regions (code VARCHAR(8), label VARCHAR(40))",
)
CUSTOMERS = [
    (1, "Ada", "EU", "111-11-1111", "ada@shop.eu"), (2, "Bruno", "EU", "222-22-2222", "bruno@shop.eu"),
    (7001, "Carlotta", "US", "333-33-3333", "carlotta@shop.us"), (7002, "Dmitrij", "APAC", "444-44-4444",
                                                                  "dmitrij@shop.ap"),
    (7003, "Evangeline", "US", "555-55-5555", "evangeline@shop.us"),
]
ORDERS = [(10, 1, 120, "EU"), (11, 2, 250, "EU"), (12, 1, 40, "EU"), (8001, 7001, 73311, "US"),
          (8002, 7002, 90127, "APAC"), (8003, 2, 61403, "US")]
REGIONS = [("EU", "Europe"), ("US", "United States"), ("APAC", "Asia Pacific")]

SSNS = tuple(c[3] for c in CUSTOMERS)
EMAILS = tuple(c[4] for c in CUSTOMERS)
HIDDEN_ROWS = tuple(str(v) for c in CUSTOMERS if c[2] != "EU" for v in (c[0], c[1])) + tuple(
    str(v) for o in ORDERS if o[3] != "EU" for v in (o[0], o[2]))
"""Values only rows outside the EU hold: ids, names, order amounts."""


def principal(*roles: Role, **attributes: str) -> Principal:
    """A caller of the tenant with ``roles`` and ``attributes``."""
    return Principal(f"apiKeys/{'-'.join(sorted(roles))}", TENANT, frozenset(roles), CredentialKind.API_KEY,
                     attributes=attributes)


EU_ASKER = principal(Role.ASKER, region="EU")
EU_EDITOR = principal(Role.EDITOR, region="EU")
ADMIN = principal(Role.ADMIN)
NO_REGION = principal(Role.ASKER, team="data")


def fill(dsn: str) -> None:
    """Create the schema and its rows in the database at ``dsn``."""
    engine = sync_engine_for(dsn)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.execute(text(statement))
        for table, rows in (("customers", CUSTOMERS), ("orders", ORDERS), ("regions", REGIONS)):
            marks = ", ".join(f":v{i}" for i in range(len(rows[0])))
            conn.execute(text(f"INSERT INTO {table} VALUES ({marks})"),
                         [{f"v{i}": v for i, v in enumerate(row)} for row in rows])
    engine.dispose()


def reference_database(path: Path) -> Path:
    """What an EU asker may see, as a plain SQLite database: EU rows only, no ``ssn`` column."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, region TEXT, email TEXT)")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount INTEGER, region TEXT)")
        conn.execute("CREATE TABLE regions (code TEXT, label TEXT)")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                         [(i, n, r, e) for i, n, r, _, e in CUSTOMERS if r == "EU"])
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [o for o in ORDERS if o[3] == "EU"])
        conn.executemany("INSERT INTO regions VALUES (?, ?)", REGIONS)
    return path


@dataclass
class World:
    """The trained sources by dialect name, the service, and what the tests compare against."""

    directory: Path
    stack: TrainingStack
    policies: PolicyStore
    executor: QueryExecutor
    sources: dict[str, SourceRef]
    reference: Path
    masker: Masker = field(default_factory=lambda: Masker(MASK_KEY))
    retriever: Retriever = field(init=False)
    service: QueryService = field(init=False)

    def __post_init__(self) -> None:
        self.retriever = Retriever(Embedder.shared(), self.stack.vectors)
        template = TemplateGenerator()
        self.service = self.service_with(LocalPrediction(PredictionEngine(template)))

    def service_with(self, generator: Generator) -> QueryService:
        """A QueryService over the world, with ``generator`` as PredictionService and the policy store."""
        breakers = Breakers(fail_max=5, reset_s=3600)
        return QueryService(Settings(data_dir=self.directory, result_cache_ttl_s=300), self.stack.store,
                            self.stack.service.pages, self.stack.catalog, self.retriever, self.executor, generator,
                            TemplateGenerator(), _NoExamples(), breakers, HealthMonitor(breakers, probe_ttl_s=0),
                            contexts_ttl_s=0, policies=self.policies, masker=self.masker)

    def reference_rows(self, sql: str) -> list[tuple[Any, ...]]:
        """``sql`` on the EU reference database."""
        with sqlite3.connect(self.reference) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]

    async def close(self) -> None:
        await self.executor.close()
        await self.stack.close()


async def protect(policies: PolicyStore, stack: TrainingStack, source: SourceRef) -> None:
    """The policies of the module docstring, on ``source``."""
    tables = [t.structure for t in await stack.catalog.stored_tables(source)]
    await policies.create_column_policy(source, tables, "customers", "ssn", ColumnAction.EXCLUDE, ["admin"])
    await policies.create_column_policy(source, tables, "customers", "email", ColumnAction.MASK, ["admin", "editor"])
    for table in ("customers", "orders"):
        await policies.create_row_policy(source, tables, table, "region = :region", ["admin"])


async def open_world(directory: Path, exits: ExitStack) -> World:
    """Build the three databases, register, train and protect them, and the service over them."""
    stack = await open_stack(directory / "chatdb")
    targets = directory / "targets"
    targets.mkdir()
    dsns = {"postgresql": exits.enter_context(postgres_database()), "mysql": exits.enter_context(mysql_database()),
            "sqlite": f"sqlite:///{targets / 'shop.db'}"}
    policies = PolicyStore(stack.store)
    sources: dict[str, SourceRef] = {}
    for kind, dsn in dsns.items():
        fill(dsn)
        source_id = f"shop-{kind}"
        await stack.catalog.create(TENANT, DataSourceSpec(dsn=dsn), source_id=source_id)
        sources[kind] = await stack.catalog.resolve(TENANT, f"dataSources/{source_id}")
        await train(stack, sources[kind])
        await protect(policies, stack, sources[kind])
    return World(directory, stack, policies, QueryExecutor(), sources, reference_database(directory / "reference.db"))


class _NoExamples:
    """TrainingService's example sink; these tests give no feedback."""

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        raise AssertionError("no feedback is given in these tests")

    async def probe(self) -> None:
        return None
