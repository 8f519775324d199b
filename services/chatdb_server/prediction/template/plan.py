"""A reading of a question as a small query plan, before it becomes SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry

Aggregate = Literal["count", "sum", "avg", "min", "max"]
Operator = Literal["=", "!=", ">", "<", ">=", "<=", "between", "like", "not like", "is not null"]
Literal_ = str | float | int
Period = Literal["year", "month"]


@dataclass
class Output:
    """One selected expression: a column, an aggregate of one, COUNT(*) (column None), or the
    year or month of a date column (``period``)."""

    column: ColumnEntry | None
    aggregate: Aggregate | None = None
    distinct: bool = False
    period: Period | None = None

    def describe(self) -> str:
        target = f"{self.column.table.name}.{self.column.name}" if self.column else "*"
        if self.period:
            return f"{self.period} of {target}"
        if self.aggregate:
            inner = f"distinct {target}" if self.distinct else target
            return f"{self.aggregate}({inner})"
        return target


@dataclass
class Condition:
    """column op value(s); a column of None with aggregate ``count`` is COUNT(*) (HAVING)."""

    column: ColumnEntry | None
    operator: Operator
    values: tuple[Literal_, ...]
    aggregate: Aggregate | None = None


@dataclass
class Exclusion:
    """``key NOT IN (SELECT link FROM ... WHERE ...)``: rows with no related row matching."""

    key: ColumnEntry
    link: ColumnEntry
    tables: list[TableEntry]
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class AverageComparison:
    """``column op (SELECT AVG(column) FROM its table)``: "above the average age"."""

    column: ColumnEntry
    operator: Operator


@dataclass
class Ordering:
    """ORDER BY an output-like expression."""

    expression: Output
    descending: bool


@dataclass
class Plan:
    """Everything the builder needs; ``notes`` become the explanation."""

    subject: TableEntry
    outputs: list[Output]
    tables: list[TableEntry]
    conditions: list[Condition] = field(default_factory=list)
    any_condition: bool = False
    """Conditions joined with OR instead of AND."""
    group_by: list[ColumnEntry] = field(default_factory=list)
    periods: list[Output] = field(default_factory=list)
    """Years or months of a date column to group by too ("revenue per month")."""
    having: list[Condition] = field(default_factory=list)
    order: list[Ordering] = field(default_factory=list)
    limit: int | None = None
    distinct: bool = False
    exclusions: list[Exclusion] = field(default_factory=list)
    average_comparisons: list[AverageComparison] = field(default_factory=list)
    intersect_with: list[Condition] | None = None
    """Conditions of a second selection to intersect with (the first uses ``conditions``)."""
    aggregate_first: bool = False
    """The question asks for a count or aggregate before it names any column (one figure, not a list)."""
    notes: list[str] = field(default_factory=list)
    penalty: float = 0.0
    """How much this reading guessed (0 for none); lowers confidence."""
    rules: list[str] = field(default_factory=list)
    """Names of the rules that produced this plan, each once, in the order they first fired."""
