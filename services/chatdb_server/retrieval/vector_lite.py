"""What only Milvus Lite (the embedded, file-backed Milvus) needs from the vector store.

Lite runs a server inside this process per data file and lets one process own a file at a time:
the last store of a file must stop that embedded server, or the file stays locked after the
client is closed. Its in-process gRPC adapter also logs a traceback for every call pymilvus makes
to a method Lite does not implement; that noise is filtered here.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback


def is_lite_uri(uri: str) -> bool:
    """Whether ``uri`` names a Milvus Lite file rather than a server."""
    return uri.endswith(".db") and "://" not in uri


class LiteFiles:
    """How many stores of this process have each Lite file open, so the last one releases it."""

    _users: dict[str, int] = {}  # one registry per process, by design
    _lock = threading.Lock()

    @classmethod
    def open(cls, path: str) -> None:
        """Count one more store of ``path``; creates its directory and quiets Lite's noise."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _quiet_lite_unimplemented()
        with cls._lock:
            cls._users[path] = cls._users.get(path, 0) + 1

    @classmethod
    def close(cls, path: str) -> None:
        """Count one store of ``path`` less; the last one stops the embedded server of the file, so
        another process can open it (closing the client alone keeps it locked)."""
        with cls._lock:
            users = cls._users.get(path, 1) - 1
            if users > 0:
                cls._users[path] = users
                return
            cls._users.pop(path, None)
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(path)


class _LiteUnimplemented(logging.Filter):
    """Drops the traceback Milvus Lite's in-process gRPC adapter logs for each call pymilvus makes to a
    method Lite does not implement (AllocTimestamp): pymilvus gets UNIMPLEMENTED and carries on, so
    the traceback is noise, not a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, NotImplementedError):
            return True
        frames = traceback.extract_tb(error.__traceback__)
        return not (frames and frames[-1].filename.endswith("milvus_pb2_grpc.py"))


_LITE_FILTER = _LiteUnimplemented()


def _quiet_lite_unimplemented() -> None:
    """Install :class:`_LiteUnimplemented` on gRPC's server logger (once)."""
    logger = logging.getLogger("grpc._server")
    if _LITE_FILTER not in logger.filters:
        logger.addFilter(_LITE_FILTER)
