"""How often each rule's answers are right: a reading's confidence leans on its least reliable rule.

The coverage of the question's words says how much of it was understood; it does not say whether
the shape of SQL the rules chose is the one asked for. Some shapes are read right far more often
than others ("how many customers" by ``count-table``, "sorted by age" by ``order-by-column``) and
some are guesses that are often wrong (``label-columns``: nothing was asked for by name). A
reading's confidence therefore moves by how far its *least* reliable rule stands from a typical
answer's reliability: up for a reading made only of reliable rules, down for one with a weak rule.

How the table was derived: ``python -m tests.bench.confidence_curve --fit-rules`` answers the
executable Spider dev questions of the databases the rules were tuned on (never the held-out half,
which measures the effect), takes each rule's share of right answers (lenient execution match)
among the answers it helped produce, and smooths it towards the typical share with
``RELIABILITY_PRIOR`` pseudo-answers (rounded to two decimals). A rule seen fewer than
``MIN_FIRINGS`` times there keeps the typical reliability, so it moves nothing; so does a rule added
after the fit (``capitalised-value``, ``count-distinct-joined``, ``having-aggregate``,
``order-by-frequency``). The figures are
about rules, shapes of question, never about a schema: no table, column or database is named.

The table was fitted before the rules of that later round were added. A refit on the tuning half
after them (``capitalised-value`` at 0.25 there) separated right from wrong less well on the held-out
half than this table (BENCHMARKS.md, "Honest confidence"), so this one is kept; refit when the
rules' reliabilities have been checked on more schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

#: Share of right answers over all answers of the tuning half: a rule at this reliability moves nothing.
TYPICAL_RELIABILITY = 0.59
#: How much of the gap between the weakest rule's reliability and the typical one moves the confidence.
#: At 1 the ranking of answers is that of the confidence averaged with the weakest rule's reliability.
RELIABILITY_WEIGHT = 1.0
#: Pseudo-answers at the typical reliability added to each rule's record before its share is taken.
RELIABILITY_PRIOR = 5
#: Firings a rule needs on the tuning half before its own share is used.
MIN_FIRINGS = 3

#: Each rule's smoothed share of right answers on the tuning half (see the module docstring).
RULE_RELIABILITY: Mapping[str, float] = MappingProxyType({
    # mention roles of columns (rules.py)
    "group-by-column": 0.72,
    "order-by-column": 0.85,
    "most-frequent-value": 0.62,
    "row-with-extreme": 0.61,
    "aggregate-column": 0.55,
    "count-distinct-column": 0.66,
    "count-rows-of-column": 0.26,
    "column-before-value": 0.66,
    "select-column": 0.58,
    "context-column": 0.46,
    # mention roles of tables (rules.py)
    "count-table": 0.75,
    "negated-table": 0.77,
    "group-by-table": 0.63,
    "most-related-rows": 0.70,
    "select-table": 0.57,
    "context-table": 0.55,
    # values and numbers (values.py, numbers.py)
    "filter-by-value": 0.57,
    "either-value": 0.55,
    "value-not-placed": 0.37,
    "top-n": 0.33,
    "number-between": 0.77,
    "having-count": 0.74,
    "compare-number": 0.65,
    "number-not-placed": 0.33,
    # passes after the mentions and the assembly of the plan (outcomes.py)
    "compare-with-average": 0.63,
    "implied-superlative": 0.53,
    "count-rows": 0.69,
    "implicit-grouping": 0.70,
    "label-columns": 0.35,
    "stated-order": 0.70,
    "exclude-related": 0.77,
    "distinct": 0.55,
    "intersect-conflicting": 0.77,
    # plan rules (conformance.py)
    "extreme-row": 0.55,
    "complete-grouping": 0.30,
    "one-figure": 0.21,
    "count-text-total": 0.37,
})


def reliability_shift(rules: Iterable[str]) -> float:
    """What a reading's rules add to its confidence: the weakest rule's reliability over the typical one."""
    weakest = min((RULE_RELIABILITY.get(rule, TYPICAL_RELIABILITY) for rule in rules), default=TYPICAL_RELIABILITY)
    return RELIABILITY_WEIGHT * (weakest - TYPICAL_RELIABILITY)
