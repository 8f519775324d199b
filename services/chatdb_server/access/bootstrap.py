"""The first key: without one, nobody could create the others.

On start with authentication on: a key given in settings (``CHATDB_BOOTSTRAP_ADMIN_KEY``, from a
Kubernetes Secret) is stored if it is not yet; otherwise, when the key store is empty, an
admin key is generated and written to ``<data_dir>/admin.key`` (mode 0600). The log names the
file, never the key. The bootstrap key is an admin and an operator of the ``default`` tenant, so
the person who installed ChatDB can manage every tenant with it. A configured service key
(``CHATDB_SERVICE_KEY``, the credential services send each other) is stored the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.access.permissions import Role
from chatdb_server.log import get_logger

log = get_logger(__name__)

ADMIN_KEY_FILE = "admin.key"
BOOTSTRAP_TENANT = "default"
BOOTSTRAP_ROLES = (Role.ADMIN.value, Role.OPERATOR.value)


async def bootstrap_admin_key(keys: ApiKeyStore, data_dir: Path, configured: str = "") -> Path | None:
    """Make sure an admin key exists; the file the generated one was written to, if one was generated."""
    if configured:
        await keys.import_key(configured, BOOTSTRAP_TENANT, BOOTSTRAP_ROLES, display_name="bootstrap")
        return None
    if await keys.count():
        return None
    issued = await keys.create(BOOTSTRAP_TENANT, BOOTSTRAP_ROLES, display_name="bootstrap")
    path = data_dir / ADMIN_KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(issued.secret + "\n")
    log.warning("access.bootstrap_key_created", path=str(path), key=issued.key.name)
    return path


SERVICE_ROLES = (Role.OPERATOR.value,)


async def import_service_key(keys: ApiKeyStore, secret: str) -> None:
    """Store the key ChatDB's services send when they call each other (an operator of ``default``, which
    acts for the tenant of the call it serves); idempotent, like the bootstrap key."""
    await keys.import_key(secret, BOOTSTRAP_TENANT, SERVICE_ROLES, display_name="service")


def read_admin_key(data_dir: Path) -> str:
    """The generated admin key in ``data_dir``; empty when there is none."""
    path = data_dir / ADMIN_KEY_FILE
    return path.read_text().strip() if path.exists() else ""
