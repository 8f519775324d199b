"""The audit log appends, filters and pages events, outlives resources and copies events to JSON lines."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatdb_server.access.audit import AuditEvent, AuditFilter, AuditLog, JsonLinesSink
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import utcnow
from chatdb_server.pagination import PageTokens

ASK = "/chatdb.query.v1.QueryService/Ask"


@pytest.fixture
def audit(metadata_store: MetadataStore) -> AuditLog:
    return AuditLog(metadata_store, PageTokens(Fernet.generate_key()))


def event(**changes: object) -> AuditEvent:
    values: dict[str, object] = {"principal": "apiKeys/k1", "tenant": "acme", "method": ASK,
                                 "data_source": "dataSources/shop", "question": "how many?", "sql": "SELECT 1",
                                 "row_count": 1}
    values.update(changes)
    return AuditEvent(**values)  # type: ignore[arg-type]


async def test_events_come_back_newest_first_with_every_field(audit: AuditLog) -> None:
    first = event(time=utcnow() - timedelta(seconds=5))
    second = event(status_code="PERMISSION_DENIED", row_count=0, peer="ipv4:127.0.0.1:5000", request_id="r2")
    await audit.append(first)
    await audit.append(second)
    listed, token = await audit.list(AuditFilter(tenant="acme"))
    assert [e.event_id for e in listed] == [second.event_id, first.event_id] and token == ""
    got = listed[0]
    assert (got.principal, got.method, got.data_source, got.status_code, got.peer, got.request_id) == (
        "apiKeys/k1", ASK, "shop", "PERMISSION_DENIED", "ipv4:127.0.0.1:5000", "r2")


@pytest.mark.parametrize(("where", "expected"), [
    pytest.param(AuditFilter(tenant="acme"), 2, id="tenant"),
    pytest.param(AuditFilter(tenant="globex"), 1, id="other_tenant"),
    pytest.param(AuditFilter(), 3, id="every_tenant"),
    pytest.param(AuditFilter(principal="apiKeys/k2"), 1, id="principal"),
    pytest.param(AuditFilter(data_source="dataSources/hr"), 1, id="data_source_by_name"),
    pytest.param(AuditFilter(data_source="shop"), 2, id="data_source_by_id"),
    pytest.param(AuditFilter(start_time=utcnow() - timedelta(minutes=30)), 2, id="since"),
    pytest.param(AuditFilter(end_time=utcnow() - timedelta(minutes=30)), 1, id="before"),
])
async def test_filters(audit: AuditLog, where: AuditFilter, expected: int) -> None:
    await audit.append(event(time=utcnow() - timedelta(hours=1)))
    await audit.append(event(principal="apiKeys/k2", data_source="dataSources/hr"))
    await audit.append(event(tenant="globex"))
    assert len((await audit.list(where))[0]) == expected


async def test_pages_are_opaque_and_complete(audit: AuditLog) -> None:
    for i in range(5):
        await audit.append(event(question=f"q{i}", time=utcnow() + timedelta(seconds=i)))
    first, token = await audit.list(AuditFilter(tenant="acme"), page_size=2)
    second, token2 = await audit.list(AuditFilter(tenant="acme"), page_size=2, page_token=token)
    third, last = await audit.list(AuditFilter(tenant="acme"), page_size=2, page_token=token2)
    assert [e.question for e in first + second + third] == ["q4", "q3", "q2", "q1", "q0"] and last == ""


async def test_events_are_copied_as_json_lines(metadata_store: MetadataStore, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(metadata_store, PageTokens(Fernet.generate_key()), JsonLinesSink(str(path)))
    await log.append(event())
    log.close()
    record = json.loads(path.read_text().splitlines()[0])
    assert (record["principal"], record["method"], record["sql"], record["audit"]) == ("apiKeys/k1", ASK,
                                                                                       "SELECT 1", True)
