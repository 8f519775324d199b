"""How the vector store reads and writes so that it is correct on every Milvus it meets.

Tested on Milvus Lite and on a Milvus 2.3.5 standalone server; written for current Milvus too.
What differs between them, and what this module decides about it:

* **Consistency.** A server serves reads from a snapshot that may trail the latest writes by a time
  tick; Lite always reads its latest state. Reads name their level on every call (never the
  collection's default, which older deployments created as Strong): searches
  :data:`READ_YOUR_WRITES`, everything else :data:`SNAPSHOT`.
* **Writes.** ``upsert`` into a partition-key collection is broken on Milvus 2.3.x (before 2.3.10):
  the row can land in another namespace's partition (milvus-io/milvus#30607). Rows are written by
  :func:`replace_rows` instead.
* **Deletes.** 2.3.5's delete reply carries no timestamp, so a Session read does not wait for a
  delete: after :func:`settle_deletes` it does.
* **Flush.** Lite needs a flush after writes (unflushed rows slow its filtered searches two orders
  of magnitude). A server does not: an acknowledged write is durable in its log and visible at the
  levels above, it seals segments itself, and a flush there costs 0.5-3 s (2.3.5).
* **The namespace index.** Lite and Milvus 2.4+ index VARCHAR with ``INVERTED``; 2.3 refuses it
  and offers ``Trie``.
* Also different, and avoided: naming ``partition_names`` on a partition-key collection (a server
  refuses it, Lite silently returns nothing), ``delete``'s reply (a server returns a count only
  for deletes by id, Lite the ids it was given, found or not: deletes are counted by a query
  instead), the partition count (Lite adds one), none of which this store depends on.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

READ_YOUR_WRITES = "Session"
"""Level of similarity searches, the reads an ask makes. A search sees every write this process
made before it (pymilvus keeps the last write's timestamp per collection, for every client of the
process) and costs what an unconstrained read costs (2-4 ms filtered top-5 on 2.3.5). Another
process's write shows up about one time tick after it was acknowledged (≈ 0.2 s on 2.3.5's default
200 ms tick). ``Bounded``, Milvus's default, is as fast but misses this process's own write when
read right after it (20 of 20 times on 2.3.5); ``Strong`` sees everything but makes every search
wait for the next tick (≈ 200 ms each), which an ask cannot afford. Asks mostly answer from an
in-process index anyway, loaded at :data:`SNAPSHOT`."""

SNAPSHOT = "Strong"
"""Level of every other read: copies of a whole namespace for an in-process index (table vectors,
examples), counts, listings, documents. They run when something else says the store changed —
the metadata store says another replica trained a source a moment ago, a replica recovers a job
a dead worker half-wrote — and an index they load is served for a minute, so they must include
every write acknowledged before them, whichever process made it: a process that read at Session
level right after another's write found none of its rows (measured on 2.3.5). Strong waits for the
next time tick (≈ 200 ms on 2.3.5), paid per load or inspection, never per question."""

WRITE_BATCH = 1_000
"""Rows per insert call (and ids per delete call)."""

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


class TimedClient:
    """A ``MilvusClient`` whose calls to the server each end within ``timeout_s``, retries included.

    Without a timeout pymilvus retries a call to an unreachable server 75 times with backoff, minutes
    in all, and a training job whose Milvus died would hold its lease, heartbeating, for that long; with
    one the call fails and the job fails (or is recovered) in bounded time. Creating and loading the
    collections, once when the store opens, are left unbounded: loading a large collection can take
    longer than any one read or write should, and a server that does not start is plain to see."""

    _TIMED = frozenset({"delete", "describe_collection", "flush", "get_server_version", "has_collection", "insert",
                        "query", "query_iterator", "search"})

    def __init__(self, client: Any, timeout_s: float) -> None:
        self._client = client
        self._timeout_s = timeout_s

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._client, name)
        return functools.partial(found, timeout=self._timeout_s) if name in self._TIMED else found


@dataclass(frozen=True)
class MilvusTraits:
    """What the Milvus behind a client can do, where this store depends on it."""

    lite: bool
    version: tuple[int, int, int] | None
    """The server's version; None for Lite, or when the server's version string is not understood
    (then it is taken to be current)."""

    @classmethod
    def of(cls, client: Any, *, lite: bool) -> MilvusTraits:
        """Ask ``client``'s server for its version (``v2.3.5-lite`` for the PyPI ``milvus`` server)."""
        if lite:
            return cls(lite=True, version=None)
        found = _VERSION.search(str(client.get_server_version()))
        version = (int(found[1]), int(found[2]), int(found[3])) if found else None
        return cls(lite=False, version=version)

    @property
    def namespace_index(self) -> str:
        """The scalar index type for the ``namespace`` VARCHAR field."""
        return "Trie" if self.version is not None and self.version < (2, 4, 0) else "INVERTED"

    @property
    def flush_after_write(self) -> bool:
        """Whether every write should be followed by a flush (Lite only, see the module docstring)."""
        return self.lite

    @property
    def settle_after_delete(self) -> bool:
        """Whether a delete must be followed by :func:`settle_deletes` (servers; Lite reads its latest state)."""
        return not self.lite


def replace_rows(client: Any, collection: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` so that each ``id`` ends up as exactly one row, in its namespace's partition.

    Deletes the ids, then inserts the rows — not ``upsert``, which on Milvus 2.3.x routes rows of a
    partition-key collection by the wrong field (milvus-io/milvus#30607), so ``namespace == ...``
    filters can miss them. Delete-then-insert is correct on 2.3.x, on current Milvus and on Lite
    (the insert's timestamp is after the delete's, so the new row survives it). The delete names
    ids alone, without the namespace: ids are derived from the namespace, so it cannot reach
    another namespace's rows, and it also removes a row an earlier upsert misplaced (a filter on
    the namespace would look in the right partition only and miss it).

    For a moment between the two calls a reader may find neither version of a row. Writers of one
    id are serialised by the callers (one training job per source at a time; examples get fresh
    ids), so two replacements of one id never interleave into two rows.
    """
    latest = list({row["id"]: row for row in rows}.values())  # one row per id: the last one given
    for start in range(0, len(latest), WRITE_BATCH):
        batch = latest[start:start + WRITE_BATCH]
        client.delete(collection, ids=[row["id"] for row in batch])
        client.insert(collection, batch)


def settle_deletes(client: Any, collection: str) -> None:
    """Return once this process's deletes in ``collection`` are visible to its later reads.

    pymilvus makes a Session read wait for the timestamp of the process's last write, but Milvus
    2.3.5's delete reply carries none, so a read may be served from a snapshot older than the
    delete (measured: 6 of 6 reads of a namespace right after deleting one of its rows still found
    it, when a read had been served between the write and the delete). A Strong read waits for a
    snapshot newer than the delete; the query node serves later reads from one at least as new.
    Costs one time tick (≈ 200 ms on 2.3.5), paid by explicit deletes only: in :func:`replace_rows`
    the insert that follows the delete carries a timestamp that covers both.
    """
    client.query(collection, filter='id == ""', output_fields=["id"], limit=1, consistency_level=SNAPSHOT)


def ids_filter(ids: Sequence[str]) -> str:
    """A filter matching the primary keys ``ids`` (hex strings, quoted as JSON)."""
    return f"id in {json.dumps(list(ids))}"
