"""A data source's confidence threshold: validated with its field path, masked like the other fields."""

from __future__ import annotations

import math

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.schema.records import UPDATABLE_FIELDS, DataSourceSpec


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf])
def test_a_threshold_outside_zero_to_one_names_its_field(value: float) -> None:
    with pytest.raises(InvalidArgument) as refused:
        DataSourceSpec(min_confidence=value).validate()
    assert refused.value.violations[0].field == "data_source.min_confidence"


def test_the_threshold_is_updatable_and_masked_when_not_named() -> None:
    DataSourceSpec(min_confidence=0.0).validate()
    DataSourceSpec(min_confidence=1.0).validate()
    assert "min_confidence" in UPDATABLE_FIELDS
    assert DataSourceSpec(min_confidence=0.7).masked({"display_name"}).min_confidence == 0.0
    assert DataSourceSpec(min_confidence=0.7).masked({"min_confidence"}).min_confidence == 0.7
