"""Allowed functions that can enlarge values: bounded arguments pass, memory bombs are refused with a
message that names the function and the bound."""

from __future__ import annotations

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import UNBOUNDED_FUNCTION, SqlGuard

PG, MY, LITE = Dialect.POSTGRESQL, Dialect.MYSQL, Dialect.SQLITE
KNOWN = {"customers": {"id", "name", "phone"}}


@pytest.mark.parametrize(("dialect", "sql"), [
    pytest.param(PG, "SELECT format('%s: %-10s|%5s|%1$s|%%', name, phone, id) FROM customers", id="pg-format"),
    pytest.param(LITE, "SELECT printf('%.2f %5d %-8s %%', id, id, name) FROM customers", id="sqlite-printf"),
    pytest.param(LITE, "SELECT format('%d', id) FROM customers", id="sqlite-format"),
    pytest.param(LITE, "SELECT printf('%.1000c', 'x')", id="precision-at-the-bound"),
    pytest.param(PG, "SELECT replace(replace(phone, '-', ''), ' ', '') FROM customers", id="shrinking-replaces"),
    pytest.param(PG, "SELECT replace(name, 'Street', 'St') FROM customers", id="shortening-replace"),
    pytest.param(PG, "SELECT replace(name, 'a', NULL) FROM customers", id="null-replacement"),
    pytest.param(PG, "SELECT regexp_replace(regexp_replace(name, '\\s+', ' ', 'g'), ',', ';') FROM customers",
                 id="nested-regexp-replace-within-the-growth-bound"),
    pytest.param(LITE, "SELECT hex(hex(hex(hex(name)))) FROM customers", id="hex-16-times"),
    pytest.param(LITE, "SELECT quote(name), hex(name) FROM customers", id="side-by-side-enlargers"),
    pytest.param(MY, "SELECT REPLACE(name, ' ', '_') FROM customers", id="mysql-replace"),
])
def test_bounded_calls_pass(dialect: Dialect, sql: str) -> None:
    verdict = SqlGuard().check(sql, dialect, KNOWN, 100)
    assert verdict.valid, verdict.violations


@pytest.mark.parametrize(("dialect", "sql", "says"), [
    pytest.param(PG, "SELECT format('%100000000s', name) FROM customers LIMIT 3",
                 "format() width 100,000,000 in '%100000000s' is larger than 1,000", id="pg-format-width"),
    pytest.param(PG, "SELECT format('%*s', 100000000, name) FROM customers",
                 "format() may not take a width from its arguments", id="pg-format-star-width"),
    pytest.param(PG, "SELECT format('%1$*2$s', name, 100000000) FROM customers",
                 "format() may not take a width from its arguments", id="pg-format-positional-star"),
    pytest.param(PG, "SELECT format(name, id) FROM customers", "the format of format() must be a string literal",
                 id="pg-format-from-a-column"),
    pytest.param(LITE, "SELECT printf('%.*c', 10000000, 'x')", "printf() may not take a precision from its arguments",
                 id="sqlite-printf-star-precision"),
    pytest.param(LITE, "SELECT printf('%.10000000c', 'x')", "printf() precision 10,000,000",
                 id="sqlite-printf-precision"),
    pytest.param(LITE, "SELECT printf('%*d', 10000000, id) FROM customers", "printf() may not take a width",
                 id="sqlite-printf-star-width"),
    pytest.param(LITE, "SELECT format('%10000000d', id) FROM customers", "format() width 10,000,000",
                 id="sqlite-format-width"),
    pytest.param(PG, "SELECT replace(replace(name, 'a', name), 'a', name) FROM customers",
                 "the replacement of replace() must be a string literal", id="replace-by-a-column"),
    pytest.param(LITE, "SELECT replace(name, 'a', '" + "x" * 101 + "') FROM customers",
                 "the replacement of replace() is 101 characters long", id="replace-by-a-long-literal"),
    pytest.param(PG, "SELECT replace(name, 'a', '" + "x" * 20 + "') FROM customers",
                 "replace() and the functions nested in it can make a value 20 times larger", id="replace-20-times"),
    pytest.param(PG, "SELECT regexp_replace(name, '', '" + "x" * 20 + "', 'g') FROM customers",
                 "regexp_replace() and the functions nested in it can make a value 21 times larger",
                 id="regexp-replace-on-empty-matches"),
    pytest.param(LITE, "SELECT hex(hex(hex(hex(hex(name))))) FROM customers",
                 "hex() and the functions nested in it can make a value 32 times larger", id="hex-32-times"),
    pytest.param(MY, "SELECT REPLACE(REPLACE(name, 'a', 'aaaa'), 'b', 'bbbbb') FROM customers",
                 "20 times larger than its input; at most 16 times", id="mysql-nested-replaces"),
])
def test_calls_that_could_blow_memory_are_refused(dialect: Dialect, sql: str, says: str) -> None:
    verdict = SqlGuard().check(sql, dialect, KNOWN, 100)
    assert not verdict.valid
    assert [v.reason for v in verdict.violations] == [UNBOUNDED_FUNCTION]
    assert says in verdict.violations[0].message


@pytest.mark.parametrize(("dialect", "sql", "function"), [
    (PG, "SELECT repeat(name, 100000000) FROM customers", "repeat"),
    (PG, "SELECT lpad(name, 100000000, 'x') FROM customers", "lpad"),
    (PG, "SELECT rpad(name, 100000000, 'x') FROM customers", "rpad"),
    (PG, "SELECT count(*) FROM generate_series(1, 1000000000)", "generate_series"),
    (MY, "SELECT SPACE(100000000)", "repeat"),
    (MY, "SELECT LPAD(name, 100000000, 'x') FROM customers", "lpad"),
    (LITE, "SELECT zeroblob(1000000000)", "zeroblob"),
    (LITE, "SELECT randomblob(1000000000)", "randomblob"),
])
def test_functions_that_only_make_size_stay_off_the_allow_lists(dialect: Dialect, sql: str, function: str) -> None:
    verdict = SqlGuard().check(sql, dialect, KNOWN, 100)
    assert not verdict.valid
    assert any(function in v.message for v in verdict.violations), verdict.violations
