"""Choosing among several generated candidates by self-consistency.

Candidates whose executed results agree (the same rows, in any order) vote together;
the largest group wins, ties go to the group holding the most confident candidate, and
the most confident candidate of the winning group is the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from chatdb.common.v1 import value_pb2

T = TypeVar("T")


def result_signature(columns: Sequence[value_pb2.ResultColumn], rows: Sequence[value_pb2.Row]) -> str:
    """Equal for results with the same number of columns and the same multiset of rows (column names and
    row order aside: two correct queries may alias or order differently)."""
    digest = hashlib.sha256(str(len(columns)).encode())
    for encoded in sorted(row.SerializeToString(deterministic=True) for row in rows):
        digest.update(len(encoded).to_bytes(4, "big"))
        digest.update(encoded)
    return digest.hexdigest()


@dataclass(frozen=True)
class Ballot(Generic[T]):
    """One executed candidate: its result's signature, its confidence and whatever the caller keeps with it."""

    signature: str
    confidence: float
    item: T


@dataclass(frozen=True)
class Choice(Generic[T]):
    """The winner and how many candidates agreed with it."""

    winner: T
    agreeing: int
    voters: int


def choose(ballots: Sequence[Ballot[T]]) -> Choice[T]:
    """The self-consistent choice among ``ballots`` (at least one)."""
    if not ballots:
        raise ValueError("no candidates to choose from")
    groups: dict[str, list[Ballot[T]]] = {}
    for ballot in ballots:
        groups.setdefault(ballot.signature, []).append(ballot)
    best_group = max(groups.values(), key=lambda group: (len(group), max(b.confidence for b in group)))
    winner = max(best_group, key=lambda b: b.confidence)
    return Choice(winner.item, len(best_group), len(ballots))
