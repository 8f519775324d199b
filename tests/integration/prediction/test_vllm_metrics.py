"""vLLM's own metrics on ChatDB's Prometheus endpoint: a PredictionService on the vllm backend (vllm-cpu,
the tiny local model) serves the engine's queue and token series beside ChatDB's, and a GenerateSql
moves its token counters. PredictionService's autoscaling reads ``vllm:num_requests_waiting`` there."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from chatdb.prediction.v1 import prediction_service_pb2_grpc
from chatdb_server.generation.interface import GenerationRequest, Sampling
from chatdb_server.prediction.client import generate_sql_request
from chatdb_server.sql.dsn import Dialect
from tests.integration.training.finetune.finetune_fixtures import SCHEMA
from tests.support.scrape import Samples, free_port, scrape
from tests.support.server import in_process_suite

pytest.importorskip("vllm")
pytestmark = [pytest.mark.vllm, pytest.mark.slow]
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def total(samples: Samples, name: str) -> float | None:
    """The sum of every sample called ``name`` (over the engine and model labels); None when there is none."""
    found = [v for (sample, _), v in samples.items() if sample == name]
    return sum(found) if found else None


async def test_the_engines_queue_and_token_metrics_are_served(tiny_model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    async with in_process_suite(tmp_path / "data", ["prediction"], metrics_port=port, prediction_backend="vllm",
                                model_path=str(tiny_model_dir), model_dtype="float32", max_model_len=1024,
                                max_loras=0) as (_, channel):
        before = scrape(port)
        request = GenerationRequest(question="How many singers are there?", dialect=Dialect.SQLITE, schema=SCHEMA,
                                    sampling=Sampling(max_tokens=16, seed=1))
        try:
            await prediction_service_pb2_grpc.PredictionServiceStub(channel).GenerateSql(generate_sql_request(request))
        except grpc.aio.AioRpcError as error:  # the tiny model writes noise: no SQL in it is a fair answer
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
        after = scrape(port)

    assert total(before, "vllm:num_requests_waiting") == 0
    assert total(after, "vllm:num_requests_waiting") == 0 and total(after, "vllm:num_requests_running") == 0
    prompt, generated = total(after, "vllm:prompt_tokens_total"), total(after, "vllm:generation_tokens_total")
    assert prompt is not None and prompt > (total(before, "vllm:prompt_tokens_total") or 0)
    assert generated is not None and generated > (total(before, "vllm:generation_tokens_total") or 0)
    assert any(name == "chatdb_rpc_handled_total" and ("method", "GenerateSql") in labels for name, labels in after)
