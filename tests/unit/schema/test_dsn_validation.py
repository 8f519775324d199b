"""Malformed DSNs are INVALID_ARGUMENT naming the field, before any connection is tried."""

from __future__ import annotations

import grpc
import pytest

from tests.unit.schema.conftest import SchemaUnit

SECRET = "pa55-w0rd-never-shown"


@pytest.mark.parametrize(("dsn", "reason", "says"), [
    pytest.param("   ", "INVALID_FIELD", "is required", id="blank"),
    pytest.param("not a url", "INVALID_FIELD", "not a database URL", id="not_a_url"),
    pytest.param(f"oracle://scott:{SECRET}@db:1521/orcl", "UNSUPPORTED_DIALECT", "not supported",
                 id="unsupported_dialect"),
    pytest.param(f"postgresql://app:{SECRET}@/shop", "INVALID_FIELD", "has no host", id="postgres_without_host"),
    pytest.param(f"mysql://app:{SECRET}@db:3306", "INVALID_FIELD", "has no database name", id="mysql_without_db"),
    pytest.param("sqlite://", "INVALID_FIELD", "needs a file path", id="sqlite_without_path"),
    pytest.param("sqlite:///:memory:", "INVALID_FIELD", "needs a file path", id="sqlite_in_memory"),
    pytest.param(f"postgresql://app:{SECRET}@db:99999/shop", "INVALID_FIELD", "port", id="port_out_of_range"),
])
def test_malformed_dsn(unit: SchemaUnit, dsn: str, reason: str, says: str) -> None:
    for method, fields, field in (
        ("CreateDataSource", {"data_source": {"dsn": dsn}}, "data_source.dsn"),
        ("TestConnection", {"dsn": dsn}, "dsn"),
    ):
        outcome = unit.call(method, **fields)
        assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, (method, outcome.details)
        assert outcome.fields == [field]
        assert outcome.reason == reason
        assert says in outcome.details
        assert SECRET not in outcome.details


def test_malformed_dsn_on_update_names_the_field(unit: SchemaUnit) -> None:
    unit.ok("CreateDataSource", data_source_id="shop", data_source={"dsn": f"sqlite:///{unit.shop}"})
    outcome = unit.call("UpdateDataSource", data_source={"name": "dataSources/shop", "dsn": "nope://"},
                        update_mask={"paths": ["dsn"]})
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT
    assert outcome.fields == ["data_source.dsn"]
