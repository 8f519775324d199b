"""The vLLM engine's own Prometheus metrics on ChatDB's ``/metrics`` endpoint.

vLLM keeps its scheduler and token statistics (``vllm:num_requests_waiting``,
``vllm:num_requests_running``, ``vllm:prompt_tokens_total``, ``vllm:generation_tokens_total``,
the KV-cache usage and latency histograms) in a ``PrometheusStatLogger`` that registers them with
prometheus_client's default registry, the one the metrics endpoint serves. The engine is started
with that logger alone: stats on, but without vLLM's periodic throughput log lines.

``vllm:num_requests_waiting`` is the signal PredictionService scales on (k8s/README.md): requests
queue inside the engine once the GPU's batch is full, whatever the CPU does.
"""

from __future__ import annotations

from typing import Any


def engine_stat_loggers() -> list[Any]:
    """The stat-logger factories to start a vLLM ``AsyncLLM`` with (vLLM must be importable)."""
    from vllm.v1.metrics.loggers import PrometheusStatLogger

    return [PrometheusStatLogger]
