"""Channel settings shared by the sync and async clients: load balancing and the
retry policy as one gRPC service config, keepalive, message size limits, the
generated stubs per service, and the per-call metadata (tenant, request id).

Load balancing is ``round_robin``: given a name with several addresses (``dns:///``
and a headless Kubernetes Service), the channel keeps a connection to each and
sends calls to them in turn. ChatDB's servers close connections after a while
(``max_connection_age_s``), and the channel then resolves the name again, so
replicas added since get calls too.

Retries are gRPC's own (the service config's ``retryPolicy``), not a loop in the
client: only idempotent methods are retried, only on UNAVAILABLE, with
exponential backoff and jitter, and only before the server has answered.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from chatdb.access.v1 import access_service_pb2_grpc
from chatdb.prediction.v1 import prediction_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb.webhook.v1 import webhook_service_pb2_grpc
from chatdb_client.operations import ACCESS, PREDICTION, QUERY, SCHEMA, TRAINING, WEBHOOK

TENANT_HEADER = "x-chatdb-tenant"
REQUEST_ID_HEADER = "x-request-id"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Methods that read only, or whose repetition has no further effect: safe to retry.
# Ask and ExecuteSql are not here: each call records a query in the history.
IDEMPOTENT_METHODS: dict[str, tuple[str, ...]] = {
    SCHEMA: ("GetDataSource", "ListDataSources", "TestConnection", "ListTables", "GetTable", "GetSchemaGraph"),
    TRAINING: ("GetTrainingJob", "ListTrainingJobs", "WatchTrainingJob", "ListExamples"),
    QUERY: ("ValidateSql", "SearchTables", "ListQueries", "GetQuery", "GetSystemStatus"),
    PREDICTION: ("GenerateSql", "ListModels"),
    ACCESS: ("ListApiKeys", "ListColumnPolicies", "ListRowPolicies", "ListAuditEvents"),
    WEBHOOK: ("ListWebhooks", "GetWebhook", "ListWebhookDeliveries"),
}

STUB_CLASSES: dict[str, Any] = {
    SCHEMA: schema_service_pb2_grpc.SchemaServiceStub,
    TRAINING: training_service_pb2_grpc.TrainingServiceStub,
    QUERY: query_service_pb2_grpc.QueryServiceStub,
    PREDICTION: prediction_service_pb2_grpc.PredictionServiceStub,
    ACCESS: access_service_pb2_grpc.AccessServiceStub,
    WEBHOOK: webhook_service_pb2_grpc.WebhookServiceStub,
}


@dataclass(frozen=True)
class RetryPolicy:
    """How UNAVAILABLE is retried on idempotent calls. gRPC caps ``max_attempts`` at 5;
    each wait is random up to ``initial_backoff * multiplier**n``, at most ``max_backoff``."""

    max_attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0

    def service_config(self) -> dict[str, Any]:
        """The gRPC service config that applies this policy to the idempotent methods."""
        names = [{"service": service, "method": method}
                 for service, methods in IDEMPOTENT_METHODS.items() for method in methods]
        policy = {
            "maxAttempts": self.max_attempts,
            "initialBackoff": _seconds(self.initial_backoff),
            "maxBackoff": _seconds(self.max_backoff),
            "backoffMultiplier": self.backoff_multiplier,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
        return {"methodConfig": [{"name": names, "retryPolicy": policy}]}


NO_RETRIES = RetryPolicy(max_attempts=1)

LOAD_BALANCING_CONFIG: list[dict[str, Any]] = [{"round_robin": {}}]
"""Every address the target resolves to takes calls in turn (gRPC's default uses the first one only)."""

KEEPALIVE_OPTIONS: list[tuple[str, Any]] = [
    # A ping every 30 s, idle or not (ChatDB's servers accept one every 10 s): a connection to a pod that
    # vanished is noticed within seconds, not at the next call's deadline, and idle connections survive
    # proxies and NAT tables that drop quiet ones.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


def service_config(retry: RetryPolicy) -> dict[str, Any]:
    """The channel's one gRPC service config: round-robin load balancing, and ``retry`` when it retries."""
    config: dict[str, Any] = {"loadBalancingConfig": LOAD_BALANCING_CONFIG}
    if retry.max_attempts > 1:
        config.update(retry.service_config())
    return config


def channel_options(retry: RetryPolicy) -> list[tuple[str, Any]]:
    """Options for a channel to ChatDB."""
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.enable_retries", 1 if retry.max_attempts > 1 else 0),
        ("grpc.service_config", json.dumps(service_config(retry))),
        *KEEPALIVE_OPTIONS,
    ]


def call_metadata(tenant: str, request_id: str, credential: str = "") -> tuple[tuple[str, str], ...]:
    """The metadata every call carries: the request id, the credential (an API key or a token) as
    ``authorization: Bearer``, and the tenant header when one is named. The server takes the tenant
    from the credential; naming another is only allowed to operators."""
    metadata: list[tuple[str, str]] = []
    if tenant:
        metadata.append((TENANT_HEADER, tenant))
    metadata.append((REQUEST_ID_HEADER, request_id))
    if credential:
        metadata.append(("authorization", f"Bearer {credential}"))
    return tuple(metadata)


def tls_credentials(ca_file: str = "", cert_file: str = "", key_file: str = "") -> grpc.ChannelCredentials:
    """TLS channel credentials from PEM files: the CA that signed the server's certificate (empty: the
    system's roots), and for mTLS the client's certificate and key."""
    def read(path: str) -> bytes | None:
        return Path(path).read_bytes() if path else None

    if bool(cert_file) != bool(key_file):
        raise ValueError("give both the client certificate and its key, or neither")
    return grpc.ssl_channel_credentials(root_certificates=read(ca_file), private_key=read(key_file),
                                        certificate_chain=read(cert_file))


def new_request_id() -> str:
    """A fresh request id; the server logs it with every line about the call."""
    return uuid.uuid4().hex


def _seconds(value: float) -> str:
    if value <= 0:
        raise ValueError("backoff times must be positive")
    return f"{value:.9f}".rstrip("0").rstrip(".") + "s"
