"""Reflection works for real tools: `buf curl` lists and calls the services of a running server."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from chatdb_server.access.bootstrap import read_admin_key
from tests.support.server import in_process_suite

BUF = shutil.which("buf") or str(Path(sys.executable).with_name("buf"))


async def _buf_curl(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


def test_buf_is_installed() -> None:
    assert Path(BUF).exists(), "buf comes with the dev extras (buf-bin)"


async def test_buf_curl_lists_and_calls_methods_through_reflection(tmp_path: Path) -> None:
    async with in_process_suite(tmp_path) as (running, _):
        base = f"http://127.0.0.1:{running.port}"
        methods = (await _buf_curl("--list-methods", base)).split()
        for method in ("chatdb.schema.v1.SchemaService/CreateDataSource", "chatdb.query.v1.QueryService/Ask",
                       "chatdb.training.v1.TrainingService/WatchTrainingJob",
                       "chatdb.prediction.v1.PredictionService/GenerateSql"):
            assert method in methods
        key = read_admin_key(tmp_path)
        reply = json.loads(await _buf_curl("-H", f"Authorization: Bearer {key}", "-d", "{}",
                                           f"{base}/chatdb.prediction.v1.PredictionService/ListModels"))
        assert any(model["name"] == "models/template" for model in reply["models"])
