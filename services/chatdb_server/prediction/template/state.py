"""What one reading of a question builds up, mention by mention, before it becomes a plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatdb_server.prediction.template.plan import AverageComparison, Condition, Ordering, Output, Period
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry


@dataclass
class ReadingState:
    """The roles given so far: outputs, filters, grouping, ordering, negations and context tables."""

    outputs: list[Output] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    any_condition: bool = False
    group_by: list[ColumnEntry] = field(default_factory=list)
    group_tables: list[TableEntry] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    """Years or months to group by ("per month"); the date column is chosen when the plan is assembled."""
    having: list[Condition] = field(default_factory=list)
    order: list[Ordering] = field(default_factory=list)
    limit: int | None = None
    negated_tables: list[TableEntry] = field(default_factory=list)
    negated_conditions: list[Condition] = field(default_factory=list)
    """Conditions on another table that rows must not have a match for ("countries that do not speak X")."""
    average_comparisons: list[AverageComparison] = field(default_factory=list)
    """Columns compared with their average ("above the average age")."""
    context_tables: list[TableEntry] = field(default_factory=list)
    count_subject: TableEntry | None = None
    count_requested: bool = False
    select_tables: list[TableEntry] = field(default_factory=list)
    also_asked: list[TableEntry] = field(default_factory=list)
    """Tables asked for beside the first ("the customers and the products"): their labels are shown
    unless a column of theirs is."""
    count_superlative: bool | None = None
    """Order by COUNT(*) (True descending, False ascending), e.g. "the most orchestras"."""
    totals: list[Output] = field(default_factory=list)
    """Outputs of a column the question calls a total ("total amount"): summed when grouped."""
    one_total: bool = False
    """The question asks for one total ("what is the total amount ...")."""
    used_numbers: set[int] = field(default_factory=set)
    """Token positions of numbers already read (the second bound of a BETWEEN)."""
    penalty: float = 0.0
    notes: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    """Names of the rules that fired, in order (see ``rules.py`` and ``outcomes.py``)."""

    def fire(self, rule: str) -> None:
        """Record that the rule named ``rule`` shaped this reading."""
        self.fired.append(rule)

    def subject_guess(self, question_tables: list[TableEntry]) -> TableEntry | None:
        """The table the question seems to be about so far: what is counted, selected or first mentioned."""
        if self.count_subject is not None:
            return self.count_subject
        if self.select_tables:
            return self.select_tables[0]
        return question_tables[0] if question_tables else None
