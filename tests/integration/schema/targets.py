"""The schema every live discovery test builds, written once for three dialects.

customers ─< orders ─< order_lines ─< shipments   (shipments → order_lines is a composite key)
audit_log: no primary key; its customer_id is declared nowhere (an inferable join)
big_orders: a view
PostgreSQL adds a non-public schema: sales.invoices → orders (declared across schemas)
and sales.invoice_notes.invoice_id (inferable, within the schema).
"""

from __future__ import annotations

COMMON = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name VARCHAR(80) NOT NULL,
    email VARCHAR(120) UNIQUE,
    city VARCHAR(60)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    placed_on DATE,
    total NUMERIC(10, 2),
    FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX ix_orders_placed ON orders (placed_on);
CREATE TABLE order_lines (
    order_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    sku VARCHAR(20),
    qty INTEGER,
    PRIMARY KEY (order_id, line_no),
    FOREIGN KEY (order_id) REFERENCES orders (id)
);
CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    shipped_at {timestamp},
    FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no) ON DELETE CASCADE
);
CREATE TABLE audit_log (
    event VARCHAR(40),
    customer_id INTEGER,
    noted_at {timestamp}
);
CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 100;
INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', 'London'),
    (2, 'Alan Turing', 'alan@example.com', 'Manchester'), (3, 'Grace Hopper', NULL, 'New York');
INSERT INTO orders VALUES (10, 1, '2024-03-01', 120.50), (11, 1, '2024-03-05', 20.00), (12, 2, '2024-04-11', 310.99);
INSERT INTO order_lines VALUES (10, 1, 'BK-001', 2), (10, 2, 'EL-042', 1), (12, 1, 'KT-007', 3);
INSERT INTO shipments VALUES (100, 10, 1, '2024-03-02 09:30:00'), (101, 12, 1, '2024-04-12 16:05:00');
INSERT INTO audit_log VALUES ('login', 1, '2024-03-01 08:00:00'), ('export', 2, '2024-04-01 10:00:00');
"""

POSTGRES_EXTRA = """
COMMENT ON TABLE customers IS 'People who buy from us';
COMMENT ON COLUMN customers.email IS 'Contact address';
CREATE SCHEMA sales;
CREATE TABLE sales.invoices (
    id INTEGER PRIMARY KEY,
    order_id INTEGER REFERENCES public.orders (id),
    amount NUMERIC(10, 2)
);
CREATE TABLE sales.invoice_notes (
    invoice_id INTEGER,
    note TEXT
);
INSERT INTO sales.invoices VALUES (1000, 10, 120.50);
INSERT INTO sales.invoice_notes VALUES (1000, 'paid by card');
"""

MYSQL_EXTRA = """
ALTER TABLE customers COMMENT = 'People who buy from us';
ALTER TABLE customers MODIFY email VARCHAR(120) COMMENT 'Contact address';
"""


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def postgres_statements() -> list[str]:
    """The schema on PostgreSQL, with the non-public ``sales`` schema."""
    return _split(COMMON.format(timestamp="TIMESTAMP") + POSTGRES_EXTRA)


def mysql_statements() -> list[str]:
    """The schema on MySQL/MariaDB."""
    return _split(COMMON.format(timestamp="DATETIME") + MYSQL_EXTRA)


def sqlite_statements() -> list[str]:
    """The schema on SQLite."""
    return _split(COMMON.format(timestamp="TIMESTAMP"))
