"""The English lexicon of the template generator, read once from the JSON files in ``lexicon/``.

The word lists are data, not code: ``lexicon/words.json`` (name splitting and matching),
``lexicon/intents.json`` (cue words of counts, aggregates, superlatives, order, comparisons)
and ``lexicon/cues.json`` (the smaller lists single rules use). Keys starting with ``_`` are
comments. Lists whose order matters (comparators, count phrases, stem suffixes) stay lists.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Literal

Topic = Literal["words", "intents", "cues"]


@cache
def _topic(topic: Topic) -> dict[str, Any]:
    text = files("chatdb_server.prediction.template").joinpath("lexicon", f"{topic}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def entry(topic: Topic, key: str) -> Any:
    """The raw JSON value stored under ``key`` (a KeyError names a missing list at import time)."""
    return _topic(topic)[key]


def word_set(topic: Topic, key: str) -> frozenset[str]:
    """A list of words as a set."""
    return frozenset(entry(topic, key))


def phrases(topic: Topic, key: str) -> list[tuple[str, ...]]:
    """A list of space-separated phrases as word tuples, in file order."""
    return [tuple(p.split()) for p in entry(topic, key)]
