"""``chatdb eval``'s parts without a server: reading question sets, the comparison, Spider difficulty,
grading against a stand-in client, and the report."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from chatdb_cli.evaluation import report as reports
from chatdb_cli.evaluation.compare import Result, compare, is_ordered, normalise
from chatdb_cli.evaluation.questions import Case, QuestionSetError, load, source_id
from chatdb_cli.evaluation.runner import Outcome, Settings, grade_all
from chatdb_client import AskResult, ChatDBError, Column, QueryResult

EASY_SQL = {"select": [False, [[0, [0, [0, "__all__", False], None]]]], "from": {"table_units": [["table_unit", 0]],
            "conds": []}, "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
            "intersect": None, "union": None, "except": None}


@pytest.mark.parametrize(("gold", "predicted", "ordered", "lenient", "strict"), [
    pytest.param([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], False, True, True, id="same_rows_any_order"),
    pytest.param([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], True, False, False, id="order_matters_when_gold_orders"),
    pytest.param([(1,), (2,)], [("x", 1), ("y", 2)], False, True, False, id="extra_column_is_lenient_only"),
    pytest.param([(1,), (2,)], [(1,), (3,)], False, False, False, id="other_values"),
    pytest.param([(1,)], [(1,), (1,)], False, False, False, id="other_row_count"),
])
def test_results_compare_leniently_and_strictly(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]],
                                                ordered: bool, lenient: bool, strict: bool) -> None:
    verdict = compare(Result.of(gold, len(gold[0])), Result.of(predicted, len(predicted[0])), ordered)
    assert (verdict.lenient, verdict.strict) == (lenient, strict)


def test_values_from_every_driver_compare_alike() -> None:
    assert [normalise(v) for v in (True, Decimal("2.50"), 3.0, 1 / 3, b"x", dt.date(2024, 5, 1))] == [
        1, 2.5, 3, 0.3333, "x", "2024-05-01"]


def test_gold_sql_orders_its_rows_only_with_an_outer_order_by() -> None:
    assert is_ordered("SELECT a FROM t ORDER BY a")
    assert not is_ordered("SELECT a FROM (SELECT a FROM t ORDER BY a) AS s")
    assert is_ordered("SELECT a FROM t ORDER BY a NULLS FIRST", "postgres")


def test_a_spider_file_gives_cases_with_their_difficulty(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([
        {"db_id": "concert_singer", "question": "How many singers?", "query": "SELECT count(*) FROM singer",
         "sql": EASY_SQL},
        {"db_id": "pets_1", "question": "How many pets?", "query": "SELECT count(*) FROM pets"},
    ]))
    cases = load(path)
    assert [(c.number, c.database, c.category) for c in cases] == [(1, "concert_singer", "easy"), (2, "pets_1", "all")]
    assert [c.database for c in load(path, databases={"pets_1"})] == ["pets_1"]
    assert len(load(path, limit=1)) == 1
    assert source_id("concert_singer") == "concert-singer"


def test_a_csv_gives_cases_with_its_category_column(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text("question,gold_sql,database,category\n"
                    "How many customers?,SELECT COUNT(*) FROM customers,shop,counting\n"
                    "Names?,SELECT name FROM customers,shop,\n")
    cases = load(path)
    assert [(c.question, c.database, c.category) for c in cases] == [
        ("How many customers?", "shop", "counting"), ("Names?", "shop", "all")]


@pytest.mark.parametrize(("name", "text", "complaint"), [
    pytest.param("set.csv", "question,database\nq,shop\n", "the header lacks gold_sql", id="csv_missing_column"),
    pytest.param("set.csv", "question,gold_sql,database\nq,,shop\n", "row 1 has no gold_sql", id="csv_empty_value"),
    pytest.param("dev.json", '{"db_id": "x"}', "a JSON list", id="json_not_a_list"),
    pytest.param("dev.json", '[{"db_id": "x"}]', "question 1 lacks question, query", id="json_missing_keys"),
    pytest.param("dev.json", "[{", "not readable JSON", id="json_broken"),
    pytest.param("set.txt", "", "a Spider .json or a .csv", id="unknown_suffix"),
])
def test_a_bad_question_set_says_what_is_wrong(tmp_path: Path, name: str, text: str, complaint: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(QuestionSetError, match=complaint):
        load(path)


class StandIn:
    """A client whose answers are set per question and whose gold SQL answers per statement."""

    def __init__(self, answers: dict[str, AskResult | ChatDBError], gold: dict[str, QueryResult | ChatDBError]):
        self.answers, self.gold = answers, gold

    def ask(self, source: str, question: str, max_rows: int = 0, model: str = "") -> AskResult:
        return _or_raise(self.answers[question])

    def execute_sql(self, source: str, sql: str, max_rows: int = 0) -> QueryResult:
        return _or_raise(self.gold[sql])


def _or_raise(value: Any) -> Any:
    if isinstance(value, ChatDBError):
        raise value
    return value


def _rows(rows: list[tuple[Any, ...]], sql: str = "", executed: bool = True, low: bool = False) -> AskResult:
    columns = [Column(f"c{i}", "INTEGER", "INTEGER") for i in range(len(rows[0]) if rows else 1)]
    return AskResult("", sql, columns, rows, len(rows), False, [], None, "TEMPLATE", False, None,
                     executed=executed, low_confidence=low, model="template")


def test_grading_sorts_answers_into_outcomes_and_the_report_counts_them(tmp_path: Path) -> None:
    cases = [Case(1, "right", "G1", "shop", "easy"), Case(2, "wrong", "G1", "shop", "easy"),
             Case(3, "declined", "G1", "shop", "hard"), Case(4, "failed", "G1", "shop", "hard"),
             Case(5, "bad gold", "G2", "shop", "hard")]
    client = StandIn(
        {"right": _rows([(3,)], "S1"), "wrong": _rows([(4,)], "S2"), "declined": _rows([], low=True, executed=False),
         "failed": ChatDBError(grpc.StatusCode.FAILED_PRECONDITION, "no safe SQL"), "bad gold": _rows([(1,)], "S5")},
        {"G1": _rows([(3,)]), "G2": ChatDBError(grpc.StatusCode.INVALID_ARGUMENT, "unknown table")})
    graded = grade_all(client, cases, {"shop": "sqlite"}, Settings())
    assert [g.outcome for g in graded] == [Outcome.CORRECT, Outcome.WRONG, Outcome.NO_ANSWER, Outcome.ASK_ERROR,
                                           Outcome.GOLD_ERROR]
    assert graded[3].error == "FAILED_PRECONDITION: no safe SQL"
    assert (graded[4].predicted_sql, graded[4].error) == ("S5", "INVALID_ARGUMENT: unknown table")

    report = reports.build("set.csv", "127.0.0.1:1", graded)
    overall = report.overall
    assert (overall.questions, overall.lenient, overall.strict, overall.no_answer, overall.ask_errors,
            overall.gold_errors) == (4, 1, 1, 1, 1, 1)
    assert overall.lenient_accuracy == 0.25
    assert report.by_category["easy"].lenient_accuracy == 0.5
    assert report.by_category["hard"].questions == 2
    assert report.served_by == {"TEMPLATE": 3}

    json_path, markdown_path = report.write(tmp_path / "out")
    written = json.loads(json_path.read_text())
    assert written["overall"]["lenient_accuracy"] == 0.25
    assert [q["outcome"] for q in written["questions"]] == [g.outcome for g in graded]
    markdown = markdown_path.read_text()
    assert "| **all** | 4 | 25.0% | 25.0% | 1 | 1 | 1 |" in markdown
    assert "| 2 | shop | wrong | wrong | S2 |" in markdown


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (reports.percentile(values, 0.5), reports.percentile(values, 0.95)) == (50.0, 95.0)
    assert reports.percentile([], 0.5) is None
