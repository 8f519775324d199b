"""Each dialect module: its registry entry, guard rules, connect arguments and type maps."""

from __future__ import annotations

import pytest
from pymysql.constants import FIELD_TYPE
from sqlalchemy.engine import make_url

from chatdb_server.sql.dialects import CONNECT_TIMEOUT_S, DialectSupport, mysql, postgresql, sqlite, support
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard_rules import default_schemas, is_system_table
from chatdb_server.sql.types import value_type_for_database_type


@pytest.mark.parametrize("dialect", list(Dialect))
def test_every_dialect_has_support(dialect: Dialect) -> None:
    entry = support(dialect)
    assert isinstance(entry, DialectSupport)
    assert entry.dialect is dialect


@pytest.mark.parametrize(("dialect", "allowed", "refused"), [
    pytest.param(Dialect.POSTGRESQL, {"date_trunc", "to_char", "string_agg", "count"},
                 {"pg_sleep", "dblink", "set_config", "nextval", "query_to_xml", "strftime"}, id="postgresql"),
    pytest.param(Dialect.MYSQL, {"date_format", "ifnull", "substring_index", "count"},
                 {"sleep", "load_file", "benchmark", "get_lock", "to_char"}, id="mysql"),
    pytest.param(Dialect.SQLITE, {"strftime", "julianday", "printf", "count"},
                 {"load_extension", "readfile", "writefile", "date_trunc"}, id="sqlite"),
])
def test_function_allow_lists(dialect: Dialect, allowed: set[str], refused: set[str]) -> None:
    names = support(dialect).guard.safe_function_names
    assert allowed <= names
    assert not refused & names


@pytest.mark.parametrize(("dialect", "schema", "name", "system"), [
    pytest.param(Dialect.POSTGRESQL, "pg_catalog", "pg_user", True, id="pg_catalog"),
    pytest.param(Dialect.POSTGRESQL, "pg_temp_3", "t", True, id="pg_prefixed_schema"),
    pytest.param(Dialect.POSTGRESQL, "information_schema", "tables", True, id="pg_information_schema"),
    pytest.param(Dialect.POSTGRESQL, "", "pg_stat_activity", True, id="pg_unqualified_catalog"),
    pytest.param(Dialect.POSTGRESQL, "sales", "orders", False, id="pg_user_schema"),
    pytest.param(Dialect.MYSQL, "mysql", "user", True, id="mysql_schema"),
    pytest.param(Dialect.MYSQL, "performance_schema", "threads", True, id="mysql_performance_schema"),
    pytest.param(Dialect.MYSQL, "", "pg_stat_activity", False, id="mysql_no_prefixes"),
    pytest.param(Dialect.MYSQL, "pg_x", "t", False, id="mysql_no_schema_prefixes"),
    pytest.param(Dialect.SQLITE, "", "sqlite_master", True, id="sqlite_master"),
    pytest.param(Dialect.SQLITE, "", "pragma_table_info", True, id="sqlite_pragma_function"),
    pytest.param(Dialect.SQLITE, "temp", "t", True, id="sqlite_temp"),
    pytest.param(Dialect.SQLITE, "main", "orders", False, id="sqlite_main"),
])
def test_system_tables(dialect: Dialect, schema: str, name: str, system: bool) -> None:
    assert is_system_table(dialect, schema, name) is system


@pytest.mark.parametrize(("dialect", "defaults", "derived_alias", "executable_comments", "quoted_string"), [
    pytest.param(Dialect.POSTGRESQL, {"public"}, True, (), False, id="postgresql"),
    pytest.param(Dialect.MYSQL, set(), True, ("!", "M!"), False, id="mysql"),
    pytest.param(Dialect.SQLITE, {"main"}, False, (), True, id="sqlite"),
])
def test_guard_rules(dialect: Dialect, defaults: set[str], derived_alias: bool, executable_comments: tuple[str, ...],
                     quoted_string: bool) -> None:
    rules = support(dialect).guard
    assert default_schemas(dialect) == defaults
    assert rules.derived_tables_need_alias is derived_alias
    assert rules.executable_comment_prefixes == executable_comments
    assert rules.quoted_unknown_is_string is quoted_string


@pytest.mark.parametrize(("dialect", "read_only", "expected"), [
    pytest.param(Dialect.POSTGRESQL, True, {"timeout": CONNECT_TIMEOUT_S, "server_settings": {
        "default_transaction_read_only": "on", "application_name": "chatdb"}}, id="postgresql_read_only"),
    pytest.param(Dialect.POSTGRESQL, False, {"timeout": CONNECT_TIMEOUT_S}, id="postgresql_writable"),
    pytest.param(Dialect.MYSQL, True, {"connect_timeout": CONNECT_TIMEOUT_S,
                                       "init_command": "SET SESSION TRANSACTION READ ONLY"}, id="mysql_read_only"),
    pytest.param(Dialect.MYSQL, False, {"connect_timeout": CONNECT_TIMEOUT_S}, id="mysql_writable"),
    pytest.param(Dialect.SQLITE, True, {"timeout": CONNECT_TIMEOUT_S}, id="sqlite_read_only"),
    pytest.param(Dialect.SQLITE, False, {"timeout": CONNECT_TIMEOUT_S}, id="sqlite_writable"),
])
def test_connect_args(dialect: Dialect, read_only: bool, expected: dict[str, object]) -> None:
    assert support(dialect).connect_args(read_only) == expected


@pytest.mark.parametrize(("dialect", "pooled", "authorizer", "estimates", "exact_counts", "schemas", "extras"), [
    pytest.param(Dialect.POSTGRESQL, True, False, True, False, True, False, id="postgresql"),
    pytest.param(Dialect.MYSQL, True, False, True, False, False, False, id="mysql"),
    pytest.param(Dialect.SQLITE, False, True, False, True, False, True, id="sqlite"),
])
def test_engine_sampling_and_discovery_traits(dialect: Dialect, pooled: bool, authorizer: bool, estimates: bool,
                                              exact_counts: bool, schemas: bool, extras: bool) -> None:
    entry = support(dialect)
    assert entry.server_pool is pooled
    assert (entry.on_read_only_connect is not None) is authorizer
    assert (entry.row_estimates_sql is not None) is estimates
    assert (entry.limit_statement_time is not None) is not exact_counts  # SQLite has no statement timeout
    assert entry.counts_exactly is exact_counts
    assert entry.selectable_schemas is schemas
    assert entry.has_materialized_views is (dialect is Dialect.POSTGRESQL)
    assert (entry.reflection_extras is not None) is extras


def test_sqlite_read_only_url_opens_the_file_mode_ro() -> None:
    url = make_url("sqlite+aiosqlite:////data/shop.db")
    assert sqlite.engine_url(url, False) == url
    read_only = sqlite.engine_url(url, True)
    assert read_only.database == "file:/data/shop.db?mode=ro"
    assert read_only.query == {"uri": "true"}


@pytest.mark.parametrize("module", [postgresql, mysql], ids=["postgresql", "mysql"])
def test_server_urls_are_unchanged(module: object) -> None:
    url = make_url("postgresql+asyncpg://u:p@db:5432/shop")
    assert module.engine_url(url, True) == url  # type: ignore[attr-defined]


@pytest.mark.parametrize(("type_code", "flags_length", "type_name", "value_type"), [
    pytest.param(FIELD_TYPE.LONGLONG, 20, "BIGINT", "INTEGER", id="bigint"),
    pytest.param(FIELD_TYPE.TINY, 1, "TINYINT(1)", "INTEGER", id="tinyint1"),
    pytest.param(FIELD_TYPE.TINY, 4, "TINYINT", "INTEGER", id="tinyint"),
    pytest.param(FIELD_TYPE.NEWDECIMAL, 10, "DECIMAL", "DECIMAL", id="decimal"),
    pytest.param(FIELD_TYPE.DATETIME, 19, "DATETIME", "TIMESTAMP", id="datetime"),
    pytest.param(FIELD_TYPE.JSON, 0, "JSON", "JSON", id="json"),
    pytest.param(FIELD_TYPE.VAR_STRING, 40, "VARCHAR", "STRING", id="varchar"),
])
def test_mysql_result_column_types(type_code: int, flags_length: int, type_name: str, value_type: str) -> None:
    column = mysql.describe_column(("c", type_code, None, flags_length), [])
    assert (column.database_type, column.value_type) == (type_name, value_type)


def test_mysql_blob_columns_tell_text_from_bytes_by_their_values() -> None:
    assert mysql.describe_column(("c", FIELD_TYPE.BLOB, None, 0), [b"\x00", None]).value_type == "BYTES"
    assert mysql.describe_column(("c", FIELD_TYPE.BLOB, None, 0), ["text"]).value_type == "STRING"


@pytest.mark.parametrize(("values", "database_type", "value_type"), [
    pytest.param([1, 2, None], "INTEGER", "INTEGER", id="integers"),
    pytest.param([True], "INTEGER", "INTEGER", id="bools_are_integers"),
    pytest.param([1, 2.5], "REAL", "DOUBLE", id="mixed_numbers_are_real"),
    pytest.param(["a"], "TEXT", "STRING", id="text"),
    pytest.param([b"\x01"], "BLOB", "BYTES", id="blob"),
    pytest.param([1, "a"], "TEXT", "STRING", id="mixed_is_text"),
    pytest.param([None], "", "STRING", id="only_nulls"),
])
def test_sqlite_result_column_types(values: list[object], database_type: str, value_type: str) -> None:
    column = sqlite.column_from_values("c", values)
    assert (column.database_type, column.value_type) == (database_type, value_type)


@pytest.mark.parametrize("type_name", sorted(set(mysql.TYPE_NAMES.values()) - {"NULL", "GEOMETRY"}))
def test_mysql_type_names_are_known_to_the_type_map(type_name: str) -> None:
    assert value_type_for_database_type(type_name)


@pytest.mark.parametrize(("dialect", "code", "lost"), [
    pytest.param(Dialect.MYSQL, 2013, True, id="mysql_lost_during_query"),
    pytest.param(Dialect.MYSQL, 1064, False, id="mysql_syntax_error"),
])
def test_mysql_connection_errors(dialect: Dialect, code: int, lost: bool) -> None:
    import pymysql

    assert support(dialect).is_connection_error(pymysql.err.OperationalError(code, "x")) is lost


@pytest.mark.parametrize("dialect", list(Dialect))
def test_lost_sockets_are_connection_errors_everywhere(dialect: Dialect) -> None:
    assert support(dialect).is_connection_error(ConnectionResetError())
    assert not support(dialect).is_connection_error(ValueError("no"))
