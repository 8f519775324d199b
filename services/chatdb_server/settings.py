"""Settings of every ChatDB process, read from ``CHATDB_*`` environment variables.

Each field's environment variable is its upper-case name with the ``CHATDB_``
prefix, e.g. ``port`` is ``CHATDB_PORT``. Command-line flags override them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

ENV_PREFIX = "CHATDB_"
EMBEDDED_METADATA_FILE = "metadata.db"
"""The metadata store's SQLite file in the data directory when no metadata URL is set."""


@dataclass(frozen=True)
class Settings:
    """Configuration of a ChatDB process. Defaults are the embedded, one-machine setup."""

    host: str = "127.0.0.1"
    """Interface the gRPC server binds to; ``0.0.0.0`` in containers."""
    port: int = 50051
    """gRPC port of this process (all services share it under ``chatdb serve``)."""
    workers: int = 1
    """Server processes ``chatdb serve`` runs on its port, one event loop each (``chatdb_server.server.workers``):
    the number of cores to use. Every worker hosts every service; the kernel spreads connections over them."""
    data_dir: Path = Path(".chatdb")
    """Directory for embedded data: metadata SQLite file, Milvus Lite file, secret key, models."""
    metadata_url: str = ""
    """SQLAlchemy URL of the metadata store; empty means SQLite in ``data_dir``.
    Production: ``postgresql+asyncpg://user:pw@host/chatdb``."""
    secret_key: str = ""
    """Fernet key that encrypts data-source passwords at rest, or several comma-separated
    (the first seals, every one opens, so ``chatdb secrets rotate`` loses nothing); empty
    means a key generated once into ``data_dir/secret.key``."""
    allowed_sqlite_dirs: str = ""
    """Comma-separated directories whose SQLite files may be registered as data sources (symlinks and
    ``..`` resolved first); empty allows only the samples ChatDB builds in ``data_dir/samples``. The
    data directory and the metadata store are never allowed."""
    allowed_hosts: str = ""
    """Comma-separated host names, addresses and CIDRs that PostgreSQL/MySQL data sources may connect to.
    Empty allows every address except loopback, link-local and cloud metadata ones; set, only those
    listed. The metadata store's own database is never allowed."""
    milvus_uri: str = ""
    """Milvus URI (``http://milvus:19530``); empty means Milvus Lite in ``data_dir``."""
    milvus_token: str = ""
    """Milvus token (``user:password``), when the server requires one."""
    milvus_timeout_s: float = 30.0
    """Longest one call to Milvus may take, retries included; past it the call fails (a training job fails,
    or is recovered once Milvus is back) instead of waiting on an unreachable Milvus for minutes."""
    embedding_model: str = ""
    """Sentence-embedding model: a local directory; empty means the packaged all-MiniLM-L6-v2."""
    embedding_document_precision: str = "auto"
    """How table documents are embedded: ``bf16`` (bfloat16 autocast, about 1.7 times as fast where
    the CPU has AMX, vectors at cosine ≥ 0.9999 to fp32's), ``fp32``, or ``auto`` (bf16 on AMX CPUs).
    Questions, and golden examples' questions, are always embedded in fp32."""
    schema_address: str = ""
    """Address of SchemaService for split deployments; empty means in-process."""
    training_address: str = ""
    """Address of TrainingService for split deployments, ``host:port`` or ``dns:///name:port`` (calls go to
    every address the name resolves to in turn); empty means in-process."""
    prediction_address: str = ""
    """Address of PredictionService for split deployments, ``host:port`` or ``dns:///name:port`` (calls go to
    every address the name resolves to in turn); empty means in-process."""
    prediction_backend: str = "auto"
    """``auto`` (vllm when a GPU and ``model_path`` are present, else template),
    ``template``, ``vllm`` or ``openai``."""
    model_path: str = ""
    """Local directory of the base text-to-SQL model for the vllm backend."""
    model_dtype: str = "auto"
    """vLLM dtype: ``auto``, ``bfloat16``, ``float16`` or ``float32``."""
    max_model_len: int = 4096
    """vLLM context length."""
    gpu_memory_utilization: float = 0.85
    """Fraction of GPU memory vLLM may take."""
    tensor_parallel_size: int = 1
    """GPUs per vLLM engine."""
    max_loras: int = 4
    """LoRA adapters vLLM keeps loaded at once."""
    max_lora_rank: int = 16
    """Largest LoRA rank vLLM accepts."""
    constrained_decoding: bool = True
    """Whether the vllm backend holds every generation to the SELECT grammar of the question's schema
    (tables, columns and sample values it was given); off, only requests that ask for it are."""
    openai_base_url: str = ""
    """Base URL of an OpenAI-compatible endpoint for the openai backend."""
    openai_api_key: str = ""
    """API key for that endpoint."""
    openai_model: str = ""
    """Model name at that endpoint."""
    model_store: str = ""
    """Where fine-tuned adapters are kept; empty means ``data_dir/models``."""
    max_rows: int = 10_000
    """Upper bound of a reply's row cap."""
    default_rows: int = 1_000
    """Row cap when a request names none."""
    max_query_timeout_s: float = 120.0
    """Upper bound of a query's execution timeout."""
    default_query_timeout_s: float = 30.0
    """Execution timeout when a request names none."""
    result_cache_ttl_s: float = 300.0
    """How long cached results are served fresh; stale ones serve level 3 for a day."""
    example_reuse_min_similarity: float = 0.75
    """How close (cosine of the question embeddings) a question must be to a golden example to be answered
    from it, its values re-linked, when every table of the example is among those retrieved; an exact
    repeat needs no threshold. Tuned on half of Spider dev's databases (``tests/bench/example_reuse.py``)."""
    max_cell_bytes: int = 1_048_576
    """Longest text, binary or JSON value a reply carries, in bytes; longer values are cut to it, with a
    warning naming the column."""
    max_reply_bytes: int = 33_554_432
    """Bytes of rows one reply (or one StreamAsk batch) carries, below gRPC's 64 MiB message limit; the rows
    past it are left out (``truncated``), with a warning naming the limit."""
    batch_ask_concurrency: int = 4
    """Questions of one BatchAsk answered at a time."""
    batch_ask_max_questions: int = 100
    """Questions one BatchAsk may carry; more are refused (INVALID_ARGUMENT, TOO_LARGE)."""
    export_max_rows: int = 10_000_000
    """Upper bound (and default) of the rows one ExportQueryResult streams."""
    export_query_timeout_s: float = 600.0
    """Upper bound (and default) of an export's execution timeout; the database cancels the query past it."""
    export_chunk_bytes: int = 1_048_576
    """Largest byte chunk of an export's stream."""
    max_sql_tokens: int = 10_000
    """Tokens a query may have to be checked at all; longer SQL is refused before parsing
    (INVALID_ARGUMENT, SQL_TOO_COMPLEX)."""
    max_sql_depth: int = 24
    """How deeply a query may nest brackets and CASE expressions; deeper SQL is refused before parsing
    (INVALID_ARGUMENT, SQL_TOO_COMPLEX)."""
    guard_workers: int = 2
    """Processes that check SQL over 1,000 characters off the event loop, shared by the services of a
    process; 0 checks it in the event loop, where a pathological query holds every other call."""
    guard_timeout_s: float = 5.0
    """Time budget of checking one query in a guard process; SQL that takes longer is refused
    (INVALID_ARGUMENT, SQL_TOO_COMPLEX)."""
    breaker_fail_max: int = 5
    """Consecutive failures that open a circuit breaker."""
    breaker_reset_s: float = 30.0
    """Seconds an open breaker waits before letting one trial call through."""
    rpc_deadline_s: float = 10.0
    """Deadline of calls between services."""
    training_workers: int = 1
    """Training jobs one process runs at a time."""
    job_poll_s: float = 1.0
    """How often an idle training worker looks for queued jobs."""
    job_heartbeat_s: float = 5.0
    """How often a running training job's heartbeat is written."""
    job_stale_after_s: float = 60.0
    """A running job whose heartbeat is older than this has lost its worker: another worker recovers it."""
    job_recover_every_s: float = 30.0
    """How often a training worker looks for jobs of workers that stopped heartbeating."""
    min_refresh_interval_s: float = 60.0
    """Shortest ``refresh_interval`` a data source may ask for; shorter is refused (INVALID_ARGUMENT)."""
    refresh_poll_s: float = 10.0
    """How often the process hosting SchemaService looks for data sources whose scheduled refresh is due."""
    webhook_allowed_hosts: str = ""
    """Comma-separated host names, addresses and CIDRs that webhook URLs may target although they are (or resolve
    to) loopback, link-local or cloud-metadata addresses (169.254.169.254, fd00:ec2::254,
    metadata.google.internal, ...), which are refused otherwise."""
    webhook_max_attempts: int = 8
    """Attempts one webhook delivery gets before it is marked FAILED."""
    webhook_backoff_s: float = 10.0
    """Delay before a delivery's second attempt; it doubles with each further attempt, with random jitter."""
    webhook_max_backoff_s: float = 3600.0
    """Longest delay between two attempts of a delivery."""
    webhook_timeout_s: float = 10.0
    """Time a webhook receiver gets to answer one POST."""
    webhook_poll_s: float = 1.0
    """How often an idle webhook dispatcher looks for due deliveries."""
    grace_s: float = 10.0
    """Seconds in-flight calls get to finish after SIGTERM."""
    max_connection_age_s: float = 300.0
    """Seconds a client connection may live before the server asks the client to reconnect (gRPC adds
    ±10 % jitter), so clients spread over replicas added since; 0 keeps connections for ever."""
    max_connection_age_grace_s: float = 150.0
    """Seconds calls on an aged connection get to finish before it is closed: longer than the longest ask
    (``max_query_timeout_s``) and its generation."""
    log_level: str = "info"
    """``debug``, ``info``, ``warning`` or ``error``."""
    log_format: str = "json"
    """``json`` for machines, ``console`` for people."""
    metrics_port: int = 0
    """Port of the Prometheus metrics endpoint of every service process (calls by method and status code,
    their latency, calls in flight, degradation level, breakers); 0 turns it off."""
    console_port: int = 8080
    """HTTP port of the browser console that ``chatdb serve`` runs beside the services (``chatdb serve console``
    runs it alone, against ``CHATDB_ADDRESS``); 0 turns it off."""
    console_secret: str = ""
    """Fernet key that seals the console's session cookies; empty means a key generated once into
    ``data_dir/console.key``. Changing it signs everyone out."""
    console_secure_cookies: bool = False
    """Mark the console's session cookie ``Secure``: set it when people reach the console over HTTPS (through
    an ingress or proxy that ends TLS)."""
    authentication: bool = True
    """Every RPC but health and reflection needs a credential; ``off`` is accepted only on loopback."""
    bootstrap_admin_key: str = ""
    """An admin key (``chatdb keys secret`` makes one) stored on first start, e.g. from a Kubernetes
    Secret; empty means a key generated into ``data_dir/admin.key`` when no key exists."""
    service_key: str = ""
    """API key a service sends when it calls another in a split deployment; stored on start as an operator
    key (``chatdb keys secret`` makes one; in Kubernetes it comes from the Secret)."""
    jwt_jwks: str = ""
    """JWKS for bearer tokens: a file path or an https URL; set this or ``jwt_secret`` to accept JWTs."""
    jwt_secret: str = ""
    """Shared HMAC secret for bearer tokens, instead of a JWKS."""
    jwt_issuer: str = ""
    """Required ``iss`` of bearer tokens."""
    jwt_audience: str = ""
    """Required ``aud`` of bearer tokens."""
    jwt_tenant_claim: str = "tenant"
    """Claim that names the tenant."""
    jwt_roles_claim: str = "roles"
    """Claim that lists the roles (a list or a space-separated string)."""
    jwt_attributes_claim: str = "attributes"
    """Claim holding an object of attributes for row policies."""
    tls_cert_file: str = ""
    """Server certificate (PEM); with ``tls_key_file`` it turns TLS on."""
    tls_key_file: str = ""
    """Server private key (PEM)."""
    tls_client_ca_file: str = ""
    """CA of client certificates; when set, every client must present one (mTLS)."""
    tls_client_principals: str = ""
    """JSON file mapping client-certificate names (CN or SAN) to a tenant and roles."""
    tls_ca_file: str = ""
    """CA that signed the other services' certificates, for calls between services over TLS."""
    audit_log: str = ""
    """Also write audit events as JSON lines: ``stdout`` or a file path; empty keeps them in the store only."""
    asks_per_minute_per_key: int = 0
    """Asks (Ask, StreamAsk, ExecuteSql) one credential may make a minute; 0 means no limit."""
    asks_per_minute_per_tenant: int = 0
    """Asks one tenant may make a minute, all its credentials together; 0 means no limit."""
    concurrent_asks_per_tenant: int = 0
    """Asks of one tenant that may run at once; 0 means no limit."""
    extra: dict[str, str] = field(default_factory=dict)
    """Unrecognised ``CHATDB_*`` variables, kept so typos can be reported."""

    @property
    def resolved_metadata_url(self) -> str:
        """The metadata URL, defaulting to SQLite in the data dir."""
        if self.metadata_url:
            return self.metadata_url
        return f"sqlite+aiosqlite:///{(self.data_dir / EMBEDDED_METADATA_FILE).resolve()}"

    @property
    def resolved_milvus_uri(self) -> str:
        """The Milvus URI, defaulting to a Milvus Lite file in the data dir."""
        return self.milvus_uri or str((self.data_dir / "milvus.db").resolve())

    @property
    def resolved_model_store(self) -> Path:
        """The adapter store directory."""
        return Path(self.model_store) if self.model_store else self.data_dir / "models"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``CHATDB_*`` variables, then apply non-None overrides."""
        env = dict(os.environ if environ is None else environ)
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        known = set()
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            key = ENV_PREFIX + f.name.upper()
            known.add(key)
            if key in env and env[key] != "":
                values[f.name] = _coerce(hints[f.name], env[key], key)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(hints[name], value, name) if isinstance(value, str) else value
        extra = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX) and k not in known}
        return cls(**values, extra=extra)


def _coerce(kind: Any, raw: str, key: str) -> Any:
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw)
        if kind is bool:
            return _flag(raw)
        return raw
    except ValueError as exc:
        raise ValueError(f"{key}: cannot read {raw!r} as {getattr(kind, '__name__', kind)}") from exc


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "on", "yes"):
        return True
    if lowered in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")
