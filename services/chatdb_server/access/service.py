"""AccessService's domain in one object: API keys, column and row policies, the audit log.

The servicer only translates; every rule is here. Keys belong to a tenant: a caller lists and
revokes the keys of the tenant it acts for (an operator acting for a tenant through the tenant
header acts for that tenant), and names another tenant for a new key only if it is an operator.
A new key carries no role and no data source its creator lacks. Policies belong to a data
source, found through :class:`SourceLookup` (SchemaService's catalog, which also hides the sources
a caller's credential is not limited to). Creating an EXCLUDE policy purges what the server
already derived from the column through :class:`ExclusionHook`. The audit log lists the caller's
tenant, or every tenant for an operator. Each change names its resource in the call's audit event.

The caller is :func:`chatdb_server.access.context.current_principal`; without one (in-process,
no interceptor) the caller is trusted and only the tenant given applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatdb_server.access.audit import AuditEvent, AuditFilter, AuditLog
from chatdb_server.access.context import current_principal, note
from chatdb_server.access.keys import ApiKey, ApiKeyStore, IssuedKey
from chatdb_server.access.permissions import ROLE_PERMISSIONS, Role, roles_argument
from chatdb_server.access.policies import ColumnAction, ColumnPolicy, PolicyStore, RowPolicy
from chatdb_server.access.principal import Principal
from chatdb_server.access.resources import COLUMN_POLICIES, ROW_POLICIES, api_key_id, policy_name_parts
from chatdb_server.errors import InvalidArgument, NotFound, PermissionDenied
from chatdb_server.names import data_source_id, validate_id
from chatdb_server.pagination import PageTokens
from chatdb_server.rpc import checked_tenant
from chatdb_server.sql.structure import SourceRef, StoredTable, TableStructure

DEFAULT_KEY_PAGE = 100


class SourceLookup(Protocol):
    """The data sources policies attach to (SchemaService's catalog)."""

    async def resolve(self, tenant: str, name: str, field: str = "name") -> SourceRef:
        """The tenant's source called ``dataSources/{id}``; NotFound, or InvalidArgument naming ``field``."""
        ...

    async def stored_tables(self, source: SourceRef, names: Sequence[str] | None = None) -> list[StoredTable]:
        """The source's stored tables."""
        ...


class ExclusionHook(Protocol):
    """What must follow a new EXCLUDE policy: stored samples purged, vector documents rebuilt."""

    async def exclusions_changed(self, source: SourceRef) -> object:
        """Purge what the server derived from ``source``'s excluded columns."""
        ...


@dataclass(frozen=True)
class KeySpec:
    """The settable fields of a new API key."""

    tenant: str = ""
    """Empty means the caller's tenant."""
    roles: tuple[str, ...] = ()
    data_sources: tuple[str, ...] = ()
    display_name: str = ""
    expire_time: datetime | None = None


@dataclass(frozen=True)
class AuditQuery:
    """What ListAuditEvents asks for; the tenant follows from the caller."""

    principal: str = ""
    data_source: str = ""
    """``dataSources/{id}``, or empty."""
    start_time: datetime | None = None
    end_time: datetime | None = None


class AccessService:
    """Keys, policies and the audit log of every tenant."""

    def __init__(self, keys: ApiKeyStore, policies: PolicyStore, audit: AuditLog, sources: SourceLookup,
                 pages: PageTokens, exclusions: ExclusionHook | None = None) -> None:
        self._keys = keys
        self._policies = policies
        self._audit = audit
        self._sources = sources
        self._pages = pages
        self._exclusions = exclusions

    # --- API keys ---------------------------------------------------------------------------------

    async def create_key(self, tenant: str, spec: KeySpec) -> IssuedKey:
        """A new key of ``spec.tenant`` (default ``tenant``); PermissionDenied when it would outrank its creator."""
        key_tenant = _key_tenant(spec.tenant or tenant)
        roles = roles_argument(list(spec.roles), "api_key.roles")
        sources = tuple(validate_id(s, "api_key.data_sources") for s in spec.data_sources)
        caller = current_principal()
        if caller is not None:
            caller.acting_tenant(key_tenant)
            _check_no_escalation(caller, roles, sources)
        issued = await self._keys.create(key_tenant, sorted(roles), data_sources=sources,
                                         display_name=spec.display_name, expire_time=spec.expire_time)
        note(resource=issued.key.name)
        return issued

    async def list_keys(self, tenant: str, page_size: int = 0, page_token: str = "") -> tuple[list[ApiKey], str]:
        """A page of the tenant's keys, oldest first, revoked ones included."""
        scope = f"{tenant}|apiKeys"
        page = self._pages.page(page_size, page_token, scope, default=DEFAULT_KEY_PAGE)
        keys = await self._keys.list(tenant)
        shown = keys[page.offset:page.offset + page.size]
        return shown, self._pages.next_token(page, len(shown), page.offset + len(shown) < len(keys), scope)

    async def revoke_key(self, tenant: str, name: str) -> ApiKey:
        """Revoke the tenant's key ``apiKeys/{id}``; NotFound for another tenant's."""
        key_id = api_key_id(name)
        note(resource=name)
        return await self._keys.revoke(key_id, tenant)

    # --- policies ---------------------------------------------------------------------------------

    async def create_column_policy(self, tenant: str, parent: str, table: str, column: str, action: ColumnAction,
                                   exempt_roles: Sequence[str] = ()) -> ColumnPolicy:
        """A column policy of the source ``parent``. An EXCLUDE policy is kept only once what the server had
        derived from the column is purged (if that fails, the policy is removed again and the error raised)."""
        source, tables = await self._source(tenant, parent)
        policy = await self._policies.create_column_policy(source, tables, table, column, action, exempt_roles)
        note(resource=policy.name, data_source=source.source_id)
        if action is ColumnAction.EXCLUDE and self._exclusions is not None:
            try:
                await self._exclusions.exclusions_changed(source)
            except Exception:
                await self._policies.delete_column_policy(source, policy.policy_id)
                raise
        return policy

    async def list_column_policies(self, tenant: str, parent: str) -> list[ColumnPolicy]:
        """The column policies of the source ``parent``, oldest first."""
        source = await self._sources.resolve(tenant, parent, "parent")
        return list((await self._policies.policies(source)).columns)

    async def delete_column_policy(self, tenant: str, name: str) -> None:
        """Delete a column policy. The column comes back into samples and documents at the source's next
        refresh and training, not at once."""
        source, policy_id = await self._policy(tenant, name, COLUMN_POLICIES)
        await self._policies.delete_column_policy(source, policy_id)

    async def create_row_policy(self, tenant: str, parent: str, table: str, predicate: str,
                                exempt_roles: Sequence[str] = ()) -> RowPolicy:
        """A row policy of the source ``parent``; its predicate must be a condition over the table's columns."""
        source, tables = await self._source(tenant, parent)
        policy = await self._policies.create_row_policy(source, tables, table, predicate, exempt_roles)
        note(resource=policy.name, data_source=source.source_id)
        return policy

    async def list_row_policies(self, tenant: str, parent: str) -> list[RowPolicy]:
        """The row policies of the source ``parent``, oldest first."""
        source = await self._sources.resolve(tenant, parent, "parent")
        return list((await self._policies.policies(source)).rows)

    async def delete_row_policy(self, tenant: str, name: str) -> None:
        """Delete a row policy."""
        source, policy_id = await self._policy(tenant, name, ROW_POLICIES)
        await self._policies.delete_row_policy(source, policy_id)

    async def _source(self, tenant: str, parent: str) -> tuple[SourceRef, list[TableStructure]]:
        source = await self._sources.resolve(tenant, parent, "parent")
        return source, [t.structure for t in await self._sources.stored_tables(source)]

    async def _policy(self, tenant: str, name: str, collection: str) -> tuple[SourceRef, str]:
        parent, policy_id = policy_name_parts(name, collection)
        source = await self._sources.resolve(tenant, parent, "name")
        note(resource=name, data_source=source.source_id)
        return source, policy_id

    # --- audit ------------------------------------------------------------------------------------

    async def list_audit_events(self, tenant: str, query: AuditQuery, page_size: int = 0,
                                page_token: str = "") -> tuple[list[AuditEvent], str]:
        """Events newest first: of ``tenant``, or of every tenant for an operator."""
        if query.start_time is not None and query.end_time is not None and query.start_time >= query.end_time:
            raise InvalidArgument("end_time", "must be after start_time")
        source_id = data_source_id(query.data_source, "data_source") if query.data_source else ""
        caller = current_principal()
        if caller is not None and caller.data_sources is not None:
            if not source_id:
                raise PermissionDenied(f"{caller.subject} is limited to some data sources: name one in data_source",
                                       "SOURCE_REQUIRED")
            if not caller.may_use_source(source_id):
                raise NotFound(query.data_source, "data source")
        everyone = caller is not None and Role.OPERATOR in caller.roles
        where = AuditFilter(tenant=None if everyone else tenant, principal=query.principal, data_source=source_id,
                            start_time=query.start_time, end_time=query.end_time)
        return await self._audit.list(where, page_size, page_token)


def _key_tenant(tenant: str) -> str:
    try:
        return checked_tenant(tenant)
    except InvalidArgument:
        raise InvalidArgument("api_key.tenant", "must be 1-63 letters, digits, '-' or '_'") from None


def _may_grant(caller: Principal, role: Role) -> bool:
    """Whether ``caller`` may give ``role``: operator only by an operator, others within its permissions."""
    if role is Role.OPERATOR:
        return Role.OPERATOR in caller.roles
    return ROLE_PERMISSIONS[role] <= caller.permissions


def _check_no_escalation(caller: Principal, roles: frozenset[Role], sources: tuple[str, ...]) -> None:
    """PermissionDenied when a new key would have a role or a data source its creator lacks."""
    beyond = sorted(r.value for r in roles if not _may_grant(caller, r))
    if beyond:
        raise PermissionDenied(f"{caller.subject} may not create a key with role(s) {', '.join(beyond)}: "
                               "a key has no more than its creator", "ROLE_ESCALATION", {"roles": ",".join(beyond)})
    if caller.data_sources is not None and (not sources or not set(sources) <= caller.data_sources):
        raise PermissionDenied(f"{caller.subject} is limited to some data sources; a key it creates must be limited "
                               "to some of them", "SOURCE_ESCALATION")
