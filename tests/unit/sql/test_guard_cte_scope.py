"""The SQL guard resolves CTE names by scope: a table reference is a CTE only where one of that name is visible.

Anywhere else the same name is an ordinary table reference and is checked like one (system
catalogs refused, unknown tables refused), so naming a CTE after a catalog or an unregistered
table cannot smuggle a read of the real one past the guard.
"""

from __future__ import annotations

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import GuardVerdict, SqlGuard

PG, MY, LITE = Dialect.POSTGRESQL, Dialect.MYSQL, Dialect.SQLITE
KNOWN = {
    "singer": {"singer_id", "name", "country", "age"},
    "concert": {"concert_id", "singer_id", "year", "venue"},
}


def check(sql: str, dialect: Dialect = PG) -> GuardVerdict:
    return SqlGuard().check(sql, dialect, KNOWN, 100)


@pytest.mark.parametrize(("dialect", "sql", "tables"), [
    pytest.param(PG, "WITH a AS (SELECT singer_id FROM singer), b AS (SELECT singer_id FROM a) SELECT singer_id FROM b",
                 ["singer"], id="sibling-refers-to-earlier"),
    pytest.param(PG, "WITH a AS (SELECT singer_id FROM singer) "
                     "SELECT d.singer_id FROM (WITH b AS (SELECT singer_id FROM a) SELECT singer_id FROM b) d",
                 ["singer"], id="nested-with-sees-outer-cte"),
    pytest.param(PG, "WITH a AS (SELECT singer_id FROM singer), "
                     "b AS (WITH c AS (SELECT singer_id FROM a) SELECT singer_id FROM c) SELECT singer_id FROM b",
                 ["singer"], id="with-inside-cte-body-sees-earlier-sibling"),
    pytest.param(PG, "WITH a AS (SELECT singer_id FROM singer) SELECT name FROM singer "
                     "WHERE singer_id IN (SELECT singer_id FROM a)", ["singer"], id="cte-in-where-subquery"),
    pytest.param(PG, "WITH a AS (SELECT name FROM singer) SELECT venue FROM concert UNION SELECT name FROM a",
                 ["concert", "singer"], id="cte-in-second-union-branch"),
    pytest.param(PG, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 5) SELECT x FROM r",
                 [], id="recursive"),
    pytest.param(PG, "WITH RECURSIVE base AS (SELECT age FROM singer), "
                     "r(x) AS (SELECT min(age) FROM base UNION ALL SELECT x + 1 FROM r WHERE x < 50) SELECT x FROM r",
                 ["singer"], id="recursive-after-sibling"),
    pytest.param(MY, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 5) SELECT x FROM r",
                 [], id="recursive-mysql"),
    pytest.param(LITE, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 5) SELECT x FROM r",
                 [], id="recursive-sqlite"),
    pytest.param(PG, "WITH singer AS (SELECT name, age FROM singer WHERE age > 40) SELECT name FROM singer",
                 ["singer"], id="cte-shadows-the-known-table-it-reads"),
    pytest.param(PG, "WITH concert AS (SELECT singer_id FROM concert), singer AS (SELECT singer_id FROM concert) "
                     "SELECT singer_id FROM singer", ["concert"], id="sibling-reads-shadowing-cte"),
    pytest.param(PG, "SELECT s.name FROM (WITH singer AS (SELECT 1 AS x) SELECT x FROM singer) d CROSS JOIN singer s",
                 ["singer"], id="known-table-named-like-a-cte-out-of-its-scope"),
    pytest.param(PG, "WITH Old AS (SELECT name FROM singer) SELECT name FROM old", ["singer"],
                 id="pg-unquoted-names-fold"),
    pytest.param(PG, 'WITH "old" AS (SELECT name FROM singer) SELECT name FROM OLD', ["singer"],
                 id="pg-quoted-lower-case-matches-unquoted"),
    pytest.param(LITE, 'WITH "Old" AS (SELECT name FROM singer) SELECT name FROM OLD', ["singer"],
                 id="sqlite-every-name-folds"),
    pytest.param(MY, "WITH old AS (SELECT name FROM singer) SELECT name FROM `old`", ["singer"],
                 id="mysql-same-spelling"),
    pytest.param(PG, "WITH a AS (SELECT name FROM singer) (SELECT name FROM a)", ["singer"],
                 id="with-before-a-parenthesised-query"),
])
def test_accepts_ctes_used_in_their_scope(dialect: Dialect, sql: str, tables: list[str]) -> None:
    verdict = check(sql, dialect)
    assert verdict.valid, verdict.violations
    assert verdict.tables == tables


@pytest.mark.parametrize(("dialect", "sql", "reason"), [
    pytest.param(PG, "SELECT * FROM (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user) d CROSS JOIN pg_user",
                 "SYSTEM_CATALOG", id="derived-table-cte-does-not-leak-out"),
    pytest.param(PG, "SELECT (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user), usename FROM pg_user",
                 "SYSTEM_CATALOG", id="scalar-subquery-cte-does-not-leak-out"),
    pytest.param(PG, "SELECT usename FROM pg_user WHERE EXISTS (WITH pg_user AS (SELECT 1) SELECT * FROM pg_user)",
                 "SYSTEM_CATALOG", id="exists-subquery-cte-does-not-leak-out"),
    pytest.param(PG, "(WITH pg_roles AS (SELECT 'x' AS rolname) SELECT rolname FROM pg_roles) "
                     "UNION SELECT rolname FROM pg_roles", "SYSTEM_CATALOG", id="union-branch-cte-does-not-leak-out"),
    pytest.param(PG, "WITH pg_user AS (SELECT * FROM pg_user) SELECT * FROM pg_user", "SYSTEM_CATALOG",
                 id="non-recursive-body-reads-the-real-table"),
    pytest.param(PG, "WITH a AS (SELECT usename FROM pg_user), pg_user AS (SELECT 1 AS usename) SELECT * FROM a",
                 "SYSTEM_CATALOG", id="earlier-sibling-cannot-see-later"),
    pytest.param(PG, "WITH a AS (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user), "
                     "b AS (SELECT usename FROM pg_user) SELECT * FROM a, b", "SYSTEM_CATALOG",
                 id="cte-inside-a-sibling-body-does-not-leak-out"),
    pytest.param(PG, "WITH pg_user AS (SELECT * FROM (SELECT usename FROM pg_user) s) SELECT * FROM pg_user",
                 "SYSTEM_CATALOG", id="non-recursive-body-subquery-reads-the-real-table"),
    pytest.param(PG, 'WITH "PG_USER" AS (SELECT 1 AS usename) SELECT usename FROM pg_user', "SYSTEM_CATALOG",
                 id="pg-quoted-upper-case-is-another-name"),
    pytest.param(PG, "WITH pg_user AS (SELECT 1 AS usename) SELECT usename FROM pg_catalog.pg_user",
                 "SYSTEM_CATALOG", id="qualified-name-is-never-a-cte"),
    pytest.param(PG, "WITH RECURSIVE a AS (SELECT x FROM b), b(x) AS (SELECT 1) SELECT x FROM a", "UNKNOWN_TABLE",
                 id="recursive-forward-reference-is-checked-as-a-table"),
    pytest.param(PG, "SELECT * FROM (WITH nowhere AS (SELECT 1 AS x) SELECT x FROM nowhere) d CROSS JOIN nowhere",
                 "UNKNOWN_TABLE", id="unknown-table-after-derived-table-cte"),
    pytest.param(PG, "WITH nowhere AS (SELECT * FROM nowhere) SELECT * FROM nowhere", "UNKNOWN_TABLE",
                 id="unknown-table-in-own-body"),
    pytest.param(PG, "WITH singer AS (SELECT name FROM singer) SELECT age FROM singer", "UNKNOWN_COLUMN",
                 id="shadowing-cte-has-only-its-own-columns"),
    pytest.param(MY, "SELECT * FROM (WITH secrets AS (SELECT 1 AS x) SELECT x FROM secrets) d CROSS JOIN secrets",
                 "UNKNOWN_TABLE", id="mysql-unknown-table-after-derived-table-cte"),
    pytest.param(MY, "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", "UNKNOWN_TABLE",
                 id="mysql-unknown-table-in-own-body"),
    pytest.param(MY, "WITH user AS (SELECT * FROM mysql.user) SELECT * FROM user", "SYSTEM_CATALOG",
                 id="mysql-user-in-cte-body"),
    pytest.param(MY, "WITH Secrets AS (SELECT 1 AS x) SELECT x FROM secrets", "UNKNOWN_TABLE",
                 id="mysql-names-compare-as-written"),
    pytest.param(LITE, "SELECT * FROM (WITH sqlite_master AS (SELECT 1 AS x) SELECT x FROM sqlite_master) d "
                       "CROSS JOIN sqlite_master", "SYSTEM_CATALOG", id="sqlite-master-after-derived-table-cte"),
    pytest.param(LITE, "WITH sqlite_master AS (SELECT * FROM sqlite_master) SELECT * FROM sqlite_master",
                 "SYSTEM_CATALOG", id="sqlite-master-in-own-body"),
    pytest.param(LITE, "SELECT * FROM (WITH nowhere AS (SELECT 1 AS x) SELECT x FROM nowhere) d CROSS JOIN nowhere",
                 "UNKNOWN_TABLE", id="sqlite-unknown-table-after-derived-table-cte"),
    pytest.param(PG, "WITH information_schema AS (SELECT 1 AS x) SELECT * FROM information_schema.tables",
                 "SYSTEM_CATALOG", id="information-schema-is-qualified"),
    pytest.param(PG, "WITH pg_user AS (SELECT 1) (SELECT * FROM pg_user) LIMIT 1", "SYSTEM_CATALOG",
                 id="with-on-a-parenthesised-query-the-guard-unwraps"),
])
def test_refuses_names_outside_the_ctes_scope(dialect: Dialect, sql: str, reason: str) -> None:
    verdict = check(sql, dialect)
    assert not verdict.valid
    assert verdict.sql == ""
    assert reason in [v.reason for v in verdict.violations], verdict.violations


def test_a_cte_out_of_scope_is_reported_as_the_table_it_reads() -> None:
    verdict = check("SELECT * FROM (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user) d CROSS JOIN pg_user")
    assert [v.message for v in verdict.violations] == ["system catalog pg_user cannot be queried"]
