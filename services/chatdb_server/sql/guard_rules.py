"""What the SQL guard lets through.

Functions are checked against allow-lists: a typed sqlglot function class must be
in :data:`SAFE_FUNCTION_CLASSES`, and a function sqlglot does not know (parsed as
``Anonymous``) must be named in the dialect's ``GuardRules.safe_function_names``
(each dialect's rules live in its module of ``chatdb_server.sql.dialects``). Anything
else (``pg_sleep``, ``load_file``, ``dblink``, ``query_to_xml``, ``set_config``,
``nextval``, advisory locks, ``load_extension``, ``readfile`` ...) is refused without
having to be listed. Statement kinds and system catalogs are block-listed because
the set of safe ones (a plain query over user tables) is checked positively elsewhere.
"""

from __future__ import annotations

from sqlglot import exp

from chatdb_server.sql.dialects import support
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


def default_schemas(dialect: Dialect) -> frozenset[str]:
    """Schema qualifiers that name the default schema, where known tables are unqualified."""
    return support(dialect).guard.default_schemas


def is_system_table(dialect: Dialect, schema: str, name: str) -> bool:
    """Whether ``schema.name`` (lower-case, schema may be empty) is a system catalog object."""
    rules = support(dialect).guard
    if schema:
        return schema in rules.system_schemas or schema.startswith(rules.system_schema_prefixes)
    return name.startswith(rules.system_table_prefixes)


def is_safe_function(node: exp.Func, dialect: Dialect) -> bool:
    """Whether a function call only computes a value (operators that sqlglot models as functions too)."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in support(dialect).guard.safe_function_names
    if isinstance(node, exp.Binary | exp.Connector | exp.Unary):
        return True
    return type(node) in SAFE_FUNCTION_CLASSES


def function_name(node: exp.Func, dialect: Dialect) -> str:
    """The function's name as written in the dialect."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql(dialect=dialect.value).split("(", 1)[0].strip().lower() or node.sql_name().lower()
