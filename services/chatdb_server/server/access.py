"""The access pieces of a process, one of each (through ``Components.shared``): the key store,
the authenticator, the policy store, the audit log and the quota books."""

from __future__ import annotations

from chatdb_server.access.audit import AuditLog, JsonLinesSink
from chatdb_server.access.authenticate import Authenticator
from chatdb_server.access.certificates import CertificatePrincipals
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.policies import PolicyStore
from chatdb_server.access.quotas import Quotas, QuotaSettings
from chatdb_server.access.tokens import TokenSettings, TokenVerifier
from chatdb_server.server.components import Components


def shared_keys(components: Components) -> ApiKeyStore:
    """The process's API key store."""
    keys: ApiKeyStore = components.shared("access.keys", lambda: ApiKeyStore(components.store))
    return keys


def token_settings(components: Components) -> TokenSettings:
    """How bearer tokens are verified, from the settings."""
    s = components.settings
    return TokenSettings(jwks=s.jwt_jwks, secret=s.jwt_secret, issuer=s.jwt_issuer, audience=s.jwt_audience,
                         tenant_claim=s.jwt_tenant_claim, roles_claim=s.jwt_roles_claim,
                         attributes_claim=s.jwt_attributes_claim)


def shared_authenticator(components: Components) -> Authenticator:
    """The process's authenticator (keys, tokens, client certificates)."""
    def build() -> Authenticator:
        s = components.settings
        return Authenticator(shared_keys(components), TokenVerifier(token_settings(components)),
                             CertificatePrincipals.from_file(s.tls_client_principals), enabled=s.authentication)

    authenticator: Authenticator = components.shared("access.authenticator", build)
    return authenticator


def shared_policies(components: Components) -> PolicyStore:
    """The process's column and row policy store."""
    policies: PolicyStore = components.shared("access.policies", lambda: PolicyStore(components.store))
    return policies


def shared_audit(components: Components) -> AuditLog:
    """The process's audit log (its JSON-lines copy closed at shutdown)."""
    def build() -> AuditLog:
        target = components.settings.audit_log
        audit = AuditLog(components.store, components.pages, JsonLinesSink(target) if target else None)

        async def close() -> None:
            audit.close()

        components.on_close(close)
        return audit

    audit: AuditLog = components.shared("access.audit", build)
    return audit


def shared_quotas(components: Components) -> Quotas:
    """The process's quota books."""
    def build() -> Quotas:
        s = components.settings
        return Quotas(QuotaSettings(s.asks_per_minute_per_key, s.asks_per_minute_per_tenant,
                                    s.concurrent_asks_per_tenant))

    quotas: Quotas = components.shared("access.quotas", build)
    return quotas
