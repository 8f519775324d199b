"""An attack corpus: the guard refuses every case, and the database survives each one sent raw.

Defence in depth: every attack is also sent straight to the executor, bypassing the guard, as
a role that may only SELECT (how data sources are meant to be configured). The database must
be unchanged afterwards: canary rows and checksum, tables, roles/users, sequences, large
objects, and no files written (SQLite ATTACH / VACUUM INTO, COPY TO, INTO OUTFILE).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatdb_server.errors import ChatDBError
from chatdb_server.sql.dsn import Dialect, parse_dsn
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.structure import SourceRef
from tests.support.databases import mysql_database, postgres_database, sync_engine_for

KNOWN = {"canary": {"id", "secret"}}
MARKER = f"/tmp/chatdb_attack_{uuid.uuid4().hex[:12]}"
"""A server-side path no attack may create (COPY TO, lo_export, INTO OUTFILE/DUMPFILE)."""

STACKED_AND_TRICKS = [
    ("stacked-drop", "SELECT 1; DROP TABLE canary"),
    ("stacked-delete", "SELECT * FROM canary; DELETE FROM canary"),
    ("stacked-update-no-space", "SELECT id FROM canary;UPDATE canary SET secret='x'"),
    ("stacked-insert-newline", "SELECT id FROM canary\n;\nINSERT INTO canary VALUES (99, 'x')"),
    ("comment-hides-semicolon", "SELECT id FROM canary /* ; */ ; DELETE FROM canary"),
    ("line-comment-then-stack", "SELECT id FROM canary -- harmless\n; DELETE FROM canary"),
    ("comment-before-delete", "/* SELECT */ DELETE FROM canary"),
    ("mixed-case-delete", "DeLeTe FrOm canary"),
    ("inline-comment-delete", "DELETE/**/FROM/**/canary"),
    ("delete", "DELETE FROM canary"),
    ("update", "UPDATE canary SET secret = 'pwned'"),
    ("insert", "INSERT INTO canary VALUES (99, 'x')"),
    ("insert-select", "INSERT INTO canary SELECT id + 100, secret FROM canary"),
    ("drop", "DROP TABLE canary"),
    ("create", "CREATE TABLE intruder (a int)"),
    ("create-as-select", "CREATE TABLE intruder AS SELECT * FROM canary"),
    ("alter", "ALTER TABLE canary ADD COLUMN z int"),
    ("create-view", "CREATE VIEW intruder AS SELECT * FROM canary"),
    ("create-index", "CREATE INDEX intruder ON canary (secret)"),
    ("union-then-stack", "SELECT id FROM canary UNION SELECT 1; DROP TABLE canary"),
    ("begin-delete-commit", "BEGIN; DELETE FROM canary; COMMIT"),
    ("commit-then-delete", "COMMIT; DELETE FROM canary"),
    ("for-update", "SELECT * FROM canary FOR UPDATE"),
]

POSTGRES = [
    *STACKED_AND_TRICKS,
    ("cte-delete", "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d"),
    ("cte-update", "WITH u AS (UPDATE canary SET secret = 'x' RETURNING id) SELECT id FROM u"),
    ("cte-insert", "WITH i AS (INSERT INTO canary VALUES (99, 'x') RETURNING id) SELECT id FROM i"),
    ("nested-cte-delete", "WITH a AS (SELECT 1), d AS (DELETE FROM canary RETURNING id) SELECT * FROM a, d"),
    ("select-into", "SELECT * INTO intruder FROM canary"),
    ("select-into-temp", "SELECT * INTO TEMP intruder FROM canary"),
    ("for-share", "SELECT * FROM canary FOR SHARE"),
    ("for-no-key-update", "SELECT * FROM canary FOR NO KEY UPDATE"),
    ("truncate", "TRUNCATE canary"),
    ("pg-sleep", "SELECT pg_sleep(5)"),
    ("pg-sleep-upper", "SELECT PG_SLEEP(5)"),
    ("pg-sleep-quoted", 'SELECT "pg_sleep"(5)'),
    ("pg-sleep-qualified", "SELECT pg_catalog.pg_sleep(5)"),
    ("pg-sleep-in-where", "SELECT id FROM canary WHERE pg_sleep(5) IS NOT NULL"),
    ("pg-sleep-in-order-by", "SELECT id FROM canary ORDER BY pg_sleep(5)"),
    ("pg-sleep-in-subquery", "SELECT (SELECT pg_sleep(5)) FROM canary"),
    ("read-file", "SELECT pg_read_file('/etc/passwd')"),
    ("read-binary-file", "SELECT pg_read_binary_file('/etc/passwd')"),
    ("ls-dir", "SELECT pg_ls_dir('.')"),
    ("lo-import", "SELECT lo_import('/etc/passwd')"),
    ("lo-export", f"SELECT lo_export(1, '{MARKER}')"),
    ("lo-create", "SELECT lo_create(0)"),
    ("copy-to-file", f"COPY canary TO '{MARKER}'"),
    ("copy-to-program", f"COPY (SELECT 1) TO PROGRAM 'touch {MARKER}'"),
    ("copy-from", "COPY canary FROM '/etc/hostname'"),
    ("dblink", "SELECT * FROM dblink('dbname=postgres', 'DELETE FROM canary') AS t(a int)"),
    ("query-to-xml", "SELECT query_to_xml('DELETE FROM canary RETURNING 1', true, true, '')"),
    ("set-config", "SELECT set_config('default_transaction_read_only', 'off', false)"),
    ("current-setting", "SELECT current_setting('data_directory')"),
    ("terminate-backend", "SELECT pg_terminate_backend(pg_backend_pid())"),
    ("cancel-backend", "SELECT pg_cancel_backend(pg_backend_pid())"),
    ("advisory-lock", "SELECT pg_advisory_lock(42)"),
    ("advisory-lock-in-select", "SELECT id, pg_try_advisory_lock(id) FROM canary"),
    ("nextval", "SELECT nextval('canary_seq')"),
    ("setval", "SELECT setval('canary_seq', 1000)"),
    ("txid-current", "SELECT txid_current()"),
    ("reload-conf", "SELECT pg_reload_conf()"),
    ("set", "SET default_transaction_read_only = off"),
    ("set-role", "SET ROLE postgres"),
    ("reset-all", "RESET ALL"),
    ("prepare", "PREPARE p AS DELETE FROM canary"),
    ("execute", "EXECUTE p"),
    ("do-block", "DO $$ BEGIN DELETE FROM canary; END $$"),
    ("call", "CALL evil()"),
    ("notify", "NOTIFY chatdb"),
    ("listen", "LISTEN chatdb"),
    ("explain-analyze-delete", "EXPLAIN ANALYZE DELETE FROM canary"),
    ("vacuum", "VACUUM canary"),
    ("analyze", "ANALYZE canary"),
    ("grant", "GRANT ALL ON canary TO PUBLIC"),
    ("create-role", "CREATE ROLE intruder SUPERUSER"),
    ("alter-system", "ALTER SYSTEM SET log_statement = 'none'"),
    ("pg-shadow", "SELECT * FROM pg_shadow"),
    ("pg-authid-qualified", "SELECT * FROM pg_catalog.pg_authid"),
    ("information-schema", "SELECT * FROM information_schema.tables"),
    ("generate-series-bomb", "SELECT count(*) FROM generate_series(1, 1000000000)"),
    # memory bombs: a value far larger than what it is made of
    ("format-width-bomb", "SELECT format('%10000000s', secret) FROM canary"),
    ("format-star-width-bomb", "SELECT format('%*s', 10000000, secret) FROM canary"),
    ("format-positional-star-width", "SELECT format('%1$*2$s', secret, 10000000) FROM canary"),
    ("repeat-bomb", "SELECT repeat(secret, 10000000) FROM canary"),
    ("lpad-bomb", "SELECT lpad(secret, 10000000, 'x') FROM canary"),
    ("rpad-bomb", "SELECT rpad(secret, 10000000, 'x') FROM canary"),
    ("replace-by-column", "SELECT replace(replace(secret, 'a', secret || secret), 'a', secret) FROM canary"),
    ("regexp-replace-empty-match", "SELECT regexp_replace(secret, '', '" + "x" * 50 + "', 'g') FROM canary"),
    ("lateral-function", "SELECT * FROM canary, LATERAL pg_sleep(5) AS s"),
    # a CTE named like a catalog or an unknown table does not cover the same name out of its scope
    ("cte-scope-derived-table-escape",
     "SELECT * FROM (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user) d CROSS JOIN pg_user"),
    ("cte-scope-own-body", "WITH pg_user AS (SELECT * FROM pg_user) SELECT * FROM pg_user"),
    ("cte-scope-own-body-pg-shadow",
     "WITH pg_shadow AS (SELECT usename, passwd FROM pg_shadow) SELECT * FROM pg_shadow"),
    ("cte-scope-earlier-sibling",
     "WITH a AS (SELECT rolname, rolpassword FROM pg_authid), pg_authid AS (SELECT 1) SELECT * FROM a"),
    ("cte-scope-scalar-subquery-escape",
     "SELECT (WITH pg_user AS (SELECT 1 AS x) SELECT x FROM pg_user), usename FROM pg_user"),
    ("cte-scope-union-branch-escape",
     "(WITH pg_roles AS (SELECT 'x' AS rolname) SELECT rolname FROM pg_roles) UNION SELECT rolname FROM pg_roles"),
    ("cte-scope-quoted-other-case", 'WITH "PG_USER" AS (SELECT 1 AS usename) SELECT usename FROM pg_user'),
    ("cte-scope-unknown-table-escape",
     "SELECT * FROM (WITH canary_seq AS (SELECT 1 AS x) SELECT x FROM canary_seq) d CROSS JOIN canary_seq"),
    ("cte-scope-unknown-table-own-body", "WITH canary_seq AS (SELECT * FROM canary_seq) SELECT * FROM canary_seq"),
    ("cte-scope-information-schema",
     "SELECT * FROM (WITH tables AS (SELECT 1 AS x) SELECT x FROM tables) d CROSS JOIN information_schema.tables"),
    ("cte-scope-with-on-parenthesised-query", "WITH pg_user AS (SELECT 1) (SELECT * FROM pg_user) LIMIT 1"),
]

MARIADB = [
    *STACKED_AND_TRICKS,
    ("cte-delete", "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d"),
    ("lock-in-share-mode", "SELECT * FROM canary LOCK IN SHARE MODE"),
    ("replace-into", "REPLACE INTO canary VALUES (1, 'pwned')"),
    ("insert-on-duplicate", "INSERT INTO canary VALUES (1, 'x') ON DUPLICATE KEY UPDATE secret = 'pwned'"),
    ("truncate", "TRUNCATE TABLE canary"),
    ("sleep", "SELECT SLEEP(5)"),
    ("sleep-mixed-case", "SELECT SlEeP(5)"),
    ("sleep-backticks", "SELECT `SLEEP`(5)"),
    ("sleep-in-where", "SELECT id FROM canary WHERE SLEEP(5) = 0"),
    ("benchmark", "SELECT BENCHMARK(100000000, MD5('a'))"),
    ("load-file", "SELECT LOAD_FILE('/etc/passwd')"),
    ("into-outfile", f"SELECT * FROM canary INTO OUTFILE '{MARKER}'"),
    ("into-dumpfile", f"SELECT secret FROM canary LIMIT 1 INTO DUMPFILE '{MARKER}'"),
    ("into-variable", "SELECT secret FROM canary LIMIT 1 INTO @stolen"),
    ("load-data", "LOAD DATA INFILE '/etc/hostname' INTO TABLE canary"),
    ("load-data-local", "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE canary"),
    ("variable-assignment", "SELECT @a := 1"),
    ("system-variable", "SELECT @@datadir"),
    ("set-variable", "SET @a = 1"),
    ("set-global", "SET GLOBAL read_only = 0"),
    ("set-session-tx", "SET SESSION TRANSACTION READ WRITE"),
    ("executable-comment-sleep", "SELECT 1 /*! , SLEEP(5) */"),
    ("executable-comment-delete", "/*!50000 DELETE FROM canary */"),
    ("mariadb-executable-comment", "SELECT 1 /*M! , SLEEP(5) */"),
    ("hash-comment-stack", "SELECT id FROM canary # harmless\n; DELETE FROM canary"),
    ("get-lock", "SELECT GET_LOCK('chatdb', 1)"),
    ("release-all-locks", "SELECT RELEASE_ALL_LOCKS()"),
    ("lock-tables", "LOCK TABLES canary WRITE"),
    ("handler", "HANDLER canary OPEN"),
    ("do-sleep", "DO SLEEP(5)"),
    ("call", "CALL evil()"),
    ("prepare", "PREPARE s FROM 'DELETE FROM canary'"),
    ("execute-immediate", "EXECUTE IMMEDIATE 'DELETE FROM canary'"),
    ("kill", "KILL 1"),
    ("flush", "FLUSH TABLES"),
    ("optimize", "OPTIMIZE TABLE canary"),
    ("rename", "RENAME TABLE canary TO intruder"),
    ("create-user", "CREATE USER 'intruder'@'%'"),
    ("grant", "GRANT ALL ON *.* TO CURRENT_USER"),
    ("mysql-user", "SELECT * FROM mysql.user"),
    ("information-schema", "SELECT * FROM information_schema.tables"),
    ("performance-schema", "SELECT * FROM performance_schema.threads"),
    ("union-mysql-user", "SELECT secret FROM canary UNION SELECT password FROM mysql.user"),
    ("other-database", "SELECT * FROM mysql.db"),
    ("show", "SHOW DATABASES"),
    ("nextval", "SELECT NEXTVAL(canary_seq)"),
    # memory bombs: a value far larger than what it is made of
    ("repeat-bomb", "SELECT REPEAT(secret, 10000000) FROM canary"),
    ("space-bomb", "SELECT SPACE(10000000)"),
    ("lpad-bomb", "SELECT LPAD(secret, 10000000, 'x') FROM canary"),
    ("replace-by-column", "SELECT REPLACE(secret, 'a', CONCAT(secret, secret)) FROM canary"),
    ("hex-nesting", "SELECT HEX(HEX(HEX(HEX(HEX(HEX(secret)))))) FROM canary"),
    # a CTE named like an unknown table or a catalog does not cover the same name out of its scope
    ("cte-scope-unknown-table-escape",
     "SELECT * FROM (WITH canary_seq AS (SELECT 1 AS x) SELECT x FROM canary_seq) d CROSS JOIN canary_seq"),
    ("cte-scope-unknown-table-own-body", "WITH canary_seq AS (SELECT * FROM canary_seq) SELECT * FROM canary_seq"),
    ("cte-scope-unknown-table-earlier-sibling",
     "WITH a AS (SELECT * FROM canary_seq), canary_seq AS (SELECT 1 AS x) SELECT * FROM a"),
    ("cte-scope-unknown-table-subquery-escape",
     "SELECT * FROM canary_seq WHERE EXISTS (WITH canary_seq AS (SELECT 1) SELECT * FROM canary_seq)"),
    ("cte-scope-mysql-user-own-body", "WITH user AS (SELECT * FROM mysql.user) SELECT * FROM user"),
    ("cte-scope-mysql-user-escape",
     "SELECT * FROM (WITH user AS (SELECT 1 AS x) SELECT x FROM user) d CROSS JOIN mysql.user"),
    ("cte-scope-information-schema-own-body",
     "WITH tables AS (SELECT * FROM information_schema.tables) SELECT * FROM tables"),
    ("cte-scope-with-on-parenthesised-query",
     "WITH canary_seq AS (SELECT 1) (SELECT * FROM canary_seq) LIMIT 1"),
]

SQLITE = [
    *STACKED_AND_TRICKS,
    ("attach", "ATTACH DATABASE '{dir}/evil.db' AS evil"),
    ("attach-uri-rwc", "ATTACH 'file:{dir}/evil2.db?mode=rwc' AS evil"),
    ("detach", "DETACH DATABASE main"),
    ("vacuum-into", "VACUUM INTO '{dir}/copy.db'"),
    ("vacuum", "VACUUM"),
    ("pragma-journal-wal", "PRAGMA journal_mode = WAL"),
    ("pragma-writable-schema", "PRAGMA writable_schema = 1"),
    ("pragma-user-version", "PRAGMA user_version = 7"),
    ("pragma-query-only-off", "PRAGMA query_only = 0"),
    ("pragma-function", "SELECT * FROM pragma_table_info('canary')"),
    ("load-extension", "SELECT load_extension('{dir}/evil.so')"),
    ("readfile", "SELECT readfile('/etc/passwd')"),
    ("writefile", "SELECT writefile('{dir}/written.txt', 'x')"),
    ("fts3-tokenizer", "SELECT fts3_tokenizer('simple')"),
    ("sqlite-master", "SELECT * FROM sqlite_master"),
    ("sqlite-schema", "SELECT sql FROM sqlite_schema"),
    ("temp-master", "SELECT * FROM sqlite_temp_master"),
    ("create-temp-table", "CREATE TEMP TABLE intruder (a)"),
    ("create-trigger", "CREATE TRIGGER t AFTER INSERT ON canary BEGIN DELETE FROM canary; END"),
    ("insert-or-replace", "INSERT OR REPLACE INTO canary VALUES (1, 'pwned')"),
    ("replace", "REPLACE INTO canary VALUES (1, 'pwned')"),
    ("reindex", "REINDEX canary"),
    ("analyze", "ANALYZE"),
    ("randomblob-bomb", "SELECT randomblob(1000000000)"),
    ("zeroblob-bomb", "SELECT zeroblob(1000000000)"),
    ("printf-star-precision-bomb", "SELECT printf('%.*c', 10000000, 'x')"),
    ("printf-width-bomb", "SELECT printf('%10000000s', secret) FROM canary"),
    ("printf-precision-bomb", "SELECT printf('%.10000000c', 'x') FROM canary"),
    ("format-width-bomb", "SELECT format('%10000000d', id) FROM canary"),
    ("replace-by-column", "SELECT replace(secret, 'a', secret || secret) FROM canary"),
    ("hex-nesting", "SELECT hex(hex(hex(hex(hex(hex(secret)))))) FROM canary"),
    ("quote-hex-nesting", "SELECT quote(hex(quote(hex(quote(secret))))) FROM canary"),
    ("cte-delete", "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d"),
    ("select-into", "SELECT * INTO intruder FROM canary"),
    ("begin-immediate", "BEGIN IMMEDIATE"),
    ("savepoint", "SAVEPOINT s"),
    ("unknown-table-function", "SELECT * FROM json_each('[1,2]') AS j, canary"),
    # a CTE named like a catalog or an unknown table does not cover the same name out of its scope
    ("cte-scope-derived-table-escape",
     "SELECT * FROM (WITH sqlite_master AS (SELECT 1 AS x) SELECT x FROM sqlite_master) d CROSS JOIN sqlite_master"),
    ("cte-scope-own-body", "WITH sqlite_master AS (SELECT * FROM sqlite_master) SELECT * FROM sqlite_master"),
    ("cte-scope-subquery-escape",
     "SELECT sql FROM sqlite_schema WHERE EXISTS (WITH sqlite_schema AS (SELECT 1) SELECT * FROM sqlite_schema)"),
    ("cte-scope-union-branch-escape",
     "SELECT name FROM (WITH sqlite_master AS (SELECT 'x' AS name) SELECT name FROM sqlite_master) "
     "UNION SELECT name FROM sqlite_master"),
    ("cte-scope-unknown-table-escape",
     "SELECT * FROM (WITH nowhere AS (SELECT 1 AS x) SELECT x FROM nowhere) d CROSS JOIN nowhere"),
    ("cte-scope-with-on-parenthesised-query",
     "WITH sqlite_master AS (SELECT 1) (SELECT * FROM sqlite_master) LIMIT 1"),
]

CASES = ([pytest.param("postgresql", sql, id=f"postgresql-{name}") for name, sql in POSTGRES]
         + [pytest.param("mariadb", sql, id=f"mariadb-{name}") for name, sql in MARIADB]
         + [pytest.param("sqlite", sql, id=f"sqlite-{name}") for name, sql in SQLITE])


def test_the_corpus_is_large_and_covers_three_dialects() -> None:
    assert len(CASES) >= 100
    assert {p.values[0] for p in CASES} == {"postgresql", "mariadb", "sqlite"}


@dataclass
class Victim:
    """A database with a canary table, reached as a SELECT-only role, and a way to look at it as admin."""

    source: SourceRef
    dialect: Dialect
    snapshot: Callable[[], Any]
    directory: Path | None = None


@pytest.fixture(scope="module")
def postgresql_victim() -> Iterator[Victim]:
    role = f"chatdb_reader_{uuid.uuid4().hex[:10]}"
    with postgres_database() as dsn:
        engine = sync_engine_for(dsn)
        with engine.connect() as conn:
            for statement in (
                "CREATE TABLE canary (id integer PRIMARY KEY, secret text)",
                "INSERT INTO canary VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')",
                "CREATE SEQUENCE canary_seq",
                f"CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'",
                f"GRANT CONNECT ON DATABASE \"{make_url(dsn).database}\" TO {role}",
                f"GRANT USAGE ON SCHEMA public TO {role}",
                f"GRANT SELECT ON canary TO {role}",
            ):
                conn.execute(text(statement))

        def snapshot() -> Any:
            with engine.connect() as conn:
                return [conn.execute(text(q)).fetchall() for q in (
                    "SELECT md5(string_agg(id || ':' || secret, ',' ORDER BY id)), count(*) FROM canary",
                    "SELECT relname, relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
                    "SELECT rolname, rolsuper FROM pg_roles ORDER BY 1",
                    "SELECT last_value, is_called FROM canary_seq",
                    "SELECT count(*) FROM pg_largeobject_metadata",
                    "SELECT count(*) FROM pg_db_role_setting",
                )] + [os.path.exists(MARKER)]

        reader = make_url(dsn).set(username=role, password="reader-pw").render_as_string(hide_password=False)
        try:
            yield Victim(_source(reader), Dialect.POSTGRESQL, snapshot)
        finally:
            engine.dispose()
    admin = sync_engine_for(make_url(dsn).set(database="postgres").render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


@pytest.fixture(scope="module")
def mariadb_victim() -> Iterator[Victim]:
    user = f"chatdb_r_{uuid.uuid4().hex[:10]}"
    with mysql_database() as dsn:
        database = make_url(dsn).database
        engine = sync_engine_for(dsn)
        with engine.connect() as conn:
            for statement in (
                "CREATE TABLE canary (id int PRIMARY KEY, secret varchar(50))",
                "INSERT INTO canary VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')",
                "CREATE SEQUENCE canary_seq",
                f"CREATE USER '{user}'@'%' IDENTIFIED BY 'reader-pw'",
                f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'",
            ):
                conn.execute(text(statement))

        def snapshot() -> Any:
            with engine.connect() as conn:
                return [conn.execute(text(q)).fetchall() for q in (
                    "CHECKSUM TABLE canary",
                    "SELECT id, secret FROM canary ORDER BY id",
                    "SHOW FULL TABLES",
                    "SELECT user, host FROM mysql.user ORDER BY 1, 2",
                    "SELECT NEXT_NOT_CACHED_VALUE FROM canary_seq",
                    "SELECT @@GLOBAL.read_only",
                )] + [os.path.exists(MARKER)]

        reader = make_url(dsn).set(username=user, password="reader-pw").render_as_string(hide_password=False)
        try:
            yield Victim(_source(reader), Dialect.MYSQL, snapshot)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            engine.dispose()


@pytest.fixture(scope="module")
def sqlite_victim(tmp_path_factory: pytest.TempPathFactory) -> Victim:
    directory = tmp_path_factory.mktemp("sqlite_victim")
    path = directory / "victim.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE canary (id integer PRIMARY KEY, secret text)")
        conn.execute("INSERT INTO canary VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')")
    conn.close()

    def snapshot() -> Any:
        return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in directory.iterdir())

    return Victim(_source(f"sqlite:///{path}"), Dialect.SQLITE, snapshot, directory)


def _source(dsn: str) -> SourceRef:
    parsed = parse_dsn(dsn)
    return SourceRef(pk=abs(hash(dsn)) % 10**9, tenant="attacks", source_id="victim", dialect=parsed.dialect,
                     dsn=parsed)


@pytest.fixture
async def executor() -> AsyncIterator[QueryExecutor]:
    executor = QueryExecutor()
    yield executor
    await executor.close()


@pytest.mark.parametrize(("kind", "attack"), CASES)
async def test_attack_is_refused_and_changes_nothing(kind: str, attack: str, request: pytest.FixtureRequest,
                                                     executor: QueryExecutor) -> None:
    victim: Victim = request.getfixturevalue(f"{kind}_victim")
    sql = attack.replace("{dir}", str(victim.directory)) if victim.directory else attack
    before = victim.snapshot()

    verdict = SqlGuard().check(sql, victim.dialect, KNOWN, max_rows=100)

    assert not verdict.valid and verdict.sql == "" and verdict.violations
    # the same text, raw, as if the guard had been bypassed; refused, timed out or the session dropped
    # are all fine as long as nothing changed
    with contextlib.suppress(ChatDBError):
        await executor.execute(victim.source, sql, max_rows=100, timeout_s=1)
    assert victim.snapshot() == before
    healthy = await executor.execute(victim.source, "SELECT count(*) FROM canary", max_rows=1, timeout_s=5)
    assert healthy.rows == [(3,)]
