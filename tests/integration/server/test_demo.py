"""The tour behind `make run`: discovery, training and answers on the sample shop, through the public API."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.demo import QUESTIONS, run_demo
from tests.support.server import server_settings


@pytest.mark.slow
async def test_demo_tours_the_sample_shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_demo(server_settings(tmp_path)) == 0
    out = capsys.readouterr().out
    for table in ("customers", "orders", "order_items", "products", "categories", "order_totals"):
        assert f" {table} " in out
    assert "[declared]" in out and "inferred, confidence" in out
    assert "100%  DONE" in out and ": SUCCEEDED" in out
    assert out.count("  SQL: SELECT") == len(QUESTIONS)
    assert "refused:" not in out
    assert "level FULL" in out
    assert "SELECT COUNT(*) FROM customers" in out
    assert "The browser console comes with it: open http://127.0.0.1:" in out and "admin.key" in out
