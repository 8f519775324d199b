"""Resource names: parsing patterns into ids, and the one error for malformed names."""

from __future__ import annotations

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.names import (
    DATA_SOURCE,
    DATA_SOURCE_TABLE,
    TRAINING_JOB,
    data_source_id,
    format_name,
    parse_name,
    table_name_parts,
    validate_id,
)


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("dataSources/shop", "shop", id="plain"),
    pytest.param("dataSources/a", "a", id="one_letter"),
    pytest.param("dataSources/sales-eu-2", "sales-eu-2", id="hyphens_and_digits"),
    pytest.param("dataSources/" + "a" * 63, "a" * 63, id="longest"),
])
def test_data_source_names_parse(name: str, expected: str) -> None:
    assert data_source_id(name) == expected


@pytest.mark.parametrize("name", [
    pytest.param("", id="empty"),
    pytest.param("dataSources/", id="no_id"),
    pytest.param("dataSources/Shop", id="upper_case"),
    pytest.param("dataSources/1shop", id="starts_with_digit"),
    pytest.param("dataSources/shop/tables/orders", id="table_name_given"),
    pytest.param("datasources/shop", id="wrong_collection_case"),
    pytest.param("trainingJobs/shop", id="other_collection"),
    pytest.param("dataSources/" + "a" * 64, id="too_long"),
    pytest.param(" dataSources/shop", id="leading_space"),
    pytest.param("dataSources/sh op", id="inner_space"),
])
def test_malformed_data_source_names_name_the_field(name: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        data_source_id(name, "parent")
    assert err.value.violations[0].field == "parent"
    assert err.value.reason == "INVALID_FIELD"


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("dataSources/shop/tables/orders", ("shop", "orders"), id="plain"),
    pytest.param("dataSources/shop/tables/sales.orders", ("shop", "sales.orders"), id="schema_qualified"),
    pytest.param("dataSources/shop/tables/Order Items", ("shop", "Order Items"), id="spaces_and_case"),
])
def test_table_names_parse(name: str, expected: tuple[str, str]) -> None:
    assert table_name_parts(name) == expected


@pytest.mark.parametrize("name", [
    pytest.param("dataSources/shop/tables/", id="no_table"),
    pytest.param("dataSources/shop/tables/a/b", id="slash_in_table"),
    pytest.param("dataSources/shop", id="source_only"),
    pytest.param("dataSources/shop/columns/x", id="wrong_collection"),
])
def test_malformed_table_names(name: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        table_name_parts(name, "name")
    assert err.value.violations[0].field == "name"


def test_generic_patterns_serve_other_collections() -> None:
    assert parse_name("trainingJobs/job-7", TRAINING_JOB, "name") == {"training_job": "job-7"}
    assert format_name(DATA_SOURCE_TABLE, data_source="shop", table="orders") == "dataSources/shop/tables/orders"
    assert format_name(DATA_SOURCE, data_source="shop") == "dataSources/shop"


def test_error_message_shows_the_expected_form() -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_name("nope", DATA_SOURCE, "name")
    assert "dataSources/{data_source}" in err.value.message


@pytest.mark.parametrize("value", ["", "A", "9a", "a_b", "a" * 64, "a.b"])
def test_invalid_ids(value: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_id(value, "data_source_id")
    assert err.value.violations[0].field == "data_source_id"


def test_valid_id_is_returned() -> None:
    assert validate_id("sample-shop", "data_source_id") == "sample-shop"
