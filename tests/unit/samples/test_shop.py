"""The sample shop database: deterministic, realistic, and shaped to show discovery at work."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

from chatdb_server.samples.shop import build_shop_database


def _dump_digest(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()
    finally:
        db.close()


def test_same_seed_same_contents_other_seed_other_contents(tmp_path: Path) -> None:
    first = _dump_digest(build_shop_database(tmp_path / "a.db"))
    again = _dump_digest(build_shop_database(tmp_path / "a.db"))  # rebuilt in place
    other = _dump_digest(build_shop_database(tmp_path / "b.db", seed=8))
    assert first == again
    assert first != other


def test_shape_a_newcomer_recognises(tmp_path: Path) -> None:
    db = sqlite3.connect(build_shop_database(tmp_path / "shop.db"))
    try:
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in
                  ("customers", "products", "categories", "orders", "order_items", "payments", "reviews")}
        assert all(count > 0 for count in counts.values())
        assert 300 <= counts["orders"] <= 1000
        first, last = db.execute("SELECT MIN(order_date), MAX(order_date) FROM orders").fetchone()
        assert first.startswith("2023") and last.startswith("2024")
        assert db.execute("SELECT COUNT(*) FROM categories WHERE name = 'Books'").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(DISTINCT city) FROM customers").fetchone()[0] >= 10
        declared = {row[2] for row in db.execute("PRAGMA foreign_key_list(orders)")}
        assert declared == {"customers"}
        assert list(db.execute("PRAGMA foreign_key_list(reviews)")) == []  # joins only inferable
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        key = [row[1] for row in sorted(db.execute("PRAGMA table_info(order_items)"), key=lambda r: r[5]) if row[5]]
        assert key == ["order_id", "product_id"]
        totals = db.execute("SELECT SUM(items_total) FROM order_totals").fetchone()[0]
        assert abs(totals - db.execute("SELECT SUM(total_amount) FROM orders").fetchone()[0]) < 0.01
        orphans = db.execute("SELECT COUNT(*) FROM reviews WHERE product_id NOT IN (SELECT id FROM products)")
        assert orphans.fetchone()[0] == 0
    finally:
        db.close()


def test_module_runs_as_a_script(tmp_path: Path) -> None:
    target = tmp_path / "out" / "shop.db"
    done = subprocess.run([sys.executable, "-m", "chatdb_server.samples.shop", str(target)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "customers 120" in done.stdout
    assert target.is_file()
