"""Encryption of secrets at rest (data-source passwords) and the server key.

A key setting or key file holds one Fernet key or several separated by commas: the first seals,
every one opens (``MultiFernet``), so a key can be rotated without losing what the old one sealed.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from chatdb_server.datadir import FILE_MODE, prepare_data_dir

KEY_FILE = "secret.key"


def split_keys(keys: bytes) -> list[bytes]:
    """The Fernet keys of a comma-separated list, first (sealing) key first; ValueError for a bad one."""
    parts = [part.strip() for part in keys.split(b",") if part.strip()]
    if not parts:
        raise ValueError("no Fernet key given")
    for part in parts:
        Fernet(part)  # ValueError: "Fernet key must be 32 url-safe base64-encoded bytes."
    return parts


def load_or_create_key(configured: str, data_dir: Path) -> bytes:
    """The configured Fernet key(s), or those in ``data_dir``'s key file, generated once (mode 0600)."""
    if configured:
        key = configured.encode()
        split_keys(key)  # fail at start-up, not at the first secret
        return key
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    prepare_data_dir(data_dir)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def write_key_file(data_dir: Path, keys: bytes) -> Path:
    """Replace ``data_dir``'s key file by ``keys`` atomically (a private temporary file, then a rename)."""
    split_keys(keys)
    path = data_dir / KEY_FILE
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(keys)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


class SecretBox:
    """Encrypts and decrypts short secrets with one key, or several given comma-separated."""

    def __init__(self, key: bytes) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in split_keys(key)])

    def seal(self, plaintext: str) -> str:
        """Ciphertext of ``plaintext`` under the first key, safe to store."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, ciphertext: str) -> str:
        """The plaintext; ValueError when no key matches."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret was sealed with a different key") from exc

    def reseal(self, ciphertext: str) -> str:
        """The same plaintext sealed under the first key; ValueError when no key opens ``ciphertext``."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret was sealed with a different key") from exc
