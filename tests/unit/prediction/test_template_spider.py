"""The template generator over real, varied Spider schemas: every output parses and is grounded."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from chatdb_server.errors import FailedPrecondition
from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from tests.bench.spider_schema import schema_context_for
from tests.support.spider import database_path, questions, require_spider

pytestmark = pytest.mark.spider


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
def test_sampled_spider_questions_parse_and_name_only_known_identifiers(dialect: str) -> None:
    require_spider()
    generator = TemplateGenerator()
    sample = questions()[::7]
    answered = 0
    for q in sample:
        schema = schema_context_for(database_path(q.db_id))
        try:
            result = generator.generate_sync(
                GenerationRequest(q.question, dialect, schema, candidate_count=3))  # type: ignore[arg-type]
        except FailedPrecondition as error:
            assert error.reason == "NO_ANSWER"
            continue
        answered += 1
        tables = {t.name.lower() for t in schema.tables}
        columns = {c.name.lower() for t in schema.tables for c in t.columns}
        for candidate in result.candidates:
            tree = sqlglot.parse_one(candidate.sql, read=dialect)
            assert {t.name.lower() for t in tree.find_all(exp.Table)} <= tables, candidate.sql
            assert {c.name.lower() for c in tree.find_all(exp.Column)} <= columns, candidate.sql
            assert 0.0 <= candidate.confidence <= 1.0
    assert answered >= 0.9 * len(sample)
