"""Masked values: what a caller gets instead of the values of a masked column.

A masked value is ``masked:`` and the first 12 hex digits of an HMAC-SHA256 of the value's text
under the server's masking key: stable (equal values mask equally, so grouping and joining on
the masked result still work, and cached results agree across replicas that share the key) but
not reversible, and not guessable by hashing candidate values without the key. NULL stays NULL.
Which result columns are masked is decided by :func:`chatdb_server.access.enforce.enforce`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from chatdb_server.sql.values import ResultColumn

MASK_PREFIX = "masked:"
MASK_DIGITS = 12
MASKED_DATABASE_TYPE = "MASKED"


class Masker:
    """Masks values under one key (the process's secret key: replicas sharing it mask alike)."""

    def __init__(self, key: bytes = b"") -> None:
        self._key = hashlib.sha256(b"chatdb column masking\n" + key).digest()

    def value(self, value: Any) -> str | None:
        """The masked form of one cell."""
        if value is None:
            return None
        text = value.hex() if isinstance(value, bytes) else str(value)
        digest = hmac.new(self._key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return MASK_PREFIX + digest[:MASK_DIGITS]

    def result(self, columns: Sequence[ResultColumn], rows: Sequence[Sequence[Any]],
               positions: Sequence[int]) -> tuple[list[ResultColumn], list[tuple[Any, ...]]]:
        """``columns`` and ``rows`` with the cells at ``positions`` masked (those columns become text)."""
        masked = frozenset(p for p in positions if 0 <= p < len(columns))
        if not masked:
            return list(columns), [tuple(row) for row in rows]
        typed = [ResultColumn(c.name, "STRING", MASKED_DATABASE_TYPE) if i in masked else c
                 for i, c in enumerate(columns)]
        return typed, [tuple(self.value(cell) if i in masked else cell for i, cell in enumerate(row))
                       for row in rows]
