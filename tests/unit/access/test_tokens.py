"""JWT bearer tokens: good ones become principals; forged, expired, early, foreign or confused ones do not."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chatdb_server.access.permissions import Role
from chatdb_server.access.principal import CredentialKind
from chatdb_server.access.tokens import TokenSettings, TokenVerifier
from chatdb_server.errors import Unauthenticated

ISSUER, AUDIENCE, SECRET = "https://idp.example", "chatdb", "a-shared-secret-of-at-least-32-bytes!"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "ana", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "tenant": "acme",
            "roles": ["asker"], "attributes": {"region": "emea"}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_verifier(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> TokenVerifier:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    return TokenVerifier(TokenSettings(jwks=str(path), issuer=ISSUER, audience=AUDIENCE))


@pytest.fixture
def secret_verifier() -> TokenVerifier:
    return TokenVerifier(TokenSettings(secret=SECRET, issuer=ISSUER, audience=AUDIENCE))


def rs256(key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_good_jwks_token_becomes_a_principal(jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    principal = jwks_verifier.verify(rs256(rsa_key, claims()))
    assert (principal.subject, principal.tenant, principal.roles) == ("token:ana", "acme", {Role.ASKER})
    assert principal.kind is CredentialKind.TOKEN and principal.attributes == {"region": "emea"}


def test_a_good_shared_secret_token_becomes_a_principal(secret_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(roles="viewer asker"), SECRET, algorithm="HS256")
    assert secret_verifier.verify(token).roles == {Role.VIEWER, Role.ASKER}


@pytest.mark.parametrize(("changes", "reason"), [
    pytest.param({"iss": "https://evil.example"}, "TOKEN_INVALID", id="wrong_issuer"),
    pytest.param({"aud": "someone-else"}, "TOKEN_INVALID", id="wrong_audience"),
    pytest.param({"exp": int(time.time()) - 3600}, "TOKEN_EXPIRED", id="expired"),
    pytest.param({"nbf": int(time.time()) + 3600}, "TOKEN_NOT_YET_VALID", id="not_yet_valid"),
    pytest.param({"exp": None}, "TOKEN_INVALID", id="no_expiry"),
    pytest.param({"tenant": None}, "TOKEN_INVALID", id="no_tenant"),
    pytest.param({"roles": ["root"]}, "TOKEN_INVALID", id="unknown_role"),
    pytest.param({"attributes": "region=emea"}, "TOKEN_INVALID", id="attributes_not_an_object"),
])
def test_bad_claims_are_unauthenticated(jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey,
                                        changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        jwks_verifier.verify(rs256(rsa_key, claims(**changes)))
    assert caught.value.reason == reason


def test_alg_none_is_refused(jwks_verifier: TokenVerifier, secret_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), None, algorithm="none")
    for verifier in (jwks_verifier, secret_verifier):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)


def test_a_token_signed_by_another_key_is_refused(jwks_verifier: TokenVerifier) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated):
        jwks_verifier.verify(rs256(stranger, claims()))


def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(
        jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    public_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    forged = jwt.api_jws.PyJWS()
    forged._algorithms["HS256"].prepare_key = lambda key: key  # sign as an attacker would, unchecked
    token = forged.encode(json.dumps(claims()).encode(), public_pem, algorithm="HS256", headers=header)
    with pytest.raises(Unauthenticated):
        jwks_verifier.verify(token)


def test_an_hmac_token_with_the_wrong_secret_is_refused(secret_verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthenticated):
        secret_verifier.verify(jwt.encode(claims(), "another-secret-of-at-least-32-bytes!!", algorithm="HS256"))


def test_an_rs256_token_is_refused_by_a_shared_secret_verifier(secret_verifier: TokenVerifier,
                                                               rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(Unauthenticated):
        secret_verifier.verify(rs256(rsa_key, claims()))


def test_tokens_are_refused_when_none_are_configured() -> None:
    with pytest.raises(Unauthenticated):
        TokenVerifier(TokenSettings()).verify("a.b.c")


@pytest.mark.parametrize("settings", [
    pytest.param(TokenSettings(secret=SECRET, jwks="/x.json", issuer=ISSUER, audience=AUDIENCE), id="both_keys"),
    pytest.param(TokenSettings(secret=SECRET, audience=AUDIENCE), id="no_issuer"),
    pytest.param(TokenSettings(secret=SECRET, issuer=ISSUER), id="no_audience"),
])
def test_incomplete_token_settings_fail_at_start(settings: TokenSettings) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(settings)
