"""Every ``chatdb`` command against a real server with the sample shop database: what it prints, in
each format, and how it fails."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.integration.cli.conftest import SHOP, Chatdb

COUNT_CUSTOMERS = "How many customers are there?"


def shop_rows(chatdb: Chatdb, sql: str) -> list[tuple[object, ...]]:
    """What the shop database itself answers, to compare the command's rows with."""
    with sqlite3.connect(chatdb.shop_db) as db:
        return db.execute(sql).fetchall()


def assert_ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def assert_refused(done: subprocess.CompletedProcess[str], status: str, exit_code: int = 1) -> str:
    """The run failed with one error line naming ``status``; that line."""
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {status}"), lines[0]
    return lines[0]


# --- sources ---------------------------------------------------------------------------------------

def test_sources_are_added_listed_shown_refreshed_and_removed(chatdb: Chatdb) -> None:
    added = chatdb.run("sources", "add", "shop-copy", f"sqlite:///{chatdb.shop_db}")
    assert_ok(added)
    assert "added shop-copy (sqlite, 8 tables)" in added.stdout

    listed = chatdb.run("sources", "list", "--format", "json")
    assert_ok(listed)
    by_name = {source["name"]: source for source in json.loads(listed.stdout)}
    assert by_name["shop-copy"]["tables"] == 8 and by_name["shop-copy"]["dialect"] == "sqlite"
    assert SHOP in by_name

    shown = chatdb.run("sources", "show", "shop-copy")
    assert_ok(shown)
    for expected in ("customers", "order_items", "email VARCHAR(120)", "PK",
                     "FK (customer_id) → customers(id)", "joins", "orders.customer_id → customers.id"):
        assert expected in shown.stdout, expected

    refreshed = chatdb.run("sources", "refresh", "shop-copy")
    assert_ok(refreshed)
    assert "refreshed shop-copy" in refreshed.stdout and "8 unchanged" in refreshed.stdout

    declined = chatdb.run("sources", "rm", "shop-copy", stdin="n\n")
    assert declined.returncode == 130
    assert "Delete data source shop-copy" in declined.stderr
    assert "shop-copy" in chatdb.run("sources", "list", "--format", "csv").stdout

    removed = chatdb.run("sources", "rm", "shop-copy", "--yes")
    assert_ok(removed)
    assert "deleted shop-copy" in removed.stdout
    assert_refused(chatdb.run("sources", "show", "shop-copy"), "NOT_FOUND NOT_FOUND")


def test_a_refresh_prints_the_drift_of_the_schema(chatdb: Chatdb, tmp_path: Path) -> None:
    drifting = tmp_path / "drift.db"
    with sqlite3.connect(drifting) as db:
        db.executescript("CREATE TABLE kept (id INTEGER PRIMARY KEY); CREATE TABLE dropped (id INTEGER);"
                         "CREATE TABLE widened (id INTEGER PRIMARY KEY);")
    assert_ok(chatdb.run("sources", "add", "drift", f"sqlite:///{drifting}"))
    with sqlite3.connect(drifting) as db:
        db.executescript("DROP TABLE dropped; CREATE TABLE fresh (id INTEGER);"
                         "ALTER TABLE widened ADD COLUMN note TEXT;")
    refreshed = chatdb.run("sources", "refresh", "drift")
    assert_ok(refreshed)
    assert "+ fresh" in refreshed.stdout
    assert "- dropped" in refreshed.stdout
    assert "~ widened" in refreshed.stdout and "note" in refreshed.stdout
    assert "1 unchanged" in refreshed.stdout
    assert_ok(chatdb.run("sources", "rm", "drift", "--yes"))


# --- ask and sql -------------------------------------------------------------------------------------

def test_ask_shows_the_sql_explanation_rows_level_and_who_served_it(chatdb: Chatdb) -> None:
    (expected,) = shop_rows(chatdb, "SELECT COUNT(*) FROM customers")[0]
    answered = chatdb.run("ask", SHOP, COUNT_CUSTOMERS)
    assert_ok(answered)
    out = answered.stdout
    assert "SELECT COUNT(*) FROM customers" in out
    assert "Read as" in out  # the template generator's explanation
    assert f"There are {expected} customers." in out  # the answer in a sentence
    assert re.search(rf"│\s+{expected}\s+│", out), out
    assert "1 row · level 0 FULL · served by TEMPLATE (template)" in out
    assert f"query dataSources/{SHOP}/queries/" in out


def test_answers_come_as_csv_json_and_parquet(chatdb: Chatdb, tmp_path: Path) -> None:
    (expected,) = shop_rows(chatdb, "SELECT COUNT(*) FROM customers")[0]

    as_csv = chatdb.run("ask", SHOP, COUNT_CUSTOMERS, "--format", "csv")
    assert_ok(as_csv)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["COUNT(*)"], [str(expected)]]

    as_json = chatdb.run("ask", SHOP, COUNT_CUSTOMERS, "-f", "json")
    assert_ok(as_json)
    document = json.loads(as_json.stdout)
    assert document["rows"] == [{"COUNT(*)": expected}]
    assert document["sql"].startswith("SELECT COUNT(*) FROM customers")
    assert document["degradation_level"] == "FULL"
    assert document["answer_text"] == f"There are {expected} customers." and document["low_confidence"] is False
    assert document["served_by"] in ("TEMPLATE", "CACHE")  # the same question again may come from the cache

    target = tmp_path / "answer.parquet"
    as_parquet = chatdb.run("ask", SHOP, COUNT_CUSTOMERS, "--format", "parquet", "--output", str(target))
    assert_ok(as_parquet)
    assert "wrote 1 row to" in as_parquet.stderr
    assert pq.read_table(target).to_pylist() == [{"COUNT(*)": expected}]

    assert_refused(chatdb.run("ask", SHOP, COUNT_CUSTOMERS, "--format", "parquet"), "--format parquet", exit_code=2)


def test_sql_returns_typed_rows_in_every_format(chatdb: Chatdb, tmp_path: Path) -> None:
    sql = "SELECT id, name, price FROM products ORDER BY price DESC, id LIMIT 5"
    expected = shop_rows(chatdb, sql)

    table = chatdb.run("sql", SHOP, sql)
    assert_ok(table)
    assert "served by CALLER_SQL" in table.stdout
    assert all(name in table.stdout for _, name, _ in expected)

    as_csv = chatdb.run("sql", SHOP, sql, "--format", "csv", "--output", str(tmp_path / "rows.csv"))
    assert_ok(as_csv)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "rows.csv").read_text())))
    assert [(int(r["id"]), r["name"], float(r["price"])) for r in rows] == expected

    as_json = chatdb.run("sql", SHOP, sql, "--format", "json")
    assert_ok(as_json)
    document = json.loads(as_json.stdout)
    assert [(r["id"], r["name"], r["price"]) for r in document["rows"]] == expected
    assert [c["type"] for c in document["columns"]][:2] == ["INTEGER", "STRING"]

    target = tmp_path / "rows.parquet"
    assert_ok(chatdb.run("sql", SHOP, sql, "--format", "parquet", "-o", str(target)))
    read = pq.read_table(target)
    assert [str(t) for t in read.schema.types][:2] == ["int64", "string"]
    assert [tuple(r.values()) for r in read.to_pylist()] == expected


def test_the_guard_refuses_sql_that_writes(chatdb: Chatdb) -> None:
    line = assert_refused(chatdb.run("sql", SHOP, "DELETE FROM products"), "INVALID_ARGUMENT UNSAFE_SQL")
    assert "DELETE is not a SELECT query" in line
    assert shop_rows(chatdb, "SELECT COUNT(*) FROM products")[0][0] > 0


def test_an_unknown_source_is_not_found(chatdb: Chatdb) -> None:
    line = assert_refused(chatdb.run("ask", "no-such-source", COUNT_CUSTOMERS), "NOT_FOUND NOT_FOUND")
    assert "dataSources/no-such-source" in line


def test_a_server_that_is_down_exits_3(chatdb: Chatdb) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    line = assert_refused(chatdb.run("--address", closed, "--timeout", "5", "status"), "UNAVAILABLE", exit_code=3)
    assert "Connection refused" in line or "failed to connect" in line.lower()


def test_a_bad_key_is_refused(chatdb: Chatdb) -> None:
    assert_refused(chatdb.run("--api-key", "not-a-key", "sources", "list"), "UNAUTHENTICATED")


# --- history, feedback, examples, status ----------------------------------------------------------

def test_history_lists_questions_and_feedback_is_recorded(chatdb: Chatdb) -> None:
    question = "How many products are there?"
    answer = json.loads(chatdb.run("ask", SHOP, question, "--format", "json").stdout)

    history = chatdb.run("history", SHOP, "--limit", "1", "--format", "json")
    assert_ok(history)
    (latest,) = json.loads(history.stdout)
    assert latest["query"] == answer["query"] and latest["question"] == question
    assert latest["state"] == "succeeded" and latest["served_by"] == "template"

    corrected = "SELECT COUNT(*) FROM products WHERE stock > 0"
    rated = chatdb.run("feedback", answer["query"], "--bad", "--sql", corrected, "--comment", "only in stock")
    assert_ok(rated)
    assert f"recorded feedback on {answer['query']}" in rated.stdout
    assert "example dataSources/shop/examples/" in rated.stdout

    (after,) = json.loads(chatdb.run("history", SHOP, "-n", "1", "-f", "json").stdout)
    assert after["feedback"] == "incorrect"
    examples = json.loads(chatdb.run("examples", "list", SHOP, "--format", "json").stdout)
    assert {(e["question"], e["sql"], e["source"]) for e in examples} >= {(question, corrected, "feedback")}

    assert_refused(chatdb.run("feedback", answer["query"]), "say --good or --bad", exit_code=2)
    assert_refused(chatdb.run("feedback", f"dataSources/{SHOP}/queries/q0000", "--good"), "NOT_FOUND")


def test_examples_are_added_listed_and_removed(chatdb: Chatdb) -> None:
    added = chatdb.run("examples", "add", SHOP, "How many orders were shipped?",
                       "SELECT COUNT(*) FROM orders WHERE status = 'shipped'")
    assert_ok(added)
    name = added.stdout.strip().removeprefix("added ")
    assert name.startswith(f"dataSources/{SHOP}/examples/")

    listed = chatdb.run("examples", "list", SHOP)
    assert_ok(listed)
    assert name in listed.stdout and "How many orders were shipped?" in listed.stdout

    assert_ok(chatdb.run("examples", "rm", name))
    names = [e["example"] for e in json.loads(chatdb.run("examples", "list", SHOP, "-f", "json").stdout)]
    assert name not in names
    assert_refused(chatdb.run("examples", "rm", name), "NOT_FOUND")


def test_status_shows_the_level_and_each_dependency(chatdb: Chatdb) -> None:
    shown = chatdb.run("status")
    assert_ok(shown)
    assert "level 0 FULL" in shown.stdout
    for dependency in ("metadata", "training", "prediction"):
        assert dependency in shown.stdout


# --- connection settings and the one `chatdb` script -------------------------------------------

def test_the_profile_file_connects_and_flags_and_variables_beat_it(chatdb: Chatdb, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "profiles.toml").write_text(
        f'[default]\naddress = "{chatdb.address}"\napi_key = "{chatdb.api_key}"\n\n'
        '[nowhere]\naddress = "127.0.0.1:9"\ntimeout = 5\n')
    from_file = chatdb.run("status", CHATDB_ADDRESS="", CHATDB_API_KEY="", CHATDB_CONFIG_DIR=str(config))
    assert_ok(from_file)
    assert "level 0 FULL" in from_file.stdout

    unreachable = chatdb.run("--profile", "nowhere", "status", CHATDB_ADDRESS="", CHATDB_CONFIG_DIR=str(config))
    assert_refused(unreachable, "UNAVAILABLE", exit_code=3)
    assert_ok(chatdb.run("--profile", "nowhere", "--address", chatdb.address, "status",
                         CHATDB_ADDRESS="", CHATDB_CONFIG_DIR=str(config)))
    assert_ok(chatdb.run("status", CHATDB_PROFILE="nowhere", CHATDB_CONFIG_DIR=str(config)))  # the variable wins

    missing = chatdb.run("--profile", "absent", "status", CHATDB_CONFIG_DIR=str(config))
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: profile 'absent' not found in profiles.toml"


def test_the_chatdb_script_runs_server_commands_and_hands_on_the_rest(chatdb: Chatdb) -> None:
    script = str(Path(sys.executable).with_name("chatdb"))
    helped = subprocess.run([script, "--help"], capture_output=True, text=True, env=chatdb.env(), check=False)
    assert helped.returncode == 0, helped.stderr
    for command in ("serve", "migrate", "keys", "secrets", "sources", "ask", "train", "shell", "status"):
        assert command in helped.stdout, command

    secret = subprocess.run([script, "keys", "secret"], capture_output=True, text=True, env=chatdb.env(),
                            check=False)
    assert secret.returncode == 0 and len(secret.stdout.strip()) >= 32  # argparse's `keys`, not the CLI's

    asked = subprocess.run([script, "ask", SHOP, COUNT_CUSTOMERS, "--format", "csv"], capture_output=True,
                           text=True, env=chatdb.env(), check=False)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.splitlines()[0] == "COUNT(*)"

    usage = subprocess.run([script, "ask"], capture_output=True, text=True, env=chatdb.env(), check=False)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr


# --- the shell, piped -----------------------------------------------------------------------------

def test_the_shell_answers_lines_read_from_a_pipe(chatdb: Chatdb) -> None:
    (expected,) = shop_rows(chatdb, "SELECT COUNT(*) FROM customers")[0]
    (first,) = shop_rows(chatdb, "SELECT name FROM categories ORDER BY name LIMIT 1")[0]
    done = chatdb.run("shell", SHOP, stdin=f"{COUNT_CUSTOMERS}\n\\sql SELECT name FROM categories ORDER BY name "
                                           "LIMIT 1\n\\sql DROP TABLE customers\n\\q\nnot reached\n")
    assert_ok(done)
    assert "SELECT COUNT(*) FROM customers" in done.stdout and str(expected) in done.stdout
    assert first in done.stdout and "served by CALLER_SQL" in done.stdout
    assert done.stderr.startswith("error: INVALID_ARGUMENT UNSAFE_SQL")  # refused, and the session went on
    assert "not reached" not in done.stdout + done.stderr


def test_the_shell_continues_the_conversation(chatdb: Chatdb) -> None:
    (berliners,) = shop_rows(chatdb, "SELECT COUNT(*) FROM customers WHERE city = 'Berlin'")[0]
    done = chatdb.run("shell", SHOP, stdin="List the customers\nonly those in Berlin\nhow many are there?\n\\q\n")
    assert_ok(done)
    assert "WHERE city = 'Berlin'" in done.stdout  # the second line refined the first answer
    assert "SELECT COUNT(*) FROM customers WHERE city = 'Berlin'" in done.stdout  # and the third the second
    assert str(berliners) in done.stdout


def test_after_a_low_confidence_reply_the_shell_starts_afresh_and_history_says_so(chatdb: Chatdb) -> None:
    with chatdb.client() as client:
        client.update_data_source(SHOP, min_confidence=1.0)
        try:
            done = chatdb.run("shell", SHOP, stdin="How many orders are there?\nHow many payments are there?\n\\q\n")
            recent = json.loads(chatdb.run("history", SHOP, "-n", "2", "-f", "json").stdout)
        finally:
            client.update_data_source(SHOP, min_confidence=0.0)
    assert_ok(done)
    assert done.stderr == ""  # the second question did not follow up the first, which answered nothing
    assert [q["question"] for q in recent] == ["How many payments are there?", "How many orders are there?"]
    assert [q["state"] for q in recent] == ["low_confidence", "low_confidence"]


@pytest.mark.parametrize("args", [pytest.param(("shell", "no-such-source"), id="shell"),
                                  pytest.param(("history", "no-such-source"), id="history"),
                                  pytest.param(("train", "no-such-source"), id="train")])
def test_commands_on_an_unknown_source_fail_with_not_found(chatdb: Chatdb, args: tuple[str, ...]) -> None:
    assert_refused(chatdb.run(*args), "NOT_FOUND")
