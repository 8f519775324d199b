"""The ListTrainingJobs filter accepts exactly the documented grammar and names the problem otherwise."""

from __future__ import annotations

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.training.filters import JobFilter, parse_job_filter
from chatdb_server.training.job_model import JobState, JobType


@pytest.mark.parametrize("text,expected", [
    ("", JobFilter()),
    ("   ", JobFilter()),
    ('data_source = "dataSources/x" AND state = RUNNING AND type = FINE_TUNE',
     JobFilter("x", JobState.RUNNING, JobType.FINE_TUNE)),
    ('type=SCHEMA AND data_source="dataSources/sales-eu"', JobFilter("sales-eu", None, JobType.SCHEMA)),
    ("state = TRAINING_JOB_STATE_CANCELLING", JobFilter(state=JobState.CANCELLING)),
    ('state = "SUCCEEDED"', JobFilter(state=JobState.SUCCEEDED)),
    ("type = TRAINING_JOB_TYPE_FINE_TUNE", JobFilter(job_type=JobType.FINE_TUNE)),
])
def test_valid_filters(text: str, expected: JobFilter) -> None:
    assert parse_job_filter(text) == expected


@pytest.mark.parametrize("text,complaint", [
    ("state = RUNNING OR state = QUEUED", "only AND"),
    ("state = RUNNING and type = SCHEMA", "only AND"),
    ("state = RUNNING AND", "only AND"),
    ("state = RUNNING type = SCHEMA", "only AND"),
    ("owner = bob", "unknown field 'owner'"),
    ("state != RUNNING", "operator '!='"),
    ("state = BOGUS", "'BOGUS' is not one of"),
    ("type = RUNNING", "'RUNNING' is not one of"),
    ("data_source = dataSources", "quoted name"),
    ('data_source = "sales"', "data source name"),
    ('data_source = "dataSources/a/tables/b"', "data source name"),
    ("state = RUNNING AND state = QUEUED", "more than once"),
    ("= RUNNING", "expected `field = value`"),
    ('state = "RUNNING', "expected `field = value`"),
])
def test_invalid_filters_name_the_filter_field(text: str, complaint: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_job_filter(text)
    assert error.value.violations[0].field == "filter"
    assert complaint in error.value.violations[0].description
