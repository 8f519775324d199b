"""The embedded data directory: private to the user the server runs as.

It holds the metadata store (every tenant's questions, cached rows and sealed DSNs), the key
that opens those DSNs, and the vectors, so the directory is 0700 and the files ChatDB creates
in it are 0600, whatever the process umask.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def prepare_data_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it owner-only; an existing one is tightened too."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_uid == os.getuid():
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and only its owner can read or write it (created empty if absent)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    if path.stat().st_uid == os.getuid():
        path.chmod(FILE_MODE)
    return path
