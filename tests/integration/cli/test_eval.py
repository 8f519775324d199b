"""``chatdb eval`` against a real server: a CSV over the sample shop, and two small Spider databases
registered and trained by the command itself."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.conftest import SHOP, Chatdb
from tests.support.spider import questions, require_spider

SHOP_SET = [
    ("How many customers are there?", "SELECT COUNT(*) FROM customers", "counting"),
    ("How many products are there?", "SELECT COUNT(*) FROM products", "counting"),
    ("Which customers live in Berlin?", "SELECT name FROM customers WHERE city = 'Berlin'", "filtering"),
    ("How many orders are there?", "SELECT COUNT(*) FROM no_such_table", "broken gold"),
]
SPIDER_DATABASES = ("battle_death", "voter_1")
SPIDER_QUESTIONS_EACH = 4


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "gold_sql", "database", "category"])
        writer.writerows((question, sql, SHOP, category) for question, sql, category in rows)
    return path


def _report(done: subprocess.CompletedProcess[str], out: Path) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads((out / "report.json").read_text())


def test_a_csv_set_is_graded_by_category_with_latencies(chatdb: Chatdb, tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = chatdb.run("eval", str(_write_csv(tmp_path / "shop.csv", SHOP_SET)), "--output-dir", str(out))
    report = _report(done, out)

    graded = {q["question"]: q for q in report["questions"]}
    count = graded["How many customers are there?"]
    assert (count["outcome"], count["lenient"], count["strict"]) == ("correct", True, True), count
    assert count["predicted_sql"] and count["served_by"] and count["latency_ms"] > 0
    assert graded["How many orders are there?"]["outcome"] == "gold error"
    assert "NOT_FOUND" in graded["How many orders are there?"]["error"] or "INVALID_ARGUMENT" in \
        graded["How many orders are there?"]["error"]

    overall = report["overall"]
    right = sum(q["lenient"] for q in report["questions"])
    assert (overall["questions"], overall["gold_errors"], overall["lenient"]) == (3, 1, right)
    assert overall["lenient_accuracy"] == round(right / 3, 4)
    assert overall["latency_p50_ms"] <= overall["latency_p95_ms"]
    assert set(report["by_category"]) == {"counting", "filtering", "broken gold"}
    assert report["by_category"]["counting"]["questions"] == 2
    assert report["by_database"][SHOP]["questions"] == 3

    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# ChatDB evaluation: shop.csv")
    assert "| category counting | 2 |" in markdown
    assert "execution accuracy" in done.stdout and "report.md" in done.stdout


def test_asking_a_source_that_does_not_exist_fails_before_asking(chatdb: Chatdb, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("question,gold_sql,database\nHow many?,SELECT 1,nowhere\n")
    done = chatdb.run("eval", str(path), "--output-dir", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: no data source nowhere: register and train it first (or pass --register)"
    assert not (tmp_path / "out").exists()


def test_a_bad_question_set_is_a_usage_error(chatdb: Chatdb, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("question,database\nHow many?,shop\n")
    done = chatdb.run("eval", str(path))
    assert done.returncode == 2
    assert "the header lacks gold_sql" in done.stderr


@pytest.mark.spider
def test_spider_databases_are_registered_trained_and_graded_by_difficulty(chatdb: Chatdb, tmp_path: Path) -> None:
    root = require_spider()
    chosen = []
    for database in SPIDER_DATABASES:
        chosen += [q for q in questions() if q.db_id == database][:SPIDER_QUESTIONS_EACH]
    subset = tmp_path / "dev.json"
    subset.write_text(json.dumps([{"db_id": q.db_id, "question": q.question, "query": q.gold_sql,
                                   "sql": q.sql_struct} for q in chosen]
                                 + [{"db_id": "not_here", "question": "How many?", "query": "SELECT 1"}]))
    out = tmp_path / "report"
    done = chatdb.run("eval", str(subset), "--register", "--databases-dir", str(root / "database"),
                      "--output-dir", str(out))
    report = _report(done, out)

    assert "no SQLite file for database not_here" in done.stderr and "its 1 questions left out" in done.stderr
    assert set(report["by_database"]) == set(SPIDER_DATABASES)
    assert report["overall"]["gold_errors"] == 0
    assert report["overall"]["questions"] == len(chosen)
    assert set(report["by_category"]) <= {"easy", "medium", "hard", "extra"}
    assert {q["source"] for q in report["questions"]} == {"battle-death", "voter-1"}
    with chatdb.client() as client:
        assert {"battle-death", "voter-1"} <= {s.name.removeprefix("dataSources/") for s in client.list_data_sources()}
    again = chatdb.run("eval", str(subset), "--register", "--databases-dir", str(root / "database"),
                       "--output-dir", str(out), "--database", "voter_1")
    assert "source voter-1 exists" in again.stderr
    assert _report(again, out)["overall"]["questions"] == SPIDER_QUESTIONS_EACH
