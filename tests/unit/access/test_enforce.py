"""The policy rewriter on its own: what it refuses, how it filters every reference to a protected table,
how it expands stars and which result columns it reports as masked. Rewritten SQL is run on a real
SQLite database where its meaning matters (LEFT JOIN, set operations, hostile attribute values)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlglot

from chatdb_server.access.enforce import (
    ATTRIBUTE_MISSING,
    EXCLUDED_COLUMN,
    POLICY_UNENFORCEABLE,
    Enforcement,
    enforce,
    names_excluded,
)
from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.errors import PermissionDenied
from chatdb_server.sql.dsn import Dialect

COLUMNS = {"customers": ("id", "name", "region", "ssn", "email"), "orders": ("id", "customer_id", "amount", "region"),
           "regions": ("code", "label")}
EU = EffectivePolicies(excluded=frozenset({("customers", "ssn")}), masked=frozenset({("customers", "email")}),
                       row_predicates={"customers": ("region = :region",), "orders": ("region = :region",)},
                       attributes={"region": "EU"})
FILTER = "policy_source.\"region\" = 'EU'"


def rewrite(sql: str, policies: EffectivePolicies = EU, dialect: Dialect = Dialect.SQLITE) -> Enforcement:
    return enforce(sql, dialect, COLUMNS, policies)


@pytest.fixture(scope="module")
def shop() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, region TEXT, ssn TEXT, email TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount INTEGER, region TEXT);
        CREATE TABLE regions (code TEXT, label TEXT);
        INSERT INTO customers VALUES (1, 'Ada', 'EU', '111-11-1111', 'ada@x'), (2, 'Bob', 'US', '222-22-2222', 'bob@x'),
                                     (3, 'Cem', 'EU', '333-33-3333', 'cem@x');
        INSERT INTO orders VALUES (10, 1, 5, 'EU'), (11, 2, 7, 'US'), (12, 2, 9, 'EU');
        INSERT INTO regions VALUES ('EU', 'Europe'), ('US', 'United States');
    """)
    yield conn
    conn.close()


def run(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    enforcement = rewrite(sql)
    assert not enforcement.refused, enforcement.violations
    return sorted(conn.execute(enforcement.sql).fetchall(), key=repr)


def test_without_policies_or_protected_tables_the_sql_is_untouched() -> None:
    assert rewrite("SELECT ssn FROM customers", EffectivePolicies()) == Enforcement("SELECT ssn FROM customers")
    assert rewrite("SELECT code FROM regions LIMIT 5") == Enforcement("SELECT code FROM regions LIMIT 5")


@pytest.mark.parametrize("sql", [
    "SELECT ssn FROM customers",
    "SELECT c.ssn FROM customers AS c",
    'SELECT "SSN" FROM Customers',
    "SELECT UPPER(SUBSTR(ssn, 1, 3)) FROM customers",
    "SELECT name FROM customers WHERE ssn LIKE '1%'",
    "SELECT name FROM customers ORDER BY ssn",
    "SELECT COUNT(*) FROM customers GROUP BY ssn",
    "SELECT id FROM customers GROUP BY id HAVING MAX(ssn) > '1'",
    "SELECT o.id FROM orders o JOIN customers c ON c.ssn = CAST(o.amount AS TEXT)",
    "SELECT a.id FROM customers a JOIN customers b USING (ssn)",
    "SELECT x FROM (SELECT ssn AS x FROM customers) AS d",
    "WITH t AS (SELECT ssn FROM customers) SELECT * FROM t",
    "SELECT name FROM customers UNION SELECT ssn FROM customers",
    "SELECT (SELECT MAX(c.ssn) FROM customers c WHERE c.id = o.customer_id) FROM orders o",
    "SELECT CASE WHEN ssn IS NULL THEN 0 ELSE 1 END FROM customers",
    "SELECT id, LAG(ssn) OVER (ORDER BY id) FROM customers",
    "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM customers WHERE ssn = '1')",
])
def test_sql_naming_an_excluded_column_is_refused(sql: str) -> None:
    enforcement = rewrite(sql)
    assert enforcement.refused and enforcement.sql == "" and enforcement.violations[0].reason == EXCLUDED_COLUMN


@pytest.mark.parametrize(("sql", "complaint"), [
    ("WITH customers AS (SELECT 1 AS id) SELECT id FROM customers", "named like a protected table"),
    ("WITH RECURSIVE orders(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM orders WHERE id < 3) SELECT id FROM orders",
     "named like a protected table"),
    ("SELECT j.value FROM json_each('[1]') AS j, customers", "table function"),
    ("SELECT c.a FROM customers AS c(a, b)", "renames a protected table's columns"),
    ("SELECT * FROM customers NATURAL JOIN orders", "USING or NATURAL"),
    ("SELECT * FROM customers JOIN orders USING (id)", "USING or NATURAL"),
    ("SELECT * FROM (customers c JOIN orders o ON c.id = o.customer_id)", "joins in parentheses"),
])
def test_sql_that_cannot_be_rewritten_safely_is_refused(sql: str, complaint: str) -> None:
    enforcement = rewrite(sql, dialect=Dialect.POSTGRESQL)
    assert enforcement.refused and enforcement.violations[0].reason == POLICY_UNENFORCEABLE
    assert complaint in enforcement.violations[0].message


@pytest.mark.parametrize(("sql", "references"), [
    ("SELECT name FROM customers", 1),
    ("SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id", 2),
    ("SELECT a.name FROM customers a, customers b WHERE a.id = b.id", 2),
    ("SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders)", 2),
    ("SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)", 2),
    ("WITH big AS (SELECT * FROM orders WHERE amount > 1) "
     "SELECT b.id FROM big b JOIN customers c ON c.id = b.customer_id", 2),
    ("SELECT id FROM customers UNION SELECT id FROM orders INTERSECT SELECT customer_id FROM orders", 3),
    ("SELECT d.n FROM (SELECT name AS n FROM customers) AS d", 1),
    ("SELECT (SELECT COUNT(*) FROM orders) AS n, name FROM customers", 2),
])
def test_every_reference_to_a_protected_table_is_filtered(sql: str, references: int) -> None:
    enforcement = rewrite(sql)
    assert not enforcement.refused
    assert enforcement.sql.count(FILTER) == references
    assert enforcement.sql.count("AS policy_source") == references


def test_a_filtered_reference_keeps_its_name_and_lists_only_visible_columns() -> None:
    sql = rewrite("SELECT c.name FROM customers AS c LEFT JOIN orders ON orders.customer_id = c.id",
                  dialect=Dialect.POSTGRESQL).sql
    assert ('(SELECT "id", "name", "region", "email" FROM customers AS policy_source '
            f"WHERE ({FILTER}) OFFSET 0) AS c") in sql
    assert f"LEFT JOIN (SELECT * FROM orders AS policy_source WHERE ({FILTER}) OFFSET 0) AS orders" in sql
    assert "OFFSET" not in rewrite("SELECT name FROM customers", dialect=Dialect.MYSQL).sql


def test_rows_of_other_regions_never_come_back(shop: sqlite3.Connection) -> None:
    assert run(shop, "SELECT name FROM customers") == [("Ada",), ("Cem",)]
    assert run(shop, "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id") == [(10,)]
    assert run(shop, "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers)") == [(10,)]
    assert run(shop, "SELECT region FROM customers UNION SELECT region FROM orders") == [("EU",)]
    assert run(shop, "SELECT name FROM customers EXCEPT SELECT name FROM customers WHERE id = 1") == [("Cem",)]
    assert run(shop, "SELECT COUNT(*) FROM customers a, customers b") == [(4,)]


def test_a_left_join_keeps_unmatched_rows_and_filters_only_the_joined_table(shop: sqlite3.Connection) -> None:
    rows = run(shop, "SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id")
    assert rows == [("Ada", 10), ("Cem", None)]


def test_stars_expand_without_excluded_columns(shop: sqlite3.Connection) -> None:
    assert run(shop, "SELECT * FROM customers WHERE id = 1") == [(1, "Ada", "EU", "ada@x")]
    assert run(shop, "SELECT c.*, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id") == [
        (1, "Ada", "EU", "ada@x", 5)]
    assert run(shop, "SELECT * FROM (SELECT * FROM customers) AS d WHERE d.id = 3") == [(3, "Cem", "EU", "cem@x")]
    shown = rewrite("WITH t AS (SELECT * FROM customers) SELECT * FROM t", dialect=Dialect.MYSQL).sql
    assert shown.startswith("WITH t AS (SELECT customers.`id`, customers.`name`, customers.`region`, "
                            "customers.`email` FROM") and "ssn" not in shown


@pytest.mark.parametrize(("sql", "masked"), [
    ("SELECT name, email FROM customers", (1,)),
    ("SELECT * FROM customers", (3,)),
    ("SELECT e FROM (SELECT email AS e FROM customers) AS d", (0,)),
    ("WITH t(a, b) AS (SELECT id, email FROM customers) SELECT b, a FROM t", (0,)),
    ("SELECT UPPER(email), LENGTH(name) FROM customers", (0,)),
    ("SELECT MIN(email), MAX(email), COUNT(email), COUNT(DISTINCT email) FROM customers", (0, 1)),
    ("SELECT name FROM customers WHERE email LIKE 'a%' ORDER BY email", ()),
    ("SELECT id FROM orders UNION SELECT email FROM customers", (0,)),
    ("SELECT CASE WHEN email = 'x' THEN 'yes' END, id FROM customers", (0,)),
    ("SELECT (SELECT MAX(c.email) FROM customers c WHERE c.id = o.customer_id), o.id FROM orders o", (0,)),
    ("SELECT id, FIRST_VALUE(email) OVER (ORDER BY id) FROM customers", (1,)),
    ("SELECT o.amount FROM orders o JOIN customers c ON c.email = o.region", ()),
])
def test_result_columns_derived_from_masked_columns_are_reported(sql: str, masked: tuple[int, ...]) -> None:
    enforcement = rewrite(sql)
    assert not enforcement.refused, enforcement.violations
    assert enforcement.masked == masked


def test_masked_values_are_followed_into_lateral_subqueries_and_outer_references() -> None:
    lateral = "SELECT x.*, c.id FROM customers c CROSS JOIN LATERAL (SELECT c.id AS k, c.email AS e) AS x"
    assert rewrite(lateral, dialect=Dialect.POSTGRESQL).masked == (1,)
    assert rewrite("SELECT (SELECT email FROM orders LIMIT 1) FROM customers").masked == (0,)


def test_a_predicate_binds_attributes_as_literals_and_qualifies_its_columns() -> None:
    hostile = EffectivePolicies(row_predicates={"orders": ("region = :region AND amount > 0",)},
                                attributes={"region": "x' OR '1'='1 \\"})
    mysql = rewrite("SELECT id FROM orders", hostile, Dialect.MYSQL).sql
    assert "policy_source.`region` = 'x'' OR ''1''=''1 \\\\'" in mysql and "policy_source.`amount` > 0" in mysql
    postgres = sqlglot.parse_one(rewrite("SELECT id FROM orders", hostile, Dialect.POSTGRESQL).sql, read="postgres")
    literals = [lit.this for lit in postgres.find_all(sqlglot.exp.Literal) if lit.is_string]
    assert literals == ["x' OR '1'='1 \\"]


def test_a_hostile_attribute_value_matches_nothing(shop: sqlite3.Connection) -> None:
    hostile = EffectivePolicies(row_predicates={"orders": ("region = :region",)},
                                attributes={"region": "EU' OR '1'='1"})
    assert shop.execute(rewrite("SELECT id FROM orders", hostile).sql).fetchall() == []


def test_a_caller_without_a_needed_attribute_is_permission_denied() -> None:
    lacking = EffectivePolicies(row_predicates={"orders": ("region = :region",)}, attributes={"team": "a"})
    with pytest.raises(PermissionDenied) as denied:
        rewrite("SELECT c.id FROM customers c JOIN orders o ON o.customer_id = c.id", lacking)
    assert denied.value.reason == ATTRIBUTE_MISSING and denied.value.metadata["attribute"] == "region"
    assert not rewrite("SELECT id FROM customers", lacking).refused  # a query that does not read orders runs


def test_a_predicate_over_a_column_the_table_no_longer_has_is_refused() -> None:
    stale = EffectivePolicies(row_predicates={"orders": ("country = 'FR'",)})
    assert rewrite("SELECT id FROM orders", stale).violations[0].reason == POLICY_UNENFORCEABLE


def test_masking_alone_leaves_the_tables_unwrapped() -> None:
    masking = EffectivePolicies(masked=frozenset({("customers", "email")}))
    enforcement = rewrite("SELECT id, email FROM customers", masking)
    assert enforcement.sql == "SELECT id, email FROM customers" and enforcement.masked == (1,)


def test_examples_naming_excluded_columns_are_recognised() -> None:
    assert names_excluded("SELECT SSN FROM customers", Dialect.SQLITE, EU)
    assert names_excluded("SELECT a.id FROM customers a JOIN customers b USING (ssn)", Dialect.SQLITE, EU)
    assert names_excluded("SELECT FROM WHERE", Dialect.SQLITE, EU)
    assert not names_excluded("SELECT name, email FROM customers", Dialect.SQLITE, EU)
    assert not names_excluded("SELECT ssn FROM customers", Dialect.SQLITE, EffectivePolicies())
