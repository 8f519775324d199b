"""Encryption of secrets at rest (data-source passwords) and the server key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from chatdb_server.datadir import prepare_data_dir

KEY_FILE = "secret.key"


def load_or_create_key(configured: str, data_dir: Path) -> bytes:
    """The configured Fernet key, or one generated once into ``data_dir`` (mode 0600)."""
    if configured:
        key = configured.encode()
        Fernet(key)  # fail at start-up, not at the first secret
        return key
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    prepare_data_dir(data_dir)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class SecretBox:
    """Encrypts and decrypts short secrets with one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: str) -> str:
        """Ciphertext of ``plaintext``, safe to store."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, ciphertext: str) -> str:
        """The plaintext; ValueError when the key does not match."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret was sealed with a different key") from exc
