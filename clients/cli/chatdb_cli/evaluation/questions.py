"""Question sets for ``chatdb eval``: Spider's format (a ``dev.json``-like list of ``db_id``,
``question``, ``query`` and the parsed ``sql``, beside a ``database/<db_id>/<db_id>.sqlite`` folder), or
a CSV with ``question``, ``gold_sql`` and ``database`` columns (and an optional ``category``)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from chatdb_cli.evaluation.hardness import hardness

CSV_COLUMNS = ("question", "gold_sql", "database")
UNCATEGORISED = "all"


class QuestionSetError(ValueError):
    """A question set that cannot be read, with what is wrong and where."""


@dataclass(frozen=True)
class Case:
    """One question of a set: what to ask, of which database, the SQL that answers it, and the
    category its accuracy is reported under."""

    number: int
    """Its position in the file, from 1."""
    question: str
    gold_sql: str
    database: str
    """The database as the set names it (Spider's ``db_id``, the CSV's ``database``)."""
    category: str = UNCATEGORISED


def source_id(database: str) -> str:
    """The data source a database of the set is asked through: its name in lower case, anything but
    letters and digits as '-' (Spider's ``concert_singer`` is ``concert-singer``)."""
    return re.sub(r"[^a-z0-9]+", "-", database.lower()).strip("-")


def load(path: Path, databases: Collection[str] = (), limit: int = 0) -> list[Case]:
    """The cases of a ``.json`` (Spider) or ``.csv`` file, only of ``databases`` when any are named,
    the first ``limit`` of them when it is above 0."""
    if not path.is_file():
        raise QuestionSetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        cases = _spider(path)
    elif suffix == ".csv":
        cases = _csv(path)
    else:
        raise QuestionSetError(f"{path}: a question set is a Spider .json or a .csv file")
    if databases:
        cases = [case for case in cases if case.database in databases]
    return cases[:limit] if limit > 0 else cases


def _spider(path: Path) -> list[Case]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise QuestionSetError(f"{path}: not readable JSON ({error})") from None
    if not isinstance(items, list):
        raise QuestionSetError(f"{path}: a Spider file is a JSON list of questions")
    cases = []
    for number, item in enumerate(items, start=1):
        missing = [key for key in ("db_id", "question", "query") if not isinstance(item, dict) or key not in item]
        if missing:
            raise QuestionSetError(f"{path}: question {number} lacks {', '.join(missing)}")
        parsed = item.get("sql")
        category = hardness(parsed) if isinstance(parsed, dict) else UNCATEGORISED
        cases.append(Case(number, item["question"], item["query"], item["db_id"], category))
    return cases


def _csv(path: Path) -> list[Case]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or ()]
            missing = [name for name in CSV_COLUMNS if name not in header]
            if missing:
                raise QuestionSetError(f"{path}: the header lacks {', '.join(missing)} "
                                       f"(columns: {', '.join(CSV_COLUMNS)}, category optional)")
            reader.fieldnames = header
            cases = []
            for number, row in enumerate(reader, start=1):
                values = {name: (row.get(name) or "").strip() for name in (*CSV_COLUMNS, "category")}
                empty = [name for name in CSV_COLUMNS if not values[name]]
                if empty:
                    raise QuestionSetError(f"{path}: row {number} has no {', '.join(empty)}")
                cases.append(Case(number, values["question"], values["gold_sql"], values["database"],
                                  values["category"] or UNCATEGORISED))
            return cases
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise QuestionSetError(f"{path}: not a readable CSV ({error})") from None


def spider_database(databases_dir: Path, database: str) -> Path | None:
    """The SQLite file of a database in a Spider-style folder (``<id>/<id>.sqlite``, or ``<id>.sqlite``
    beside the others), None when there is none."""
    for candidate in (databases_dir / database / f"{database}.sqlite", databases_dir / f"{database}.sqlite",
                      databases_dir / f"{database}.db"):
        if candidate.is_file():
            return candidate
    return None
