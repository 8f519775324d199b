"""The adapter registry: fine-tuned LoRA adapter versions, in the metadata store and on disk.

Every adapter version is a directory in the model store,
``{model_store}/adapters/{tenant}/{adapter}/v{version}/`` (peft's adapter files plus
``metadata.json``), and an AdapterRow that makes it visible to its tenant. Versions
are never overwritten: a new fine-tune claims the next free directory.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chatdb_server.errors import AlreadyExists, InvalidArgument, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import AdapterRow

ADAPTER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_RESOURCE = re.compile(r"^adapters/([^/]+)(?:/versions/([^/]+))?$")
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class AdapterRecord:
    """One registered adapter version."""

    tenant: str
    adapter: str
    version: int
    base_model: str
    path: str
    data_source: str = ""
    dataset_size: int = 0
    loss_curve: tuple[float, ...] = ()
    create_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    held_out_accuracy: float | None = None
    """Share of the golden examples held out of its training that it answered right; None when none were."""
    held_out_examples: int = 0

    @property
    def resource_name(self) -> str:
        """``adapters/{adapter}/versions/{version}``."""
        return f"adapters/{self.adapter}/versions/{self.version}"

    @property
    def engine_key(self) -> str:
        """A name unique across tenants, used for the adapter inside a serving engine."""
        return f"{self.tenant}/{self.adapter}/v{self.version}"

    def metadata(self) -> dict[str, Any]:
        """What ``metadata.json`` beside the adapter files holds."""
        data = asdict(self)
        data["loss_curve"] = list(self.loss_curve)
        data["create_time"] = self.create_time.isoformat()
        return data


def validate_adapter_name(name: str, field_name: str = "adapter") -> str:
    """``name`` if it is a valid adapter name, else InvalidArgument."""
    if not ADAPTER_NAME.match(name):
        raise InvalidArgument(field_name, "adapter names are 1-63 lower-case letters, digits, '-' or '_', "
                                          "starting with a letter or digit")
    return name


def parse_adapter_resource(name: str, field_name: str = "name") -> tuple[str, int | None]:
    """(adapter, version or None for the newest) from ``adapters/{a}`` or ``adapters/{a}/versions/{v}``."""
    match = _RESOURCE.match(name)
    if not match:
        raise InvalidArgument(field_name, "expected 'adapters/{adapter}' or 'adapters/{adapter}/versions/{version}'")
    adapter, version = match.group(1), match.group(2)
    validate_adapter_name(adapter, field_name)
    if version is None:
        return adapter, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidArgument(field_name, "an adapter version is a positive integer")
    return adapter, int(version)


def adapter_root(model_store: Path, tenant: str, adapter: str) -> Path:
    """The directory holding every version of one adapter."""
    return model_store / "adapters" / tenant / adapter


def claim_version_dir(model_store: Path, tenant: str, adapter: str, at_least: int = 1) -> tuple[int, Path]:
    """Create and return the next free ``v{n}`` directory (n ≥ ``at_least``), never reusing one.

    ``mkdir`` without ``exist_ok`` is the claim, so two concurrent runs get different versions."""
    root = adapter_root(model_store, tenant, adapter)
    root.mkdir(parents=True, exist_ok=True)
    existing = [int(p.name[1:]) for p in root.iterdir() if p.name.startswith("v") and p.name[1:].isdigit()]
    version = max([at_least - 1, *existing]) + 1
    while True:
        path = root / f"v{version}"
        try:
            path.mkdir()
            return version, path
        except FileExistsError:
            version += 1


def write_metadata(record: AdapterRecord) -> None:
    """Write ``metadata.json`` into the adapter's directory."""
    (Path(record.path) / METADATA_FILE).write_text(json.dumps(record.metadata(), indent=2))


class AdapterRegistry:
    """Registered adapter versions of every tenant."""

    def __init__(self, store: MetadataStore, model_store: Path) -> None:
        self.store = store
        self.model_store = model_store

    async def register(self, record: AdapterRecord) -> AdapterRecord:
        """Record a stored adapter version; AlreadyExists if that version is registered."""
        row = AdapterRow(tenant=record.tenant, adapter=record.adapter, version=record.version,
                         base_model=record.base_model, data_source=record.data_source, path=record.path,
                         dataset_size=record.dataset_size, loss_curve=list(record.loss_curve),
                         create_time=record.create_time, held_out_accuracy=record.held_out_accuracy,
                         held_out_examples=record.held_out_examples)
        try:
            async with self.store.session() as session:
                session.add(row)
        except IntegrityError as exc:
            raise AlreadyExists(record.resource_name) from exc
        return record

    async def newest_version(self, tenant: str, adapter: str) -> int:
        """The newest registered version, 0 when there is none."""
        versions = await self.list(tenant, adapter)
        return max((r.version for r in versions), default=0)

    async def list(self, tenant: str, adapter: str | None = None) -> list[AdapterRecord]:
        """The tenant's adapter versions (of one adapter when named), by name then version."""
        query = select(AdapterRow).where(AdapterRow.tenant == tenant)
        if adapter is not None:
            query = query.where(AdapterRow.adapter == adapter)
        async with self.store.session() as session:
            rows = (await session.execute(query.order_by(AdapterRow.adapter, AdapterRow.version))).scalars().all()
        return [_record(row) for row in rows]

    async def resolve(self, tenant: str, name: str, field_name: str = "name") -> AdapterRecord:
        """The version ``name`` refers to (the newest for ``adapters/{a}``); NotFound (UNKNOWN_MODEL) if none."""
        adapter, version = parse_adapter_resource(name, field_name)
        versions = await self.list(tenant, adapter)
        if version is not None:
            versions = [r for r in versions if r.version == version]
        if not versions:
            raise NotFound(name, "adapter", reason="UNKNOWN_MODEL")
        return versions[-1]


def _record(row: AdapterRow) -> AdapterRecord:
    created = row.create_time if row.create_time.tzinfo else row.create_time.replace(tzinfo=UTC)
    return AdapterRecord(tenant=row.tenant, adapter=row.adapter, version=row.version, base_model=row.base_model,
                         path=row.path, data_source=row.data_source, dataset_size=row.dataset_size,
                         loss_curve=tuple(float(x) for x in row.loss_curve or ()), create_time=created,
                         held_out_accuracy=row.held_out_accuracy, held_out_examples=row.held_out_examples or 0)
