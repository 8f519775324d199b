"""The session cookie: sealed (unreadable, unforgeable), expiring, bound to one secret; CSRF tokens."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet

from chatdb_console.config import load_or_create_secret, new_secret
from chatdb_console.session import Session, SessionCodec, new_session


def test_a_sealed_session_opens_to_the_same_key_and_token() -> None:
    codec = SessionCodec(new_secret(), ttl_s=60)
    session = new_session("sk-live-secret")
    sealed = codec.seal(session)
    assert "sk-live-secret" not in sealed
    assert codec.open(sealed) == session


@pytest.mark.parametrize("value", [
    pytest.param(None, id="absent"),
    pytest.param("", id="empty"),
    pytest.param("not-a-token", id="garbage"),
    pytest.param("gAAAAA" + "x" * 80, id="forged"),
])
def test_bad_cookies_open_to_nothing(value: str | None) -> None:
    assert SessionCodec(new_secret(), ttl_s=60).open(value) is None


def test_a_tampered_cookie_opens_to_nothing() -> None:
    codec = SessionCodec(new_secret(), ttl_s=60)
    sealed = codec.seal(new_session("key"))
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    assert codec.open(flipped) is None


def test_a_cookie_sealed_under_another_secret_opens_to_nothing() -> None:
    sealed = SessionCodec(new_secret(), ttl_s=60).seal(new_session("key"))
    assert SessionCodec(new_secret(), ttl_s=60).open(sealed) is None


def test_an_expired_cookie_opens_to_nothing() -> None:
    secret = new_secret()
    old = Fernet(secret.encode()).encrypt_at_time(b'{"key": "k", "csrf": "t"}', int(time.time()) - 120).decode()
    assert SessionCodec(secret, ttl_s=60).open(old) is None
    assert SessionCodec(secret, ttl_s=600).open(old) == Session("k", "t")


def test_a_payload_without_a_csrf_token_is_refused() -> None:
    secret = new_secret()
    sealed = Fernet(secret.encode()).encrypt(b'{"key": "k"}').decode()
    assert SessionCodec(secret, ttl_s=60).open(sealed) is None


def test_csrf_tokens_are_fresh_and_checked_exactly() -> None:
    first, second = new_session("k"), new_session("k")
    assert first.csrf_token != second.csrf_token
    assert len(first.csrf_token) >= 32
    assert first.accepts(first.csrf_token)
    assert not first.accepts(second.csrf_token)
    assert not first.accepts("")
    assert not first.accepts(None)


def test_signed_in_means_holding_a_key() -> None:
    assert new_session("k").signed_in
    assert not new_session().signed_in


def test_the_secret_is_generated_once_and_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = load_or_create_secret(tmp_path / "data")
    assert Fernet(secret.encode())  # a valid key
    assert load_or_create_secret(tmp_path / "data") == secret
    assert (tmp_path / "data" / "console.key").stat().st_mode & 0o077 == 0
