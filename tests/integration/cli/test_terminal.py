"""What ``chatdb`` shows in a terminal: the training progress bar and the interactive shell, driven
in a pseudo-terminal as a person would drive them."""

from __future__ import annotations

import sqlite3

import pexpect
import pytest

from tests.integration.cli.conftest import SHOP, Chatdb


@pytest.mark.slow
def test_train_follows_the_job_with_a_progress_bar_until_it_succeeds(chatdb: Chatdb) -> None:
    with chatdb.client() as client:
        client.create_data_source(f"sqlite:///{chatdb.shop_db}", data_source_id="shop-train")
    try:
        child = chatdb.spawn("train", "shop-train")
        child.expect(r"\d+%")  # the bar is drawn
        child.expect(r"trainingJobs/\S+ succeeded: 8/8 tables")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        with chatdb.client() as client:
            states = {t.table: t.training_state for t in client.list_tables("shop-train")}
        assert set(states) >= {"customers", "orders", "products"}
        assert len(set(states.values())) == 1  # every table in the same (trained) state
    finally:
        with chatdb.client() as client:
            client.delete_data_source("shop-train")


@pytest.mark.slow
def test_the_shell_answers_questions_and_sql_and_keeps_a_history(chatdb: Chatdb) -> None:
    with sqlite3.connect(chatdb.shop_db) as db:
        (customers,) = db.execute("SELECT COUNT(*) FROM customers").fetchone()
        (category,) = db.execute("SELECT name FROM categories ORDER BY name LIMIT 1").fetchone()
    child = chatdb.spawn("shell", SHOP, PROMPT_TOOLKIT_NO_CPR="1")
    child.expect_exact(f"{SHOP}>")
    child.sendline("How many customers are there?")
    child.expect(rf"│\s+{customers}\s+│")  # the rows (the SQL above them is highlighted, codes between words)
    child.expect_exact("served by")
    child.expect_exact(f"{SHOP}>")
    child.sendline("\\sql SELECT name FROM categories ORDER BY name LIMIT 1")
    child.expect_exact(category)
    child.expect_exact("CALLER_SQL")
    child.expect_exact(f"{SHOP}>")
    child.sendline("\\sql UPDATE customers SET name = 'x'")
    child.expect_exact("error: INVALID_ARGUMENT UNSAFE_SQL")
    child.expect_exact(f"{SHOP}>")
    child.sendline("\\q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    history = (chatdb.data_home / "chatdb" / "shell_history").read_text()
    assert "+How many customers are there?" in history
    assert "+\\sql SELECT name FROM categories ORDER BY name LIMIT 1" in history
