"""Several Fernet keys: the first seals, every one opens, and re-sealing moves a value to the first."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatdb_server.crypto import KEY_FILE, SecretBox, load_or_create_key, split_keys, write_key_file
from chatdb_server.pagination import PageTokens

DSN = "postgresql://app:hunter2@db/shop"


@pytest.fixture
def old() -> bytes:
    return Fernet.generate_key()


@pytest.fixture
def new() -> bytes:
    return Fernet.generate_key()


def test_the_first_key_seals_and_every_listed_key_opens(old: bytes, new: bytes) -> None:
    sealed_old = SecretBox(old).seal(DSN)
    both = SecretBox(new + b"," + old)
    assert both.open(sealed_old) == DSN
    sealed_both = both.seal(DSN)
    assert SecretBox(new).open(sealed_both) == DSN
    with pytest.raises(ValueError, match="different key"):
        SecretBox(old).open(sealed_both)


def test_a_value_sealed_with_the_old_key_opens_only_where_the_old_key_is_listed(old: bytes, new: bytes) -> None:
    sealed = SecretBox(old).seal(DSN)
    with pytest.raises(ValueError, match="different key"):
        SecretBox(new).open(sealed)
    assert SecretBox(b" " + new + b" , " + old + b" ").open(sealed) == DSN


def test_reseal_moves_a_value_to_the_first_key(old: bytes, new: bytes) -> None:
    resealed = SecretBox(new + b"," + old).reseal(SecretBox(old).seal(DSN))
    assert SecretBox(new).open(resealed) == DSN
    with pytest.raises(ValueError, match="different key"):
        SecretBox(old).open(resealed)


def test_reseal_refuses_a_value_no_listed_key_opens(old: bytes, new: bytes) -> None:
    sealed = SecretBox(Fernet.generate_key()).seal(DSN)
    with pytest.raises(ValueError, match="different key"):
        SecretBox(new + b"," + old).reseal(sealed)


@pytest.mark.parametrize("keys", [" , ", "not-a-key", "{good},not-a-key"])
def test_a_bad_key_list_is_refused_when_loaded(keys: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_or_create_key(keys.format(good=Fernet.generate_key().decode()), tmp_path)


def test_a_configured_key_list_is_used_as_given(old: bytes, new: bytes, tmp_path: Path) -> None:
    configured = f"{new.decode()},{old.decode()}"
    assert load_or_create_key(configured, tmp_path) == configured.encode()
    assert split_keys(configured.encode()) == [new, old]
    assert not (tmp_path / KEY_FILE).exists()


def test_the_key_file_is_replaced_whole_and_stays_private(old: bytes, new: bytes, tmp_path: Path) -> None:
    first = load_or_create_key("", tmp_path)
    path = write_key_file(tmp_path, new + b"," + first)
    assert path == tmp_path / KEY_FILE
    assert load_or_create_key("", tmp_path) == new + b"," + first
    write_key_file(tmp_path, new)
    assert load_or_create_key("", tmp_path) == new
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]
    with pytest.raises(ValueError):
        write_key_file(tmp_path, b"not-a-key")
    assert path.read_bytes() == new


def test_page_tokens_accept_a_key_list_and_read_tokens_of_the_old_key(old: bytes, new: bytes) -> None:
    before = PageTokens(old)
    token = before.next_token(before.page(2, "", "scope"), 2, True, "scope")
    after = PageTokens(new + b"," + old)
    assert after.page(2, token, "scope").offset == 2
    issued = after.next_token(after.page(2, token, "scope"), 2, True, "scope")
    assert PageTokens(new).page(2, issued, "scope").offset == 4
