"""The principal: who is calling, resolved once per call from its credential.

Every check after authentication asks the principal: which tenant it acts for, whether its
roles grant a permission, which data sources it may use, and the attributes row policies bind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from chatdb_server.access.permissions import Permission, Role, granted
from chatdb_server.errors import PermissionDenied


class CredentialKind(StrEnum):
    """How the principal proved who it is."""

    API_KEY = "api_key"
    TOKEN = "token"
    CERTIFICATE = "certificate"
    SERVICE = "service"
    ANONYMOUS = "anonymous"
    """Authentication is off (loopback only): every caller is an admin of the tenant it names."""


@dataclass(frozen=True)
class Principal:
    """A caller whose credential checked out."""

    subject: str
    """Stable and safe to log: ``apiKeys/<id>``, the token's ``sub``, the certificate's subject."""
    tenant: str
    roles: frozenset[Role]
    kind: CredentialKind
    data_sources: frozenset[str] | None = None
    """Source ids the credential may use; None means every source of the tenant."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """Values row policies bind (``region = :region``)."""

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything the principal's roles grant."""
        return granted(self.roles)

    def may(self, permission: Permission) -> bool:
        """Whether the principal's roles grant ``permission``."""
        return permission in self.permissions

    def require(self, permission: Permission, method: str) -> None:
        """PermissionDenied unless the principal may ``permission``."""
        if not self.may(permission):
            raise PermissionDenied(f"{self.subject} may not call {method}: it needs {permission.value}",
                                   "MISSING_PERMISSION", {"permission": permission.value})

    def acting_tenant(self, requested: str) -> str:
        """The tenant a call acts for. Only an operator (or an anonymous caller on loopback) may name another
        tenant than its own in the tenant header; anyone else asking for one is PermissionDenied."""
        if not requested or requested == self.tenant:
            return self.tenant
        if Role.OPERATOR in self.roles or self.kind is CredentialKind.ANONYMOUS:
            return requested
        raise PermissionDenied(f"{self.subject} belongs to tenant {self.tenant!r} and may not act for another",
                               "TENANT_MISMATCH", {"tenant": requested})

    def with_tenant(self, tenant: str) -> Principal:
        """The same principal acting for ``tenant`` (settled by :meth:`acting_tenant`)."""
        return self if tenant == self.tenant else dataclasses.replace(self, tenant=tenant)

    def may_use_source(self, source_id: str) -> bool:
        """Whether the credential is allowed the data source ``source_id`` (callers answer NOT_FOUND if not)."""
        return self.data_sources is None or source_id in self.data_sources
