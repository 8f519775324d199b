"""Access to the Spider dev set, read from outside the repository.

The path is ``CHATDB_SPIDER_DIR`` or ``../shared/data/spider-dev`` beside the
repository. Tests that need it call :func:`require_spider` and skip with a clear
message where it is absent, so a fresh clone still passes on its own fixtures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LARGER_DATABASES = ("car_1", "student_transcripts_tracking", "dog_kennels")


def spider_dir() -> Path:
    """Where the Spider dev set is expected."""
    configured = os.environ.get("CHATDB_SPIDER_DIR")
    return Path(configured) if configured else (REPO_ROOT.parent / "shared" / "data" / "spider-dev")


def spider_available() -> bool:
    """Whether dev.json and the databases are there."""
    root = spider_dir()
    return (root / "dev.json").is_file() and (root / "database").is_dir()


def require_spider() -> Path:
    """The Spider dir, or skip the calling test with the reason."""
    if not spider_available():
        pytest.skip(f"Spider dev set not found at {spider_dir()} (set CHATDB_SPIDER_DIR)")
    return spider_dir()


@dataclass(frozen=True)
class SpiderQuestion:
    """One dev question with its gold SQL."""

    index: int
    db_id: str
    question: str
    gold_sql: str
    sql_struct: dict  # type: ignore[type-arg]


def database_path(db_id: str, root: Path | None = None) -> Path:
    """The SQLite file of a Spider database."""
    base = root or spider_dir()
    return base / "database" / db_id / f"{db_id}.sqlite"


@cache
def questions(executable_only: bool = True) -> tuple[SpiderQuestion, ...]:
    """Dev questions; by default only those whose database file exists (972 of 1,034)."""
    root = spider_dir()
    raw = json.loads((root / "dev.json").read_text())
    out = []
    for i, item in enumerate(raw):
        if executable_only and not database_path(item["db_id"], root).is_file():
            continue
        out.append(SpiderQuestion(i, item["db_id"], item["question"], item["query"], item["sql"]))
    return tuple(out)


@cache
def database_ids() -> tuple[str, ...]:
    """The databases that have a SQLite file."""
    root = spider_dir() / "database"
    return tuple(sorted(p.name for p in root.iterdir() if (p / f"{p.name}.sqlite").is_file()))
