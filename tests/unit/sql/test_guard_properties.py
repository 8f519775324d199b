"""The SQL guard as a property, on every dialect.

Generated SELECTs over a small shop schema (joins, predicates, aggregates, ORDER BY, LIMIT,
subqueries in WHERE and FROM, CTEs, UNION), rendered with each dialect's quoting, are accepted
and still read the same tables. The same SELECTs with something hostile put in a chosen place
(a second statement, a data-modifying CTE, a side-effecting function in any clause or nested
query, a locking or INTO clause, comment tricks, odd case and whitespace) are refused; where one
is accepted after all, the SQL the guard hands on must contain no write and no dangerous call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlglot
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from chatdb_server.sql.dialects.sqlite import DENIED_FUNCTIONS
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import GuardVerdict, SqlGuard
from chatdb_server.sql.guard_rules import COMMAND_STATEMENTS, WRITING_STATEMENTS

pytestmark = pytest.mark.slow

DIALECTS = tuple(Dialect)
MAX_ROWS = 100
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCHEMA: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "int", "name": "text", "email": "text", "region": "text", "created_at": "date"},
    "orders": {"order_id": "int", "customer_id": "int", "product_id": "int", "quantity": "int", "total": "num",
               "ordered_at": "date"},
    "products": {"product_id": "int", "category_id": "int", "name": "text", "price": "num"},
    "categories": {"category_id": "int", "name": "text"},
}
KNOWN = {table: set(columns) for table, columns in SCHEMA.items()}
LINKS = (("orders", "customer_id", "customers", "customer_id"), ("orders", "product_id", "products", "product_id"),
         ("products", "category_id", "categories", "category_id"))
"""Foreign keys (child table, column, parent table, column): the joins and IN-subqueries follow them."""


# --- valid SELECTs ---------------------------------------------------------------------------------------------


@dataclass
class Style:
    """How one generated query is written: the dialect's quoting, keyword case and whitespace."""

    dialect: Dialect
    quote_all: bool
    keyword_case: str
    space: str

    def ident(self, name: str) -> str:
        """``name`` quoted the dialect's way, or bare."""
        if not self.quote_all:
            return name
        return f"`{name}`" if self.dialect is Dialect.MYSQL else f'"{name}"'

    def kw(self, words: str) -> str:
        """Keywords in the query's case, with its whitespace between them."""
        text = {"upper": words.upper(), "lower": words.lower(), "title": words.title()}[self.keyword_case]
        return text.replace(" ", self.space)


@dataclass
class Built:
    """A generated query: its text, the schema tables it reads and its output column names."""

    sql: str
    tables: set[str]
    columns: list[str] = field(default_factory=list)


@st.composite
def styles(draw: st.DrawFn, dialect: Dialect) -> Style:
    return Style(dialect, draw(st.booleans()), draw(st.sampled_from(("upper", "lower", "title"))),
                 draw(st.sampled_from((" ", "  ", "\n", "\t", " \n  "))))


def _literal(draw: st.DrawFn, kind: str) -> str:
    if kind == "int":
        return str(draw(st.integers(-5, 10_000)))
    if kind == "num":
        return f"{draw(st.integers(0, 999))}.{draw(st.integers(0, 99)):02d}"
    if kind == "date":
        return f"'20{draw(st.integers(10, 29))}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}'"
    text = draw(st.text(alphabet="abcXYZ _'%", max_size=8))
    return "'" + text.replace("'", "''") + "'"


@st.composite
def _predicate(draw: st.DrawFn, s: Style, columns: list[tuple[str, str, str, str]], depth: int) -> tuple[str, set[str]]:
    """One WHERE predicate over ``columns`` (alias, table, column, type); subqueries add the tables they read."""
    alias, table, column, kind = draw(st.sampled_from(columns))
    ref = f"{s.ident(alias)}.{s.ident(column)}"
    shapes = ["compare", "null", "between"] + (["like"] if kind == "text" else [])
    links = [link for link in LINKS if link[:2] == (table, column) or link[2:] == (table, column)]
    if depth < 1 and links:
        shapes += ["in_subquery", "exists"]
    shape = draw(st.sampled_from(shapes))
    if shape == "compare":
        return f"{ref} {draw(st.sampled_from(('=', '<>', '<', '>=')))} {_literal(draw, kind)}", set()
    if shape == "null":
        return f"{ref} {s.kw(draw(st.sampled_from(('IS NULL', 'IS NOT NULL'))))}", set()
    if shape == "between":
        return f"{ref} {s.kw('BETWEEN')} {_literal(draw, kind)} {s.kw('AND')} {_literal(draw, kind)}", set()
    if shape == "like":
        return f"{s.kw('lower')}({ref}) {s.kw('LIKE')} 'a%'", set()
    child, child_col, parent, parent_col = draw(st.sampled_from(links))
    other, other_col = (parent, parent_col) if table == child else (child, child_col)
    if shape == "in_subquery":
        inner = draw(core_select(s, depth + 1, base=other, projection=[other_col], tail=False, alias_prefix="s"))
        return f"{ref} {s.kw('IN')} ({inner.sql})", inner.tables
    correlated = f"x{depth}"
    return (f"{s.kw('EXISTS')} ({s.kw('SELECT')} 1 {s.kw('FROM')} {s.ident(other)} {s.ident(correlated)} "
            f"{s.kw('WHERE')} {s.ident(correlated)}.{s.ident(other_col)} = {ref})"), {other}


@st.composite
def core_select(draw: st.DrawFn, s: Style, depth: int = 0, *, base: str | None = None,
                projection: list[str] | None = None, text_label: bool = False, tail: bool = True,
                alias_prefix: str = "t") -> Built:
    """A SELECT ... FROM one table (maybe joined along a foreign key) ... WHERE ... GROUP BY ... ORDER BY ... LIMIT.

    ``projection`` fixes the selected columns of ``base``; ``text_label`` selects one text column named
    ``label`` (a UNION branch); without ``tail`` there is no ORDER BY or LIMIT."""
    table = base or draw(st.sampled_from([t for t in sorted(SCHEMA) if not text_label or "text" in SCHEMA[t].values()]))
    first = f"{alias_prefix}{depth}0"
    sources = f"{s.ident(table)} {s.kw('AS')} {s.ident(first)}" if draw(st.booleans()) else \
        f"{s.ident(table)} {s.ident(first)}"
    tables = {table}
    columns = [(first, table, c, k) for c, k in SCHEMA[table].items()]
    joinable = [link for link in LINKS if table in (link[0], link[2])]
    if projection is None and joinable and draw(st.booleans()):
        child, child_col, parent, parent_col = draw(st.sampled_from(joinable))
        other, mine, theirs = (parent, child_col, parent_col) if table == child else (child, parent_col, child_col)
        second = f"{alias_prefix}{depth}1"
        join = s.kw(draw(st.sampled_from(("JOIN", "INNER JOIN", "LEFT JOIN"))))
        sources += (f" {join} {s.ident(other)} {s.ident(second)} {s.kw('ON')} "
                    f"{s.ident(first)}.{s.ident(mine)} = {s.ident(second)}.{s.ident(theirs)}")
        tables.add(other)
        columns += [(second, other, c, k) for c, k in SCHEMA[other].items()]

    grouped = projection is None and not text_label and draw(st.booleans())
    items: list[str] = []
    names: list[str] = []
    group_by = ""
    having = ""
    if projection is not None:
        items = [f"{s.ident(first)}.{s.ident(c)}" for c in projection]
        names = list(projection)
    elif text_label:
        alias, _, column, _ = draw(st.sampled_from([c for c in columns if c[3] == "text"]))
        items, names = [f"{s.ident(alias)}.{s.ident(column)} {s.kw('AS')} {s.ident('label')}"], ["label"]
    elif grouped:
        alias, _, column, _ = draw(st.sampled_from(columns))
        group_ref = f"{s.ident(alias)}.{s.ident(column)}"
        items, names = [f"{group_ref} {s.kw('AS')} {s.ident('grp')}", f"{s.kw('COUNT')}(*) {s.kw('AS')} n"], \
            ["grp", "n"]
        numeric = [c for c in columns if c[3] in ("int", "num")]
        aggregate = draw(st.sampled_from(("SUM", "AVG", "MAX", "MIN", None)))
        if aggregate:
            a, _, c, _ = draw(st.sampled_from(numeric))
            items.append(f"{s.kw(aggregate)}({s.ident(a)}.{s.ident(c)}) {s.kw('AS')} agg")
            names.append("agg")
        group_by = f" {s.kw('GROUP BY')} {group_ref}"
        if draw(st.booleans()):
            having = f" {s.kw('HAVING')} {s.kw('COUNT')}(*) > {draw(st.integers(0, 5))}"
    else:
        picked = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True))
        for i, (alias, _, column, kind) in enumerate(picked):
            ref = f"{s.ident(alias)}.{s.ident(column)}"
            name = column if column not in names else f"{column}_{i}"
            wrap = draw(st.sampled_from((None, "lower", "upper", "length"))) if kind == "text" else \
                draw(st.sampled_from((None, "abs", "round"))) if kind in ("int", "num") else None
            expression = f"{s.kw(wrap)}({ref})" if wrap else ref
            items.append(expression if name == column and not wrap else f"{expression} {s.kw('AS')} {s.ident(name)}")
            names.append(name)

    predicates = draw(st.lists(_predicate(s, columns, depth), max_size=2))
    where = ""
    if predicates:
        joiner = f" {s.kw(draw(st.sampled_from(('AND', 'OR'))))} "
        where = f" {s.kw('WHERE')} " + joiner.join(p for p, _ in predicates)
        for _, read in predicates:
            tables |= read
    distinct = f"{s.kw('DISTINCT')} " if not grouped and draw(st.booleans()) else ""
    sql = f"{s.kw('SELECT')} {distinct}{', '.join(items)} {s.kw('FROM')} {sources}{where}{group_by}{having}"
    if tail:
        sql += draw(_tail(s, names))
    return Built(sql, tables, names)


@st.composite
def _tail(draw: st.DrawFn, s: Style, names: list[str]) -> str:
    text = ""
    if draw(st.booleans()):
        key = draw(st.sampled_from([s.ident(n) for n in names] + ["1"]))
        text += f" {s.kw('ORDER BY')} {key}{draw(st.sampled_from(('', ' ' + s.kw('ASC'), ' ' + s.kw('DESC'))))}"
    if draw(st.booleans()):
        text += f" {s.kw('LIMIT')} {draw(st.integers(1, 3 * MAX_ROWS))}"
    return text


@st.composite
def select_queries(draw: st.DrawFn, dialect: Dialect) -> Built:
    """A valid SELECT over :data:`SCHEMA` in ``dialect``: plain, over a derived table, over a CTE, or a UNION."""
    s = draw(styles(dialect))
    form = draw(st.sampled_from(("plain", "derived", "cte", "union")))
    if form == "plain":
        return draw(core_select(s))
    if form == "union":
        left = draw(core_select(s, text_label=True, tail=False, alias_prefix="u"))
        right = draw(core_select(s, text_label=True, tail=False, alias_prefix="v"))
        operator = s.kw(draw(st.sampled_from(("UNION", "UNION ALL"))))
        return Built(f"{left.sql} {operator} {right.sql}" + draw(_tail(s, ["label"])), left.tables | right.tables,
                     ["label"])
    inner = draw(core_select(s, alias_prefix="i"))
    name = "d" if form == "derived" else "c"
    picked = draw(st.lists(st.sampled_from(inner.columns), min_size=1, max_size=len(inner.columns), unique=True))
    items = ", ".join(f"{s.ident(name)}.{s.ident(c)}" for c in picked)
    where = ""
    if draw(st.booleans()):
        where = f" {s.kw('WHERE')} {s.ident(name)}.{s.ident(picked[0])} {s.kw('IS NOT NULL')}"
    tail = draw(_tail(s, picked))
    if form == "derived":
        sql = f"{s.kw('SELECT')} {items} {s.kw('FROM')} ({inner.sql}) {s.kw('AS')} {s.ident(name)}{where}{tail}"
    else:
        sql = (f"{s.kw('WITH')} {s.ident(name)} {s.kw('AS')} ({inner.sql}) {s.kw('SELECT')} {items} {s.kw('FROM')} "
               f"{s.ident(name)}{where}{tail}")
    return Built(sql, inner.tables, picked)


def check(sql: str, dialect: Dialect) -> GuardVerdict:
    return SqlGuard().check(sql, dialect, KNOWN, MAX_ROWS)


def tables_read(sql: str, dialect: Dialect) -> set[str]:
    """The schema tables ``sql`` reads: every table reference that is not a CTE of the query."""
    tree = sqlglot.parse_one(sql, read=dialect.value)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name.lower() not in ctes}


@st.composite
def queries_on_every_dialect(draw: st.DrawFn) -> dict[Dialect, Built]:
    return {dialect: draw(select_queries(dialect)) for dialect in DIALECTS}


@PROPERTY_SETTINGS
@given(queries_on_every_dialect())
def test_generated_selects_are_accepted_and_read_the_same_tables(queries: dict[Dialect, Built]) -> None:
    for dialect, query in queries.items():
        verdict = check(query.sql, dialect)
        assert verdict.valid, (dialect, query.sql, verdict.violations)
        assert verdict.tables == sorted(query.tables), (dialect, query.sql)
        assert tables_read(verdict.sql, dialect) == query.tables, (dialect, query.sql, verdict.sql)
        assert tables_read(verdict.executable_sql, dialect) == query.tables


# --- hostile variations ----------------------------------------------------------------------------------------

STACKED_STATEMENTS = (
    "INSERT INTO orders (order_id) VALUES (1)", "INSERT INTO categories SELECT * FROM categories",
    "REPLACE INTO categories VALUES (1, 'x')", "UPDATE customers SET name = 'x'", "DELETE FROM orders",
    "MERGE INTO orders o USING orders p ON o.order_id = p.order_id WHEN MATCHED THEN DELETE",
    "DROP TABLE customers", "DROP DATABASE shop", "CREATE TABLE intruder (a int)",
    "CREATE TABLE intruder AS SELECT * FROM customers", "CREATE VIEW v AS SELECT 1", "CREATE INDEX i ON orders (total)",
    "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql", "ALTER TABLE customers ADD COLUMN z int",
    "ALTER USER postgres PASSWORD 'x'", "TRUNCATE TABLE orders", "TRUNCATE orders", "RENAME TABLE orders TO o2",
    "GRANT ALL ON customers TO PUBLIC", "REVOKE SELECT ON customers FROM PUBLIC", "COMMENT ON TABLE orders IS 'x'",
    "COPY customers TO '/tmp/chatdb_out'", "COPY customers FROM PROGRAM 'id'", "ATTACH DATABASE '/tmp/x.db' AS x",
    "DETACH DATABASE x", "PRAGMA writable_schema = 1", "PRAGMA journal_mode = OFF", "SET ROLE postgres",
    "SET session_replication_role = replica", "SET GLOBAL general_log = 1", "SET @a = 1", "CALL proc()",
    "DO $$ BEGIN DELETE FROM orders; END $$", "PREPARE s AS DELETE FROM orders", "EXECUTE s", "VACUUM",
    "VACUUM INTO '/tmp/x.db'", "LOAD DATA INFILE '/etc/passwd' INTO TABLE customers", "BEGIN", "COMMIT",
    "LOCK TABLE orders", "LOCK TABLES orders WRITE", "UNLOCK TABLES", "NOTIFY c", "LISTEN c", "RESET ALL",
    "DISCARD ALL", "KILL 1", "SHUTDOWN", "FLUSH TABLES", "REINDEX TABLE orders", "CHECKPOINT", "ANALYZE orders",
    "USE mysql", "SHOW GRANTS", "HANDLER orders OPEN", "INSTALL PLUGIN p SONAME 'p.so'",
    "REFRESH MATERIALIZED VIEW v", "EXPLAIN ANALYZE DELETE FROM orders", "SELECT pg_sleep(10)", "SELECT * FROM orders",
)
WRITING_CTE_BODIES = (
    "DELETE FROM orders RETURNING order_id", "UPDATE customers SET name = 'x' RETURNING customer_id",
    "INSERT INTO categories (name) VALUES ('x') RETURNING category_id",
)
DANGEROUS_FUNCTION_CALLS = (
    # PostgreSQL
    "pg_sleep(10)", "pg_sleep_for('10 s')", "pg_terminate_backend(1)", "pg_cancel_backend(1)",
    "set_config('work_mem', '1GB', false)", "lo_import('/etc/passwd')", "lo_export(1, '/tmp/x')", "lo_unlink(1)",
    "lo_create(0)", "pg_read_file('/etc/passwd')", "pg_read_binary_file('/etc/passwd')", "pg_ls_dir('.')",
    "pg_stat_file('/etc/passwd')", "dblink('host=localhost', 'DELETE FROM orders')",
    "dblink_exec('host=localhost', 'DROP TABLE orders')", "nextval('s')", "setval('s', 1)", "currval('s')",
    "txid_current()", "pg_current_xact_id()", "pg_advisory_lock(1)", "pg_try_advisory_lock(1)",
    "pg_advisory_xact_lock(1)", "pg_notify('c', 'x')", "pg_reload_conf()", "pg_rotate_logfile()", "pg_switch_wal()",
    "pg_create_restore_point('x')", "query_to_xml('DELETE FROM orders', true, false, '')",
    "pg_catalog.pg_sleep(10)", "public.lower('x')", "current_setting('data_directory')",
    "pg_logical_emit_message(true, 'x', 'y')", "pg_import_system_collations('pg_catalog')",
    # MySQL / MariaDB
    "sleep(10)", "benchmark(100000000, md5('x'))", "get_lock('x', 10)", "release_lock('x')", "is_free_lock('x')",
    "load_file('/etc/passwd')", "LOAD_FILE('/etc/passwd')", "master_pos_wait('f', 1)", "sys_exec('id')",
    "last_insert_id(5)", "uuid_short()", "name_const('a', sleep(1))", "@a := 1", "@@global.general_log",
    # SQLite
    "load_extension('/tmp/x.so')", "writefile('/tmp/x', 'y')", "readfile('/etc/passwd')", "edit('x')",
    "fts3_tokenizer('simple')", "randomblob(1000000000)", "zeroblob(1000000000)",
    # enlarge without bound
    "repeat('x', 1000000000)", "lpad('x', 1000000000, 'y')", "rpad('x', 1000000000, 'y')", "space(1000000000)",
    "generate_series(1, 1000000000)", "format('%100000000s', 'x')", "printf('%.*c', 100000000, 'x')",
)
DANGEROUS_NAMES = frozenset(
    call.split("(", 1)[0].split(".")[-1].lower() for call in DANGEROUS_FUNCTION_CALLS if "(" in call
) - {"format", "printf", "md5", "lower"} | DENIED_FUNCTIONS
"""Functions the guard must never hand on (``format``/``printf`` are allowed with bounded widths)."""
CLAUSE_SUFFIXES = (
    "FOR UPDATE", "FOR SHARE", "FOR UPDATE NOWAIT", "FOR NO KEY UPDATE", "LOCK IN SHARE MODE",
    "INTO OUTFILE '/tmp/chatdb_out'", "INTO DUMPFILE '/tmp/chatdb_out'", "INTO @v",
)
COMMENT_SEPARATORS = (
    "; ", ";", "\n;\n", " /* harmless */ ; ", " /* ; */ ; ", " -- harmless\n; ", " # harmless\n; ",
    "; /* */ ", ";/**/", " --\r; ", ";\n-- tail\n", "; -- ", " /*! ; */ ; ",
)
FUNCTION_SLOTS = ("select", "where", "order", "argument", "case", "group_by", "having", "limit", "scalar_subquery",
                  "exists_subquery", "from_function", "cte", "derived")

MARKER = "hostile_marker_fragment"


def _vary(draw: st.DrawFn, fragment: str) -> str:
    """``fragment`` in odd case and with odd whitespace (and empty comments) between its words."""
    case = draw(st.sampled_from(("as-is", "upper", "lower", "mixed")))
    if case == "upper":
        fragment = fragment.upper()
    elif case == "lower":
        fragment = fragment.lower()
    elif case == "mixed":
        flips = draw(st.lists(st.booleans(), min_size=len(fragment), max_size=len(fragment)))
        fragment = "".join(c.upper() if flip else c.lower() for c, flip in zip(fragment, flips, strict=True))
    space = draw(st.sampled_from((" ", "  ", "\t", "\n", "/**/", " /* x */ ", "\r\n")))
    return fragment.replace(" ", space)


def _selects(tree: exp.Query) -> list[exp.Select]:
    return list(tree.find_all(exp.Select))


@st.composite
def with_dangerous_function(draw: st.DrawFn, dialect: Dialect) -> str:
    """A valid SELECT with a dangerous call put into one of :data:`FUNCTION_SLOTS` of one of its SELECTs
    (the top level, a UNION branch, a CTE body, a derived table or a WHERE subquery)."""
    query = draw(select_queries(dialect))
    tree = sqlglot.parse_one(query.sql, read=dialect.value)
    assert isinstance(tree, exp.Query)
    target = draw(st.sampled_from(_selects(tree)))
    slot = draw(st.sampled_from(FUNCTION_SLOTS))
    marker = exp.column(MARKER)
    if slot == "select":
        target.select(marker.as_("hx"), copy=False)
    elif slot == "where":
        target.where(exp.Not(this=exp.Is(this=marker, expression=exp.Null())), copy=False)
    elif slot == "order":
        target.order_by(marker, copy=False)
    elif slot == "having":
        target.having(exp.Not(this=exp.Is(this=marker, expression=exp.Null())), copy=False)
    elif slot == "case":
        target.select(exp.Case(ifs=[exp.If(this=exp.Is(this=marker, expression=exp.Null()),
                                           true=exp.Literal.number(1))]).as_("hx"), copy=False)
    elif slot == "group_by":
        target.group_by(marker, copy=False)
    elif slot == "limit":
        target.limit(exp.select(marker).subquery(), copy=False)
    elif slot == "from_function":
        target.join(exp.to_table(MARKER).as_("hx"), join_type="CROSS", copy=False)
    elif slot == "argument":
        target.select(exp.Coalesce(this=marker, expressions=[exp.Null()]).as_("hx"), copy=False)
    elif slot == "scalar_subquery":
        target.select(exp.select(marker).subquery().as_("hx"), copy=False)
    elif slot == "exists_subquery":
        target.where(exp.Exists(this=exp.select(marker)), copy=False)
    elif slot == "cte":
        body = exp.select(marker.as_("v"))
        tree = exp.select("*").from_(tree.subquery("q")).with_("hx", as_=body) if not isinstance(tree, exp.Select) \
            else tree.with_("hx", as_=body)
    else:
        tree = exp.select("*").from_(tree.subquery("q")).join(exp.select(marker.as_("v")).subquery("hx"),
                                                               join_type="CROSS")
    call = _vary(draw, draw(st.sampled_from(DANGEROUS_FUNCTION_CALLS)))
    return tree.sql(dialect=dialect.value).replace(MARKER, call, 1)


@st.composite
def with_second_statement(draw: st.DrawFn, dialect: Dialect) -> str:
    """A valid SELECT with a write or command stacked before or after it, around comment tricks."""
    query = draw(select_queries(dialect)).sql
    statement = _vary(draw, draw(st.sampled_from(STACKED_STATEMENTS)))
    separator = draw(st.sampled_from(COMMENT_SEPARATORS))
    if draw(st.booleans()):
        return f"{query}{separator}{statement}"
    return f"{statement}{separator}{query}"


@st.composite
def with_writing_cte(draw: st.DrawFn, dialect: Dialect) -> str:
    """A valid SELECT under a WITH whose CTE writes (PostgreSQL runs it even when nothing reads it)."""
    query = draw(select_queries(dialect)).sql
    body = _vary(draw, draw(st.sampled_from(WRITING_CTE_BODIES)))
    if draw(st.booleans()):
        return f"WITH w AS ({body}) SELECT * FROM ({query}) AS q"
    return f"WITH w AS ({body}) SELECT w.* FROM w"


@st.composite
def with_clause(draw: st.DrawFn, dialect: Dialect) -> str:
    """A valid SELECT ending in a locking or INTO clause, or with one inside a nested SELECT."""
    query = draw(select_queries(dialect)).sql
    clause = _vary(draw, draw(st.sampled_from(CLAUSE_SUFFIXES)))
    if draw(st.booleans()):
        return f"{query} {clause}"
    return f"SELECT * FROM ({query} {clause}) AS q"


@st.composite
def with_comment_trick(draw: st.DrawFn, dialect: Dialect) -> str:
    """A valid SELECT with a write hidden in a MySQL executable comment or behind a line comment."""
    query = draw(select_queries(dialect)).sql
    statement = draw(st.sampled_from(STACKED_STATEMENTS[:12]))
    call = draw(st.sampled_from(DANGEROUS_FUNCTION_CALLS))
    trick = draw(st.sampled_from(("exec-comment-select", "exec-comment-tail", "versioned-comment", "line-comment")))
    if trick == "exec-comment-select":
        return query.replace(" ", f" /*! {call}, */ ", 1) if query[:6].upper() == "SELECT" else \
            f"SELECT /*! {call}, */ * FROM ({query}) AS q"
    if trick == "exec-comment-tail":
        return f"{query} /*! ; {statement} */"
    if trick == "versioned-comment":
        return f"{query} /*!50000 ; {statement} */"
    return f"{query} --\n; {statement}"


def hostile_queries(dialect: Dialect) -> st.SearchStrategy[str]:
    return st.one_of(with_dangerous_function(dialect), with_second_statement(dialect), with_writing_cte(dialect),
                     with_clause(dialect), with_comment_trick(dialect))


@st.composite
def hostile_on_every_dialect(draw: st.DrawFn) -> dict[Dialect, str]:
    return {dialect: draw(hostile_queries(dialect)) for dialect in DIALECTS}


_FORBIDDEN_NODES = (*WRITING_STATEMENTS, *COMMAND_STATEMENTS, exp.Into, exp.Lock, exp.Command)


def assert_harmless(verdict: GuardVerdict, dialect: Dialect, sql: str) -> None:
    """What a guard that accepted hostile SQL hands on must still be one statement with no write or side effect."""
    for text in (verdict.sql, verdict.executable_sql):
        assert "/*!" not in text, (dialect, sql, text)
        statements = [s for s in sqlglot.parse(text, read=dialect.value) if s is not None]
        assert len(statements) == 1, (dialect, sql, text)
        for node in statements[0].walk():
            assert not isinstance(node, _FORBIDDEN_NODES), (dialect, sql, text, node)
            if isinstance(node, exp.Func):
                name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
                assert name not in DANGEROUS_NAMES, (dialect, sql, text, name)


def assert_refused_or_harmless(sql: str, dialect: Dialect) -> None:
    verdict = check(sql, dialect)
    if verdict.valid:
        event(f"{dialect.value}: accepted, rendered harmless")
        assert_harmless(verdict, dialect, sql)
        return
    assert verdict.violations, (dialect, sql)
    assert verdict.sql == "" and verdict.executable_sql == ""
    event(f"{dialect.value}: refused {verdict.violations[0].reason}")


@PROPERTY_SETTINGS
@given(hostile_on_every_dialect())
@example(dict.fromkeys(DIALECTS, "SELECT name FROM customers --\r; DROP TABLE customers"))
@example(dict.fromkeys(DIALECTS, "SELECT name FROM customers /*! ; DELETE FROM orders */"))
@example(dict.fromkeys(DIALECTS, "SELECT /*!50000 sleep(10), */ name FROM customers"))
@example(dict.fromkeys(DIALECTS, "WITH w AS (DELETE FROM orders RETURNING order_id) SELECT name FROM customers"))
@example(dict.fromkeys(DIALECTS, "SELECT o.order_id FROM orders o CROSS JOIN pg_sleep(10) AS hx"))
def test_hostile_variations_never_get_a_change_through(queries: dict[Dialect, str]) -> None:
    for dialect, sql in queries.items():
        assert_refused_or_harmless(sql, dialect)


@PROPERTY_SETTINGS
@given(st.sampled_from(DIALECTS), st.sampled_from(DANGEROUS_FUNCTION_CALLS), st.data())
def test_every_dangerous_call_is_refused_wherever_it_is_put(dialect: Dialect, call: str, data: st.DataObject) -> None:
    """Each dangerous call, in a random clause of a random SELECT: refused outright, not merely rendered harmless."""
    query = data.draw(select_queries(dialect))
    tree = sqlglot.parse_one(query.sql, read=dialect.value)
    assert isinstance(tree, exp.Query)
    target = data.draw(st.sampled_from(_selects(tree)))
    target.select(exp.column(MARKER).as_("hx"), copy=False)
    sql = tree.sql(dialect=dialect.value).replace(MARKER, call, 1)
    verdict = check(sql, dialect)
    assert not verdict.valid, (dialect, sql, verdict.sql)
