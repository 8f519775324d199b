"""The data-source records SchemaCatalog takes and returns (never the password).

Input fields are validated here, once, with the request field paths a caller sees
("data_source.display_name"), so every entry point reports bad input the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chatdb_server.errors import InvalidArgument
from chatdb_server.schema.diff import TableChange
from chatdb_server.sql.dsn import Dialect

UPDATABLE_FIELDS = ("display_name", "dsn", "schemas", "default_adapter", "labels", "refresh_interval", "auto_retrain",
                    "min_confidence")
MAX_DISPLAY_NAME = 200
MAX_SCHEMAS = 50
MAX_NAME_CHARS = 63
MAX_ADAPTER_CHARS = 255
MAX_LABELS = 64
MAX_LABEL_VALUE = 255
MAX_REFRESH_INTERVAL_S = 366 * 24 * 3600


@dataclass(frozen=True)
class DataSourceSpec:
    """What a caller sets on a data source."""

    display_name: str = ""
    dsn: str = ""
    schemas: tuple[str, ...] = ()
    default_adapter: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    refresh_interval: float = 0.0
    """Seconds between scheduled refreshes; 0 means none."""
    auto_retrain: bool = False
    """Whether a scheduled refresh queues a training job for the tables it finds STALE."""
    min_confidence: float = 0.0
    """Ask's confidence threshold, 0 to 1: a less confident answer is refused (0 refuses none)."""

    def masked(self, fields: set[str]) -> DataSourceSpec:
        """This spec with every field outside ``fields`` back at its default (AIP-134: unmasked fields are ignored)."""
        blank = DataSourceSpec()
        return dataclasses.replace(self, **{name: getattr(blank, name) for name in UPDATABLE_FIELDS
                                            if name not in fields})

    def validate(self, prefix: str = "data_source", min_refresh_interval_s: float = 60.0) -> None:
        """InvalidArgument naming the first bad field (the DSN is checked by ``parse_dsn``)."""
        if self.refresh_interval and not min_refresh_interval_s <= self.refresh_interval <= MAX_REFRESH_INTERVAL_S:
            raise InvalidArgument(f"{prefix}.refresh_interval",
                                  f"must be 0 (never) or between {min_refresh_interval_s:g} s and "
                                  f"{MAX_REFRESH_INTERVAL_S} s")
        if not 0.0 <= self.min_confidence <= 1.0:  # NaN fails too
            raise InvalidArgument(f"{prefix}.min_confidence", "must be between 0 and 1")
        if len(self.display_name) > MAX_DISPLAY_NAME:
            raise InvalidArgument(f"{prefix}.display_name", f"must be at most {MAX_DISPLAY_NAME} characters")
        if len(self.schemas) > MAX_SCHEMAS:
            raise InvalidArgument(f"{prefix}.schemas", f"at most {MAX_SCHEMAS} schemas")
        for schema in self.schemas:
            if not schema.strip() or len(schema) > MAX_NAME_CHARS:
                raise InvalidArgument(f"{prefix}.schemas", f"each schema must be 1-{MAX_NAME_CHARS} characters")
        if len(self.default_adapter) > MAX_ADAPTER_CHARS:
            raise InvalidArgument(f"{prefix}.default_adapter", f"must be at most {MAX_ADAPTER_CHARS} characters")
        if len(self.labels) > MAX_LABELS:
            raise InvalidArgument(f"{prefix}.labels", f"at most {MAX_LABELS} labels")
        for key, value in self.labels.items():
            if not key or len(key) > MAX_NAME_CHARS or len(value) > MAX_LABEL_VALUE:
                raise InvalidArgument(f"{prefix}.labels", f"keys must be 1-{MAX_NAME_CHARS} characters and "
                                                          f"values at most {MAX_LABEL_VALUE}")


@dataclass(frozen=True)
class DataSourceInfo:
    """A stored data source as callers may see it: the DSN only redacted."""

    tenant: str
    source_id: str
    display_name: str
    dialect: Dialect
    redacted_dsn: str
    schemas: tuple[str, ...]
    default_adapter: str
    labels: dict[str, str]
    table_count: int
    create_time: datetime
    update_time: datetime
    discover_time: datetime | None
    refresh_interval_s: int = 0
    auto_retrain: bool = False
    next_refresh_time: datetime | None = None
    min_confidence: float = 0.0

    @property
    def name(self) -> str:
        """Resource name, ``dataSources/{id}``."""
        return f"dataSources/{self.source_id}"


@dataclass(frozen=True)
class RefreshReport:
    """What a new discovery found compared with the stored one."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[TableChange, ...]
    unchanged_count: int
    stale: tuple[str, ...]
    """Tables that were trained at their old structure and are now STALE."""
    discover_time: datetime
