"""Credentials become principals: API keys, tokens, mapped client certificates; nothing else."""

from __future__ import annotations

import time

import jwt
import pytest

from chatdb_server.access.authenticate import Authenticator, Credentials, bearer_of
from chatdb_server.access.certificates import CertificatePrincipals
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.access.principal import CredentialKind
from chatdb_server.access.tokens import TokenSettings, TokenVerifier
from chatdb_server.errors import Unauthenticated
from chatdb_server.metadata.db import MetadataStore

SECRET = "a-shared-secret-of-at-least-32-bytes!"
TOKENS = TokenSettings(secret=SECRET, issuer="idp", audience="chatdb")
CERTS = {"reporting.acme.internal": {"tenant": "acme", "roles": ["asker"], "data_sources": ["shop"]},
         "spiffe://chatdb/query": {"tenant": "default", "roles": ["operator"], "service": True}}


@pytest.fixture
def keys(metadata_store: MetadataStore) -> ApiKeyStore:
    return ApiKeyStore(metadata_store)


def authenticator(keys: ApiKeyStore, *, enabled: bool = True) -> Authenticator:
    return Authenticator(keys, TokenVerifier(TOKENS), CertificatePrincipals(CERTS), enabled=enabled)


async def test_an_api_key_is_its_tenant_roles_and_sources(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["editor"], data_sources=["shop"])
    principal = await authenticator(keys).authenticate(Credentials(bearer=issued.secret))
    assert (principal.subject, principal.tenant, principal.kind) == (issued.key.name, "acme", CredentialKind.API_KEY)
    assert principal.data_sources == {"shop"} and principal.roles == {Role.EDITOR}


async def test_a_key_for_every_source_has_no_source_limit(keys: ApiKeyStore) -> None:
    issued = await keys.create("acme", ["asker"])
    assert (await authenticator(keys).authenticate(Credentials(bearer=issued.secret))).data_sources is None


async def test_a_token_is_a_principal(keys: ApiKeyStore) -> None:
    token = jwt.encode({"sub": "ana", "iss": "idp", "aud": "chatdb", "exp": int(time.time()) + 60,
                        "tenant": "acme", "roles": ["viewer"]}, SECRET, algorithm="HS256")
    principal = await authenticator(keys).authenticate(Credentials(bearer=token))
    assert (principal.subject, principal.kind) == ("token:ana", CredentialKind.TOKEN)


async def test_a_mapped_certificate_is_a_principal(keys: ApiKeyStore) -> None:
    principal = await authenticator(keys).authenticate(
        Credentials(certificate_names=("CN-not-mapped", "reporting.acme.internal")))
    assert (principal.tenant, principal.kind, principal.data_sources) == ("acme", CredentialKind.CERTIFICATE, {"shop"})
    service = await authenticator(keys).authenticate(Credentials(certificate_names=("spiffe://chatdb/query",)))
    assert service.kind is CredentialKind.SERVICE and Role.OPERATOR in service.roles


async def test_an_unmapped_certificate_is_unauthenticated(keys: ApiKeyStore) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await authenticator(keys).authenticate(Credentials(certificate_names=("stranger.example",)))
    assert caught.value.reason == "UNKNOWN_CERTIFICATE"


async def test_no_credential_is_unauthenticated_unless_authentication_is_off(keys: ApiKeyStore) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await authenticator(keys).authenticate(Credentials())
    assert caught.value.reason == "CREDENTIAL_MISSING"
    anonymous = await authenticator(keys, enabled=False).authenticate(Credentials())
    assert anonymous.kind is CredentialKind.ANONYMOUS and anonymous.acting_tenant("globex") == "globex"


@pytest.mark.parametrize("value", ["Basic dXNlcjpwdw==", "Bearer", "Bearer   ", "token abc"])
def test_other_authorization_schemes_are_unauthenticated(value: str) -> None:
    with pytest.raises(Unauthenticated):
        bearer_of(value)


def test_the_bearer_value_is_read_whatever_the_scheme_case() -> None:
    assert bearer_of("bearer chatdb_x") == "chatdb_x"
