"""The password check against ``chatdb serve schema`` in a child process: its own stderr
log lines and its own data directory, exactly as an operator runs it."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest

from chatdb.schema.v1 import schema_service_pb2 as pb
from chatdb.schema.v1 import schema_service_pb2_grpc
from tests.support.server import ServerProcess


def test_password_is_in_no_log_line_reply_or_file_of_the_server(tmp_path: Path,
                                                                mysql_user: tuple[str, str]) -> None:
    dsn, password = mysql_user
    wrong = f"Wrong-{uuid.uuid4().hex}"
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, ["schema"], env={"CHATDB_LOG_LEVEL": "debug"}).start()
    channel = server.sync_channel()
    replies: list[bytes] = []
    try:
        stub = schema_service_pb2_grpc.SchemaServiceStub(channel)
        for reply in (
            stub.CreateDataSource(pb.CreateDataSourceRequest(data_source_id="maria", data_source={"dsn": dsn}),
                                  timeout=60),
            stub.GetDataSource(pb.GetDataSourceRequest(name="dataSources/maria"), timeout=30),
            stub.ListTables(pb.ListTablesRequest(parent="dataSources/maria", view=2), timeout=30),
            stub.TestConnection(pb.TestConnectionRequest(name="dataSources/maria"), timeout=30),
        ):
            replies.append(reply.SerializeToString())
        for call in (lambda: stub.TestConnection(pb.TestConnectionRequest(dsn=dsn.replace(password, wrong)),
                                                 timeout=30),
                     lambda: stub.CreateDataSource(pb.CreateDataSourceRequest(
                         data_source={"dsn": dsn.replace(password, wrong)}), timeout=30)):
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
            replies.append(err.value.details().encode())  # type: ignore[attr-defined]
    finally:
        channel.close()
        assert server.terminate() == 0
    logs = "".join(server.log_lines)
    assert '"rpc.error"' in logs and "SOURCE_UNREACHABLE" in logs  # the refusals were logged
    files = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    assert any(p.name == "metadata.db" for p in files)
    for secret in (password, wrong):
        assert secret not in logs
        assert not any(secret.encode() in reply for reply in replies)
        assert [p for p, content in files.items() if secret.encode() in content] == []
