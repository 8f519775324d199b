"""Authentication: a call's credential (API key, bearer token or client certificate) becomes a principal.

A bearer value that looks like a ChatDB API key is checked as one; any other bearer value is a
JWT. Without a bearer value, a client certificate known to the mapping is the credential.
Authentication may be turned off only on loopback; every caller is then an anonymous admin of
the tenant its header names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatdb_server.access.certificates import CertificatePrincipals
from chatdb_server.access.keys import KEY_PREFIX, ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.access.tokens import TokenVerifier
from chatdb_server.errors import Unauthenticated

ANONYMOUS_TENANT = "default"


@dataclass(frozen=True)
class Credentials:
    """What a call presents."""

    bearer: str = ""
    """The value after ``Bearer`` in the ``authorization`` metadata."""
    certificate_names: Sequence[str] = ()
    """The verified client certificate's common name and SANs (mTLS only)."""


def bearer_of(authorization: str) -> str:
    """The credential in an ``authorization`` value; Unauthenticated for another scheme."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the authorization metadata must be 'Bearer <API key or token>'")
    return value.strip()


class Authenticator:
    """Resolves credentials to principals."""

    def __init__(self, keys: ApiKeyStore, tokens: TokenVerifier, certificates: CertificatePrincipals,
                 *, enabled: bool = True) -> None:
        self._keys = keys
        self._tokens = tokens
        self._certificates = certificates
        self.enabled = enabled

    async def authenticate(self, credentials: Credentials) -> Principal:
        """The caller's principal; Unauthenticated when there is no valid credential."""
        if credentials.bearer:
            if credentials.bearer.startswith(f"{KEY_PREFIX}_"):
                key = await self._keys.authenticate(credentials.bearer)
                return Principal(subject=key.name, tenant=key.tenant, roles=key.roles, kind=CredentialKind.API_KEY,
                                 data_sources=frozenset(key.data_sources) or None)
            return self._tokens.verify(credentials.bearer)
        known = self._certificates.principal(credentials.certificate_names)
        if known is not None:
            return known
        if credentials.certificate_names:
            raise Unauthenticated("the client certificate is not mapped to a principal", "UNKNOWN_CERTIFICATE")
        if not self.enabled:
            return Principal(subject="anonymous", tenant=ANONYMOUS_TENANT, roles=frozenset({Role.ADMIN}),
                             kind=CredentialKind.ANONYMOUS)
        raise Unauthenticated("no credential: send 'authorization: Bearer <API key or token>'",
                              "CREDENTIAL_MISSING")
