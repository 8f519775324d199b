"""What the SQL guard lets through, per dialect.

Functions are checked against allow-lists: a typed sqlglot function class must be
in :data:`SAFE_FUNCTION_CLASSES`, and a function sqlglot does not know (parsed as
``Anonymous``) must be named in :data:`SAFE_FUNCTION_NAMES` for the dialect. Anything
else (``pg_sleep``, ``load_file``, ``dblink``, ``query_to_xml``, ``set_config``,
``nextval``, advisory locks, ``load_extension``, ``readfile`` ...) is refused without
having to be listed. Statement kinds and system catalogs are block-listed because
the set of safe ones (a plain query over user tables) is checked positively elsewhere.
"""

from __future__ import annotations

from sqlglot import exp

from chatdb_server.sql.dsn import Dialect


def _classes(*names: str) -> frozenset[type[exp.Expression]]:
    """The sqlglot expression classes with these names; names a sqlglot version lacks are skipped."""
    found = (getattr(exp, name, None) for name in names)
    return frozenset(cls for cls in found if isinstance(cls, type) and issubclass(cls, exp.Expression))


SAFE_FUNCTION_CLASSES = _classes(
    # aggregates
    "Count", "Sum", "Avg", "Min", "Max", "GroupConcat", "Stddev", "StddevPop", "StddevSamp",
    "Variance", "VariancePop", "PercentileCont", "PercentileDisc", "Median", "LogicalAnd", "LogicalOr",
    "CountIf", "AnyValue", "Corr", "CovarPop", "CovarSamp",
    # window functions
    "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile", "Lag", "Lead",
    "FirstValue", "LastValue", "NthValue",
    # strings
    "Length", "Lower", "Upper", "Trim", "Substring", "SubstringIndex", "Replace", "StrPosition",
    "Concat", "ConcatWs", "Left", "Right", "Initcap", "Reverse", "SplitPart", "RegexpLike",
    "RegexpReplace", "RegexpExtract", "RegexpILike", "Chr", "Unicode", "Hex", "MD5", "Format",
    "Translate", "Ascii",
    # numbers
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Cbrt", "Pow", "Ln", "Log", "Exp", "Sign", "Trunc",
    "Pi", "Rand", "Degrees", "Radians", "SafeDivide",
    # conditionals and conversions
    "Coalesce", "Nullif", "If", "Case", "Greatest", "Least", "Cast", "TryCast", "Typeof", "Exists",
    "Collate",
    # dates and times
    "Date", "TsOrDsToDate", "TsOrDsToTimestamp", "TimeToStr", "StrToDate", "StrToTime", "UnixToTime",
    "TimeToUnix", "TimeStrToTime", "TimeStrToDate", "Extract", "TimestampTrunc", "DateTrunc",
    "DateAdd", "DateSub", "DateDiff", "TimestampDiff", "TimestampAdd", "TimestampSub", "TsOrDsAdd",
    "TsOrDsDiff", "CurrentDate", "CurrentTimestamp", "CurrentTime", "CurrentDatetime", "Year",
    "Month", "Day", "DayOfWeek", "DayOfWeekIso", "DayOfMonth", "DayOfYear", "WeekOfYear", "Week",
    "Hour", "Minute", "Second", "Quarter", "LastDay", "DateFromParts", "MonthsBetween",
    "DateStrToDate", "DateToDateStr", "Datetime", "Time",
    # JSON reads
    "JSONExtract", "JSONExtractScalar", "JSONBExtract", "JSONBExtractScalar", "JSONArrayLength",
)
"""Typed sqlglot functions that only compute a value from their arguments."""

_COMMON_NAMES = frozenset({
    "count", "sum", "avg", "min", "max", "abs", "round", "floor", "ceil", "ceiling", "sqrt", "power",
    "pow", "mod", "ln", "log", "exp", "sign", "lower", "upper", "length", "char_length",
    "character_length", "substr", "substring", "replace", "trim", "ltrim", "rtrim", "concat",
    "concat_ws", "coalesce", "nullif", "greatest", "least", "left", "right", "reverse", "instr",
    "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value",
    "nth_value", "group_concat", "date", "time", "datetime", "extract", "cast",
})

SAFE_FUNCTION_NAMES: dict[Dialect, frozenset[str]] = {
    Dialect.SQLITE: _COMMON_NAMES | {
        "total", "julianday", "strftime", "unixepoch", "printf", "format", "ifnull", "iif", "typeof",
        "char", "unicode", "hex", "quote", "likely", "unlikely", "glob", "like", "json", "json_extract",
        "json_array_length", "json_type", "json_valid", "trunc", "pi",
    },
    Dialect.POSTGRESQL: _COMMON_NAMES | {
        "age", "make_date", "make_time", "make_timestamp", "date_part", "date_trunc", "to_char",
        "to_date", "to_number", "to_timestamp", "now", "btrim", "initcap", "split_part", "strpos",
        "position", "octet_length", "regexp_replace", "string_agg", "bool_and", "bool_or", "every",
        "percentile_cont", "percentile_disc", "mode", "trunc", "div", "md5", "translate",
        "jsonb_extract_path_text", "json_extract_path_text", "jsonb_typeof", "json_typeof",
        "width_bucket", "scale", "isfinite", "justify_days", "justify_hours", "justify_interval",
    },
    Dialect.MYSQL: _COMMON_NAMES | {
        "now", "curdate", "curtime", "unix_timestamp", "from_unixtime", "date_format", "str_to_date",
        "datediff", "timestampdiff", "timediff", "year", "month", "day", "dayname", "monthname",
        "dayofweek", "dayofmonth", "dayofyear", "week", "weekday", "weekofyear", "quarter", "hour",
        "minute", "second", "last_day", "makedate", "adddate", "subdate", "date_add", "date_sub",
        "if", "ifnull", "isnull", "lcase", "ucase", "locate", "position", "substring_index", "format",
        "truncate", "log10", "log2", "rand", "std", "field", "elt", "find_in_set", "json_extract",
        "json_unquote", "json_length", "json_type", "json_valid",
    },
}
"""Functions sqlglot parses as ``Anonymous`` that are safe to call, per dialect (lower-case)."""

WRITING_STATEMENTS = _classes(
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn", "TruncateTable",
    "Rename", "RenameTable", "Grant", "Revoke", "Comment",
)
"""Statements that change data or schema, wherever they appear in the tree."""

COMMAND_STATEMENTS = _classes(
    "Command", "Set", "SetItem", "Transaction", "Commit", "Rollback", "Pragma", "Attach", "Detach",
    "Copy", "LoadData", "Use", "Kill", "Show", "Describe", "Analyze", "Cache", "Uncache", "Refresh",
    "Execute", "Summarize", "Export", "Install",
)
"""Session, transaction, file and utility commands; sqlglot parses statements it does not know
(PREPARE, EXPLAIN ANALYZE, DO, VACUUM, CALL, LISTEN ...) as ``Command``."""

VARIABLE_EXPRESSIONS = _classes("PropertyEQ", "SessionParameter", "Parameter", "Placeholder")
"""Variable reads and assignments (``@a := 1``, ``@@version``) and bind parameters."""

SYSTEM_SCHEMAS: dict[Dialect, frozenset[str]] = {
    Dialect.POSTGRESQL: frozenset({"pg_catalog", "information_schema", "pg_toast"}),
    Dialect.MYSQL: frozenset({"mysql", "information_schema", "performance_schema", "sys"}),
    Dialect.SQLITE: frozenset({"temp"}),
}
SYSTEM_TABLE_PREFIXES: dict[Dialect, tuple[str, ...]] = {
    Dialect.POSTGRESQL: ("pg_",),
    Dialect.MYSQL: (),
    Dialect.SQLITE: ("sqlite_", "pragma_"),
}
"""Unqualified names that resolve to the catalog (PostgreSQL searches pg_catalog first)."""

DEFAULT_SCHEMAS: dict[Dialect, frozenset[str]] = {
    Dialect.POSTGRESQL: frozenset({"public"}),
    Dialect.MYSQL: frozenset(),
    Dialect.SQLITE: frozenset({"main"}),
}
"""Schema qualifiers that name the default schema, where known tables are unqualified."""


def is_system_table(dialect: Dialect, schema: str, name: str) -> bool:
    """Whether ``schema.name`` (lower-case, schema may be empty) is a system catalog object."""
    if schema:
        return schema in SYSTEM_SCHEMAS[dialect] or (dialect is Dialect.POSTGRESQL and schema.startswith("pg_"))
    return name.startswith(SYSTEM_TABLE_PREFIXES[dialect])


def is_safe_function(node: exp.Func, dialect: Dialect) -> bool:
    """Whether a function call only computes a value (operators that sqlglot models as functions too)."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in SAFE_FUNCTION_NAMES[dialect]
    if isinstance(node, exp.Binary | exp.Connector | exp.Unary):
        return True
    return type(node) in SAFE_FUNCTION_CLASSES


def function_name(node: exp.Func, dialect: Dialect) -> str:
    """The function's name as written in the dialect."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql(dialect=dialect.value).split("(", 1)[0].strip().lower() or node.sql_name().lower()
