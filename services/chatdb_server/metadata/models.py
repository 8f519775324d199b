"""ORM models of the metadata store. Every row carries its tenant.

Schema changes go through a migration in ``migrations/versions``; never edit a
released revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime: SQLite hands back naive datetimes that were written as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of all metadata tables."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class DataSourceRow(Base):
    """A registered target database."""

    __tablename__ = "data_sources"
    __table_args__ = (UniqueConstraint("tenant", "source_id", name="uq_data_sources_tenant_id"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_id: Mapped[str] = mapped_column(String(63))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    dialect: Mapped[str] = mapped_column(String(20))
    dsn_sealed: Mapped[str] = mapped_column(Text)
    dsn_redacted: Mapped[str] = mapped_column(Text)
    schemas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_adapter: Mapped[str] = mapped_column(String(255), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    table_count: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    discover_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Bumped in the transaction of every change an answer depends on (a training commit, an example, a
    refresh, a policy, an update): every replica compares it with what it keeps (``metadata.generations``)."""
    refresh_interval_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Seconds between scheduled schema refreshes; 0 means none."""
    auto_retrain: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """Whether a scheduled refresh queues a training job for the tables it finds STALE."""
    next_refresh_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    """When the next scheduled refresh is due; a scheduler claims it by moving it on (conditional UPDATE)."""
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    """Ask's confidence threshold: a less confident answer is refused (0 refuses none)."""


class SchemaTableRow(Base):
    """One discovered table or view, with its training fingerprint."""

    __tablename__ = "schema_tables"
    __table_args__ = (UniqueConstraint("source_pk", "table_name", name="uq_schema_tables_source_table"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(255))
    schema_name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(10))
    structure: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Columns, primary key, foreign keys, indexes, comment, row estimate and samples."""
    description: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    discover_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    trained_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    train_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TrainingJobRow(Base):
    """A durable background job."""

    __tablename__ = "training_jobs"
    __table_args__ = (Index("ix_training_jobs_state_create", "state", "create_time"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(63), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    job_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20), default="UNSPECIFIED")
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    tables: Mapped[list[Any]] = mapped_column(JSON, default=list)
    trained_table_count: Mapped[int] = mapped_column(Integer, default=0)
    total_table_count: Mapped[int] = mapped_column(Integer, default=0)
    error_reason: Mapped[str] = mapped_column(String(63), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    worker_id: Mapped[str] = mapped_column(String(128), default="")
    heartbeat_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped on every change; watchers compare it."""
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExampleRow(Base):
    """A golden question/SQL pair."""

    __tablename__ = "examples"
    __table_args__ = (UniqueConstraint("source_pk", "example_id", name="uq_examples_source_id"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    example_id: Mapped[str] = mapped_column(String(63))
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    sql: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20), default="MANUAL")
    tables: Mapped[list[Any]] = mapped_column(JSON, default=list)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QueryRow(Base):
    """One recorded ask or SQL execution."""

    __tablename__ = "queries"
    __table_args__ = (
        UniqueConstraint("source_pk", "query_id", name="uq_queries_source_id"),
        Index("ix_queries_source_create", "source_pk", "create_time"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    query_id: Mapped[str] = mapped_column(String(63))
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text, default="")
    sql: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))
    error_reason: Mapped[str] = mapped_column(String(63), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    served_by: Mapped[str] = mapped_column(String(20), default="")
    model: Mapped[str] = mapped_column(String(255), default="")
    degradation_level: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    previous_query_id: Mapped[str] = mapped_column(String(63), default="", server_default="")
    """The query of the same source this ask followed up (a conversation's previous turn); empty for none."""


class ResultCacheRow(Base):
    """A cached result set, served fresh within its TTL and stale when the database is down."""

    __tablename__ = "result_cache"
    __table_args__ = (UniqueConstraint("source_pk", "sql_hash", name="uq_result_cache_source_sql"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    sql_hash: Mapped[str] = mapped_column(String(64))
    sql: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """Serialised columns and rows (protobuf), so values stay typed."""
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    cached_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdapterRow(Base):
    """A fine-tuned LoRA adapter version in the model store."""

    __tablename__ = "adapters"
    __table_args__ = (UniqueConstraint("tenant", "adapter", "version", name="uq_adapters_name_version"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    adapter: Mapped[str] = mapped_column(String(127))
    version: Mapped[int] = mapped_column(Integer)
    base_model: Mapped[str] = mapped_column(Text)
    data_source: Mapped[str] = mapped_column(String(127), default="")
    path: Mapped[str] = mapped_column(Text)
    dataset_size: Mapped[int] = mapped_column(Integer, default=0)
    loss_curve: Mapped[list[Any]] = mapped_column(JSON, default=list)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    held_out_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    held_out_examples: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKeyRow(Base):
    """An API key: only a hash of its secret is stored; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data_sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Source ids the key may use; empty means every source of its tenant."""
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expire_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEventRow(Base):
    """One audited call. Append-only; it names resources but does not reference them, so it outlives them."""

    __tablename__ = "audit_events"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    principal: Mapped[str] = mapped_column(String(255), index=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    method: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255), default="")
    data_source: Mapped[str] = mapped_column(String(127), default="", index=True)
    question: Mapped[str] = mapped_column(Text, default="")
    sql: Mapped[str] = mapped_column(Text, default="")
    status_code: Mapped[str] = mapped_column(String(32))
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    peer: Mapped[str] = mapped_column(String(255), default="")


class ColumnPolicyRow(Base):
    """A column policy: the column is excluded or masked for everyone but the exempt roles."""

    __tablename__ = "column_policies"
    __table_args__ = (UniqueConstraint("source_pk", "table_name", "column_name", name="uq_column_policies_column"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(255))
    column_name: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    exempt_roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RowPolicyRow(Base):
    """A row policy: a predicate added to every reference to its table."""

    __tablename__ = "row_policies"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_id: Mapped[str] = mapped_column(String(32), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    source_pk: Mapped[int] = mapped_column(ForeignKey("data_sources.pk", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(255))
    predicate: Mapped[str] = mapped_column(Text)
    exempt_roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookRow(Base):
    """A webhook subscription: events of its tenant are POSTed to its URL, signed with its sealed secret."""

    __tablename__ = "webhooks"
    __table_args__ = (UniqueConstraint("tenant", "webhook_id", name="uq_webhooks_tenant_id"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    webhook_id: Mapped[str] = mapped_column(String(63))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Event type names it receives; empty means every one."""
    secret_sealed: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookEventRow(Base):
    """An event in the outbox, written in the transaction of the change it reports; its body is fixed then."""

    __tablename__ = "webhook_events"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    event_type: Mapped[str] = mapped_column(String(63))
    resource: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    """The JSON payload, byte for byte as every attempt sends (and signs) it."""
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDeliveryRow(Base):
    """One event to one webhook: pending until a 2xx answer or the last allowed attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_state_due", "state", "next_attempt_time"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    webhook_pk: Mapped[int] = mapped_column(ForeignKey("webhooks.pk", ondelete="CASCADE"), index=True)
    event_pk: Mapped[int] = mapped_column(ForeignKey("webhook_events.pk", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """When the next attempt is due; a dispatcher's claim moves it past the attempt's lease."""
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    last_status_code: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookAttemptRow(Base):
    """One HTTP request of a delivery: its status code or the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_pk", "number", name="uq_webhook_attempts_number"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.pk", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempt_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
