"""Rules that fire outside the mention-role tables of ``rules.py``, declared by name.

Values, numbers, the passes after the mentions and the assembly of the plan each decide in
their own module; when one of those decisions shapes the SQL it records its rule name here
(``ReadingState.fire``), so every answer says which rules produced it. ``cost`` names the
penalty (from ``costs``) the rule adds to the reading, 0 when it guesses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatdb_server.prediction.template import costs


@dataclass(frozen=True)
class Outcome:
    """A named decision of a reading step that is not a mention role."""

    name: str
    description: str
    cost: float = 0.0


OUTCOMES: tuple[Outcome, ...] = (
    # values (values.py)
    Outcome("filter-by-value", "A value names its column: WHERE column = 'value' (or != when negated)."),
    Outcome("filter-like-value", '"containing the word X": WHERE column LIKE \'%X%\'.'),
    Outcome("negated-value", '"countries that do not speak English": the value is a NOT IN condition.'),
    Outcome("either-value", 'Two values of one column, or values joined by "or": conditions are OR-ed.'),
    Outcome("value-not-placed", "A value no column could hold: dropped.", costs.VALUE_NOT_PLACED),
    Outcome("capitalised-value", '"in Lisbon": capitalised words no sample value holds, compared with the column '
            "named before them, else with the label of the table asked about."),
    # numbers (numbers.py)
    Outcome("top-n", '"the top 3", "the 5 oldest": LIMIT N.'),
    Outcome("first-n-rows", '"which 3 customers ...": LIMIT N.'),
    Outcome("count-between", '"with between 2 and 5 orders": HAVING COUNT(*) BETWEEN.'),
    Outcome("number-between", '"price between 10 and 20": WHERE column BETWEEN.'),
    Outcome("having-count", '"with more than 2 orchestras": HAVING COUNT(*) compared.'),
    Outcome("having-aggregate", '"categories whose average price is above 20", grouped: HAVING AVG(column) > 20.'),
    Outcome("compare-number", '"older than 30", "in 2014": WHERE column compared with the number.'),
    Outcome("number-not-placed", "A compared number no numeric column could hold: dropped.", costs.NUMBER_NOT_PLACED),
    # passes after the mentions
    Outcome("compare-with-average", '"above the average age": column > (SELECT AVG(column) ...).'),
    Outcome("implied-superlative", '"the oldest dog": ORDER BY the implied column, LIMIT 1.'),
    Outcome("order-by-frequency", '"the categories, sorted by their frequency": GROUP BY what is shown, '
            "ORDER BY COUNT(*)."),
    Outcome("group-by-period", '"revenue per month": GROUP BY the month of a date column.'),
    Outcome("no-date-column", '"per month" with no date column: not grouped.', costs.NO_DATE_COLUMN),
    # assembling the plan (reader.py, exclusions.py, setops.py)
    Outcome("only-table-assumed", "No table named: the schema's only table is read.", costs.ONLY_TABLE_ASSUMED),
    Outcome("count-rows", "SELECT COUNT(*) of the subject."),
    Outcome("count-distinct-joined", '"how many different customers placed orders": COUNT(DISTINCT key) of the '
            "counted table across its join."),
    Outcome("implicit-grouping", "A HAVING, count order or aggregate sort key needs a GROUP BY nobody named."),
    Outcome("all-columns", '"all the information": SELECT *.'),
    Outcome("label-columns", "Nothing asked for by name: the subject's label columns.", costs.LABEL_COLUMNS_GUESSED),
    Outcome("stated-order", '"in alphabetical order" with no key: ORDER BY the first output.'),
    Outcome("chronological-order", "Rows grouped by periods come in time order."),
    Outcome("exclude-related", '"customers with no orders": key NOT IN (SELECT ...).'),
    Outcome("exclusion-not-joined", "A negated table with no join path: ignored.", costs.EXCLUSION_NOT_JOINED),
    Outcome("unreachable-table-dropped", "A context table the joins cannot reach: dropped.",
            costs.UNREACHABLE_TABLE_DROPPED),
    Outcome("distinct", '"different", "distinct", "unique": SELECT DISTINCT.'),
    Outcome("intersect-conflicting", '"in both 2014 and 2015": two selections INTERSECTed.'),
)

OUTCOME_NAMES = frozenset(o.name for o in OUTCOMES)
