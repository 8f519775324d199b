"""The SQL guard's rules, one case per line."""

from __future__ import annotations

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import GuardVerdict, SqlGuard

PG, MY, LITE = Dialect.POSTGRESQL, Dialect.MYSQL, Dialect.SQLITE
KNOWN = {
    "singer": {"singer_id", "name", "country", "age"},
    "concert": {"concert_id", "singer_id", "year", "venue"},
    "sales.orders": {"order_id", "total"},
}


def check(sql: str, dialect: Dialect = PG, max_rows: int = 100) -> GuardVerdict:
    return SqlGuard().check(sql, dialect, KNOWN, max_rows)


@pytest.mark.parametrize(("dialect", "sql"), [
    pytest.param(PG, "SELECT name FROM singer", id="plain"),
    pytest.param(PG, "SELECT s.name, c.year FROM singer AS s JOIN concert c ON s.singer_id = c.singer_id", id="join"),
    pytest.param(PG, "WITH old AS (SELECT name, age FROM singer WHERE age > 40) SELECT name FROM old", id="cte"),
    pytest.param(PG, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 5) SELECT x FROM r",
                 id="recursive-cte"),
    pytest.param(PG, "SELECT name FROM singer UNION SELECT venue FROM concert", id="union"),
    pytest.param(PG, "SELECT name FROM singer INTERSECT SELECT venue FROM concert", id="intersect"),
    pytest.param(PG, "SELECT name FROM singer EXCEPT SELECT venue FROM concert", id="except"),
    pytest.param(PG, "SELECT country, count(*) AS n FROM singer GROUP BY country HAVING count(*) > 1 ORDER BY n",
                 id="alias-in-order-by"),
    pytest.param(PG, "SELECT name FROM singer s WHERE EXISTS (SELECT 1 FROM concert c WHERE c.singer_id = s.singer_id)",
                 id="correlated-subquery"),
    pytest.param(PG, "SELECT t.n FROM (SELECT count(*) AS n FROM singer) AS t", id="derived-table"),
    pytest.param(PG, "SELECT a FROM (VALUES (1), (2)) AS v(a)", id="values-alias-columns"),
    pytest.param(PG, "SELECT order_id FROM sales.orders", id="other-schema"),
    pytest.param(PG, "SELECT name FROM public.singer", id="default-schema-qualified"),
    pytest.param(PG, "SELECT to_char(now(), 'YYYY'), date_trunc('month', now()), coalesce(name, '?') FROM singer",
                 id="pg-functions"),
    pytest.param(PG, "SELECT name, row_number() OVER (PARTITION BY country ORDER BY age) FROM singer", id="window"),
    pytest.param(PG, "SELECT CASE WHEN age > 30 THEN 'old' ELSE 'young' END, CAST(age AS text) FROM singer",
                 id="case-cast"),
    pytest.param(MY, "SELECT name, IFNULL(country, ''), DATE_FORMAT(NOW(), '%Y') FROM singer", id="mysql-functions"),
    pytest.param(MY, "SELECT `name` FROM `singer` WHERE name = \"Joe\"", id="mysql-quotes"),
    pytest.param(LITE, "SELECT name, strftime('%Y', 'now'), julianday('now') FROM singer", id="sqlite-functions"),
    pytest.param(LITE, "SELECT NAME FROM SINGER WHERE Country = 'France'", id="case-insensitive-names"),
    pytest.param(PG, "(SELECT name FROM singer)", id="parenthesised"),
    pytest.param(PG, "SELECT name FROM singer;", id="trailing-semicolon"),
])
def test_accepts(dialect: Dialect, sql: str) -> None:
    verdict = check(sql, dialect)
    assert verdict.valid, verdict.violations
    assert verdict.violations == []
    assert verdict.sql


@pytest.mark.parametrize(("dialect", "sql", "reason"), [
    pytest.param(PG, "", "PARSE_ERROR", id="empty"),
    pytest.param(PG, "SELECT FROM WHERE", "PARSE_ERROR", id="garbage"),
    pytest.param(MY, "SELECT * FROM singer INTO OUTFILE '/tmp/x'", "PARSE_ERROR", id="into-outfile"),
    pytest.param(PG, "SELECT 1; SELECT 2", "MULTIPLE_STATEMENTS", id="two-selects"),
    pytest.param(PG, "SELECT name FROM singer; DELETE FROM singer", "MULTIPLE_STATEMENTS", id="stacked-delete"),
    pytest.param(PG, "DELETE FROM singer", "NOT_SELECT", id="delete"),
    pytest.param(PG, "UPDATE singer SET age = 1", "NOT_SELECT", id="update"),
    pytest.param(PG, "INSERT INTO singer (name) VALUES ('x')", "NOT_SELECT", id="insert"),
    pytest.param(PG, "DROP TABLE singer", "NOT_SELECT", id="drop"),
    pytest.param(PG, "CREATE TABLE x AS SELECT * FROM singer", "NOT_SELECT", id="create-as"),
    pytest.param(PG, "WITH d AS (DELETE FROM singer RETURNING *) SELECT * FROM d", "WRITES_DATA", id="cte-delete"),
    pytest.param(PG, "WITH u AS (UPDATE singer SET age = 0 RETURNING name) SELECT name FROM u", "WRITES_DATA",
                 id="cte-update"),
    pytest.param(PG, "SELECT * INTO stolen FROM singer", "WRITES_DATA", id="select-into"),
    pytest.param(PG, "SELECT * FROM singer FOR UPDATE", "LOCKING_CLAUSE", id="for-update"),
    pytest.param(PG, "SELECT * FROM singer FOR SHARE", "LOCKING_CLAUSE", id="for-share"),
    pytest.param(MY, "SELECT * FROM singer LOCK IN SHARE MODE", "LOCKING_CLAUSE", id="lock-in-share-mode"),
    pytest.param(PG, "SELECT pg_sleep(10)", "FORBIDDEN_FUNCTION", id="pg-sleep"),
    pytest.param(PG, "SELECT PG_SLEEP(10)", "FORBIDDEN_FUNCTION", id="pg-sleep-upper"),
    pytest.param(PG, "SELECT pg_catalog.pg_sleep(10)", "FORBIDDEN_FUNCTION", id="qualified-function"),
    pytest.param(PG, "SELECT pg_read_file('/etc/passwd')", "FORBIDDEN_FUNCTION", id="read-file"),
    pytest.param(PG, "SELECT query_to_xml('DELETE FROM singer', true, true, '')", "FORBIDDEN_FUNCTION",
                 id="sql-text-function"),
    pytest.param(PG, "SELECT set_config('default_transaction_read_only', 'off', false)", "FORBIDDEN_FUNCTION",
                 id="set-config"),
    pytest.param(PG, "SELECT name FROM singer ORDER BY pg_advisory_lock(1)", "FORBIDDEN_FUNCTION",
                 id="advisory-lock-in-order-by"),
    pytest.param(PG, "SELECT * FROM generate_series(1, 10)", "FORBIDDEN_FUNCTION", id="table-function"),
    pytest.param(MY, "SELECT SLEEP(5)", "FORBIDDEN_FUNCTION", id="mysql-sleep"),
    pytest.param(MY, "SELECT BENCHMARK(100000000, MD5('a'))", "FORBIDDEN_FUNCTION", id="benchmark"),
    pytest.param(MY, "SELECT LOAD_FILE('/etc/passwd')", "FORBIDDEN_FUNCTION", id="load-file"),
    pytest.param(LITE, "SELECT load_extension('x')", "FORBIDDEN_FUNCTION", id="load-extension"),
    pytest.param(LITE, "SELECT * FROM pragma_table_info('singer')", "FORBIDDEN_FUNCTION", id="pragma-function"),
    pytest.param(PG, "SET statement_timeout = 0", "FORBIDDEN_COMMAND", id="set"),
    pytest.param(PG, "BEGIN", "FORBIDDEN_COMMAND", id="begin"),
    pytest.param(PG, "COMMIT", "FORBIDDEN_COMMAND", id="commit"),
    pytest.param(PG, "COPY singer TO '/tmp/x'", "FORBIDDEN_COMMAND", id="copy"),
    pytest.param(PG, "PREPARE p AS DELETE FROM singer", "FORBIDDEN_COMMAND", id="prepare"),
    pytest.param(PG, "EXPLAIN ANALYZE DELETE FROM singer", "FORBIDDEN_COMMAND", id="explain-analyze"),
    pytest.param(LITE, "ATTACH DATABASE 'x.db' AS x", "FORBIDDEN_COMMAND", id="attach"),
    pytest.param(LITE, "PRAGMA writable_schema = 1", "FORBIDDEN_COMMAND", id="pragma"),
    pytest.param(LITE, "VACUUM INTO 'copy.db'", "FORBIDDEN_COMMAND", id="vacuum-into"),
    pytest.param(MY, "SELECT 1 /*!, SLEEP(5) */", "FORBIDDEN_COMMAND", id="executable-comment"),
    pytest.param(MY, "SELECT @a := 1", "FORBIDDEN_COMMAND", id="variable-assignment"),
    pytest.param(MY, "SELECT @@version", "FORBIDDEN_COMMAND", id="system-variable"),
    pytest.param(PG, "SELECT * FROM nowhere", "UNKNOWN_TABLE", id="unknown-table"),
    pytest.param(PG, "SELECT * FROM other.singer", "UNKNOWN_TABLE", id="unknown-schema"),
    pytest.param(MY, "SELECT * FROM otherdb.singer", "UNKNOWN_TABLE", id="other-database"),
    pytest.param(PG, "SELECT salary FROM singer", "UNKNOWN_COLUMN", id="unknown-column"),
    pytest.param(PG, "SELECT s.salary FROM singer s", "UNKNOWN_COLUMN", id="unknown-qualified-column"),
    pytest.param(PG, "SELECT x.name FROM singer s", "UNKNOWN_COLUMN", id="unknown-alias"),
    pytest.param(PG, "SELECT t.age FROM (SELECT name FROM singer) t", "UNKNOWN_COLUMN", id="not-in-derived-table"),
    pytest.param(PG, "SELECT name FROM singer WHERE name = \"Joe\"", "UNKNOWN_COLUMN", id="pg-double-quotes"),
    pytest.param(PG, "SELECT * FROM pg_shadow", "SYSTEM_CATALOG", id="pg-catalog-unqualified"),
    pytest.param(PG, "SELECT * FROM information_schema.tables", "SYSTEM_CATALOG", id="information-schema"),
    pytest.param(MY, "SELECT * FROM mysql.user", "SYSTEM_CATALOG", id="mysql-user"),
    pytest.param(LITE, "SELECT * FROM sqlite_master", "SYSTEM_CATALOG", id="sqlite-master"),
])
def test_refuses(dialect: Dialect, sql: str, reason: str) -> None:
    verdict = check(sql, dialect)
    assert not verdict.valid
    assert verdict.sql == ""
    assert reason in [v.reason for v in verdict.violations], verdict.violations
    assert all(v.message for v in verdict.violations)


@pytest.mark.parametrize(("sql", "shown", "executed", "warned"), [
    pytest.param("SELECT name FROM singer", "SELECT name FROM singer LIMIT 100", "SELECT name FROM singer LIMIT 101",
                 True, id="added"),
    pytest.param("SELECT name FROM singer LIMIT 5", "SELECT name FROM singer LIMIT 5",
                 "SELECT name FROM singer LIMIT 5", False, id="kept"),
    pytest.param("SELECT name FROM singer LIMIT 100", "SELECT name FROM singer LIMIT 100",
                 "SELECT name FROM singer LIMIT 100", False, id="at-cap"),
    pytest.param("SELECT name FROM singer LIMIT 101", "SELECT name FROM singer LIMIT 100",
                 "SELECT name FROM singer LIMIT 101", True, id="one-over-cap"),
    pytest.param("SELECT name FROM singer LIMIT 5000", "SELECT name FROM singer LIMIT 100",
                 "SELECT name FROM singer LIMIT 101", True, id="lowered"),
    pytest.param("SELECT name FROM singer LIMIT ALL", "SELECT name FROM singer LIMIT 100",
                 "SELECT name FROM singer LIMIT 101", True, id="limit-all"),
    pytest.param("SELECT name FROM singer LIMIT 10 OFFSET 20", "SELECT name FROM singer LIMIT 10 OFFSET 20",
                 "SELECT name FROM singer LIMIT 10 OFFSET 20", False, id="offset-kept"),
    pytest.param("SELECT name FROM singer FETCH FIRST 500 ROWS ONLY",
                 "SELECT name FROM singer FETCH FIRST 100 ROWS ONLY",
                 "SELECT name FROM singer FETCH FIRST 101 ROWS ONLY", True, id="fetch-first"),
    pytest.param("SELECT name FROM singer UNION SELECT venue FROM concert",
                 "SELECT name FROM singer UNION SELECT venue FROM concert LIMIT 100",
                 "SELECT name FROM singer UNION SELECT venue FROM concert LIMIT 101", True, id="union-whole"),
])
def test_row_cap_is_shown_as_max_rows_and_runs_one_more_to_detect_truncation(
        sql: str, shown: str, executed: str, warned: bool) -> None:
    verdict = check(sql, max_rows=100)
    assert verdict.valid
    assert (verdict.sql, verdict.executable_sql) == (shown, executed)
    assert bool(verdict.warnings) == warned
    assert all("100 rows" in w for w in verdict.warnings)


def test_refused_sql_has_no_executable_text() -> None:
    verdict = check("DELETE FROM singer")
    assert not verdict.valid and verdict.sql == verdict.executable_sql == ""


def test_mysql_limit_with_offset_is_rendered_in_mysql() -> None:
    verdict = check("SELECT name FROM singer LIMIT 10, 5000", MY)
    assert verdict.sql == "SELECT name FROM singer LIMIT 100 OFFSET 10"
    assert verdict.executable_sql == "SELECT name FROM singer LIMIT 101 OFFSET 10"


def test_output_is_in_the_source_dialect() -> None:
    assert check("SELECT `name` FROM singer", MY).sql == "SELECT `name` FROM singer LIMIT 100"
    assert check('SELECT "name" FROM singer', PG).sql == 'SELECT "name" FROM singer LIMIT 100'


def test_comments_are_not_sent_to_the_database() -> None:
    verdict = check("SELECT name /* hidden */ FROM singer -- trailing")
    assert verdict.valid
    assert not any(word in text for word in ("hidden", "trailing") for text in (verdict.sql, verdict.executable_sql))


def test_sqlite_double_quoted_unknown_name_is_a_string() -> None:
    """SQLite treats a double-quoted name that is no column as a string; the rewrite keeps that meaning."""
    verdict = check('SELECT name FROM singer WHERE country = "France"', LITE)
    assert verdict.valid
    assert verdict.sql == "SELECT name FROM singer WHERE country = 'France' LIMIT 100"


def test_tables_lists_known_tables_read_once_each() -> None:
    verdict = check("WITH c AS (SELECT singer_id FROM concert) SELECT s.name FROM singer s JOIN c "
                    "ON s.singer_id = c.singer_id JOIN concert k ON k.singer_id = s.singer_id")
    assert verdict.tables == ["concert", "singer"]


def test_multiple_statements_report_every_problem() -> None:
    verdict = check("SELECT name FROM singer; DROP TABLE singer")
    assert [v.reason for v in verdict.violations] == ["MULTIPLE_STATEMENTS", "NOT_SELECT"]


def test_messages_name_what_was_found() -> None:
    verdict = check("SELECT pg_sleep(1), salary FROM singer")
    assert verdict.violations[0].message == "function pg_sleep is not allowed"
