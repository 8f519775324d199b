"""The confidence leans on the rules that produced the SQL: a reading's weakest rule moves it up or down."""

from __future__ import annotations

import inspect
import re

import pytest

from chatdb_server.prediction.template import TemplateGenerator, conformance
from chatdb_server.prediction.template.reliability import (
    RULE_RELIABILITY,
    TYPICAL_RELIABILITY,
    reliability_shift,
)
from chatdb_server.prediction.template.rules import ALL_RULE_NAMES
from tests.unit.prediction.template_fixtures import ask


@pytest.fixture(scope="module")
def generator() -> TemplateGenerator:
    return TemplateGenerator()


def test_the_table_names_only_declared_rules_with_shares() -> None:
    plan_rules = set(re.findall(r'_fire\(plan, "([a-z-]+)"', inspect.getsource(conformance)))
    assert set(RULE_RELIABILITY) <= set(ALL_RULE_NAMES) | plan_rules
    assert all(0.0 < share < 1.0 for share in RULE_RELIABILITY.values())


def test_the_weakest_rule_sets_the_shift() -> None:
    assert reliability_shift([]) == 0.0
    assert reliability_shift(["a-rule-nobody-declared"]) == 0.0
    weak, strong = RULE_RELIABILITY["label-columns"], RULE_RELIABILITY["count-table"]
    assert weak < TYPICAL_RELIABILITY < strong
    assert reliability_shift(["count-table"]) == pytest.approx(strong - TYPICAL_RELIABILITY)
    assert reliability_shift(["count-table", "label-columns"]) == pytest.approx(weak - TYPICAL_RELIABILITY)


def test_a_guessed_shape_is_less_sure_than_a_reliable_one(generator: TemplateGenerator) -> None:
    # Every content word of the three questions is understood; what differs is the rules they need.
    counted = generator.generate_sync(ask("How many customers are there?")).candidates[0]
    named = generator.generate_sync(ask("Show the emails of customers.")).candidates[0]
    guessed = generator.generate_sync(ask("List the customers.")).candidates[0]
    assert "count-table" in counted.rules and "label-columns" in guessed.rules
    assert "label-columns" not in named.rules
    assert guessed.confidence < named.confidence < counted.confidence
    assert named.confidence - guessed.confidence >= 0.2


def test_alternatives_stay_below_the_main_reading(generator: TemplateGenerator) -> None:
    candidates = generator.generate_sync(ask("Which product has the highest price?", candidates=5)).candidates
    assert len(candidates) > 1
    assert all(other.confidence < candidates[0].confidence for other in candidates[1:])
