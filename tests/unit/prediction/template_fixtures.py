"""Hand-made schemas for the template generator tests: a shop, and staff with an inferred join."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge


def col(name: str, data_type: str = "TEXT", pk: bool = False, samples: tuple[str, ...] = (),
        comment: str = "") -> ColumnInfo:
    return ColumnInfo(name=name, data_type=data_type, primary_key=pk, sample_values=samples, comment=comment)


SHOP = SchemaContext(
    tables=(
        TableInfo("customers", (
            col("customer_id", "INTEGER", pk=True), col("first_name"), col("last_name"), col("email"),
            col("city", samples=("Berlin", "Paris", "London")), col("country", samples=("Germany", "France", "UK")),
            col("signup_date", "DATE"))),
        TableInfo("orders", (
            col("order_id", "INTEGER", pk=True), col("customer_id", "INTEGER"), col("order_date", "DATE"),
            col("status", samples=("shipped", "pending", "cancelled")), col("total_amount", "DECIMAL(10,2)"))),
        TableInfo("order_items", (
            col("order_item_id", "INTEGER", pk=True), col("order_id", "INTEGER"), col("product_id", "INTEGER"),
            col("quantity", "INTEGER"), col("unit_price", "DECIMAL(10,2)"))),
        TableInfo("products", (
            col("product_id", "INTEGER", pk=True), col("name", samples=("Desk Lamp", "Garden Hose", "Chess Set")),
            col("category", samples=("home", "garden", "toys")), col("price", "DECIMAL(10,2)"),
            col("stock", "INTEGER", comment="units in the warehouse"))),
    ),
    joins=(
        JoinEdge("orders", ("customer_id",), "customers", ("customer_id",)),
        JoinEdge("order_items", ("order_id",), "orders", ("order_id",)),
        JoinEdge("order_items", ("product_id",), "products", ("product_id",)),
    ),
)

#: Mixed-case names and a join that schema discovery inferred (no declared foreign key).
STAFF = SchemaContext(
    tables=(
        TableInfo("Employees", (
            col("EmpId", "INTEGER", pk=True), col("FullName"), col("DeptNo", "INTEGER"), col("Salary", "INTEGER"),
            col("HireDate", "DATE"))),
        TableInfo("Departments", (
            col("DeptNo", "INTEGER", pk=True), col("DeptName", samples=("Sales", "Research", "Support")),
            col("Budget", "INTEGER"))),
    ),
    joins=(JoinEdge("Employees", ("DeptNo",), "Departments", ("DeptNo",), inferred=True, confidence=0.8),),
)

SHOP_DDL = """
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,
                        city TEXT, country TEXT, signup_date DATE);
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(customer_id),
                     order_date DATE, status TEXT, total_amount DECIMAL(10,2));
CREATE TABLE products (product_id INTEGER PRIMARY KEY, name TEXT, category TEXT, price DECIMAL(10,2),
                       stock INTEGER);
CREATE TABLE order_items (order_item_id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(order_id),
                          product_id INTEGER REFERENCES products(product_id), quantity INTEGER,
                          unit_price DECIMAL(10,2));
"""

SHOP_ROWS: dict[str, list[tuple[object, ...]]] = {
    "customers": [(1, "Ada", "Lovelace", "ada@example.com", "London", "UK", "2022-03-01"),
                  (2, "Jean", "Dupont", "jean@example.com", "Paris", "France", "2023-01-15"),
                  (3, "Greta", "Berg", "greta@example.com", "Berlin", "Germany", "2023-06-30"),
                  (4, "Marie", "Curie", "marie@example.com", "Paris", "France", "2024-02-10")],
    "orders": [(10, 1, "2023-02-01", "shipped", 120), (11, 1, "2023-05-03", "pending", 35),
               (12, 2, "2022-11-20", "shipped", 60), (13, 3, "2023-07-07", "cancelled", 15),
               (14, 1, "2024-01-09", "shipped", 80)],
    "products": [(100, "Desk Lamp", "home", 40, 12), (101, "Garden Hose", "garden", 25, 30),
                 (102, "Chess Set", "toys", 55, 4), (103, "Rake", "garden", 15, 0)],
    "order_items": [(1000, 10, 100, 2, 40), (1001, 10, 101, 1, 25), (1002, 11, 103, 1, 15),
                    (1003, 12, 102, 1, 55), (1004, 13, 103, 1, 15), (1005, 14, 100, 2, 40)],
}


def shop_database(path: Path) -> Path:
    """A SQLite shop with a few rows, for running generated SQL for real."""
    conn = sqlite3.connect(path)
    conn.executescript(SHOP_DDL)
    for table, rows in SHOP_ROWS.items():
        marks = ", ".join("?" for _ in rows[0])
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.commit()
    conn.close()
    return path


def ask(question: str, schema: SchemaContext = SHOP, dialect: str = "sqlite", candidates: int = 1
        ) -> GenerationRequest:
    return GenerationRequest(question=question, dialect=dialect, schema=schema,  # type: ignore[arg-type]
                             candidate_count=candidates)
