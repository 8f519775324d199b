"""JWT bearer tokens (PyJWT), verified against a JWKS (a file or a URL) or a shared secret.

The algorithms a verifier accepts follow from its key material, never from the token: a
shared secret accepts only HMAC algorithms, a JWKS only asymmetric ones, so neither ``alg:
none`` nor the classic confusion (an RS256 public key used as an HS256 secret) gets through.
Issuer and audience must be configured and match; ``exp`` is required and ``nbf`` honoured,
with a small leeway. Configurable claims give the tenant, the roles and the attributes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from chatdb_server.access.permissions import parse_roles
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.errors import Unauthenticated

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_S = 30


@dataclass(frozen=True)
class TokenSettings:
    """How tokens are verified and read."""

    jwks: str = ""
    """A JWKS: a file path, or an ``https://`` URL fetched (and cached) by PyJWKClient."""
    secret: str = ""
    """A shared HMAC secret, instead of a JWKS."""
    issuer: str = ""
    audience: str = ""
    tenant_claim: str = "tenant"
    roles_claim: str = "roles"
    attributes_claim: str = "attributes"
    """A claim holding an object of string attributes for row policies."""

    @property
    def enabled(self) -> bool:
        """Whether tokens are accepted at all."""
        return bool(self.jwks or self.secret)


class TokenVerifier:
    """Turns a bearer token into a principal, or refuses it with UNAUTHENTICATED."""

    def __init__(self, settings: TokenSettings) -> None:
        if settings.jwks and settings.secret:
            raise ValueError("configure a JWKS or a shared secret for tokens, not both")
        if settings.enabled and not (settings.issuer and settings.audience):
            raise ValueError("tokens need an issuer and an audience to check")
        self._settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if settings.jwks.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(settings.jwks, cache_keys=True, lifespan=300)
        elif settings.jwks:
            self._keys = jwt.PyJWKSet.from_json(Path(settings.jwks).read_text())

    def verify(self, token: str) -> Principal:
        """The principal of a valid token."""
        settings = self._settings
        if not settings.enabled:
            raise Unauthenticated("bearer tokens are not accepted by this server; use an API key")
        try:
            key, algorithms = self._key_for(token)
            claims = jwt.decode(token, key, algorithms=list(algorithms), issuer=settings.issuer,
                                audience=settings.audience, leeway=LEEWAY_S,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", "TOKEN_EXPIRED") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet", "TOKEN_NOT_YET_VALID") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, ValueError) as exc:
            raise Unauthenticated(f"the token is not valid: {exc}", "TOKEN_INVALID") from None
        return self._principal(claims)

    def _key_for(self, token: str) -> tuple[Any, tuple[str, ...]]:
        if self._settings.secret:
            return self._settings.secret, HMAC_ALGORITHMS
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key, ASYMMETRIC_ALGORITHMS
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        candidates = [k for k in self._keys.keys if kid is None or k.key_id == kid]
        if len(candidates) != 1:
            raise jwt.InvalidTokenError("no single key of the JWKS matches the token's kid")
        return candidates[0].key, ASYMMETRIC_ALGORITHMS

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        settings = self._settings
        tenant = claims.get(settings.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise Unauthenticated(f"the token has no {settings.tenant_claim!r} claim", "TOKEN_INVALID")
        raw_roles = claims.get(settings.roles_claim, [])
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        try:
            roles = parse_roles([str(r) for r in raw_roles], settings.roles_claim)
        except ValueError as exc:
            raise Unauthenticated(str(exc), "TOKEN_INVALID") from None
        attributes = claims.get(settings.attributes_claim, {})
        if not isinstance(attributes, dict):
            raise Unauthenticated(f"the {settings.attributes_claim!r} claim is not an object", "TOKEN_INVALID")
        return Principal(subject=f"token:{claims['sub']}", tenant=tenant, roles=roles, kind=CredentialKind.TOKEN,
                         attributes={str(k): _text(v) for k, v in attributes.items()})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
