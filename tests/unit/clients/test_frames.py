"""Results as dicts, pandas DataFrames and Arrow tables, typed by their columns: built from a reply as the
server sends it (the wire codec's rows), read back value for value."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from chatdb.common.v1 import value_pb2
from chatdb.query.v1 import query_service_pb2
from chatdb_client import QueryResult
from chatdb_client.exports import ExportFile, format_for
from chatdb_client.results import ExportPart
from chatdb_client.values import to_row

COLUMNS = [("id", "INTEGER"), ("ratio", "DOUBLE"), ("total", "DECIMAL"), ("paid", "BOOL"), ("name", "STRING"),
           ("blob", "BYTES"), ("at", "TIMESTAMP"), ("born", "DATE"), ("opens", "TIME"), ("prefs", "JSON")]
ROWS = [
    (9_007_199_254_740_993, 0.25, Decimal("12.50"), True, "Zoë", b"\x00\xff",
     dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.UTC), dt.date(1990, 7, 14), dt.time(9, 30),
     {"tags": ["a", "b"], "n": 1}),
    (-2, None, Decimal("-0.05"), None, None, None, None, None, None, None),
    (3, float("nan"), Decimal("123456.78"), False, "", b"", dt.datetime(1, 1, 1, tzinfo=dt.UTC),
     dt.date(9999, 12, 31), dt.time(23, 59, 59, 999999), [1, 2]),
]


def result(columns: list[tuple[str, str]] = COLUMNS, rows: list[tuple[object, ...]] = ROWS) -> QueryResult:
    reply = query_service_pb2.ExecuteSqlResponse(
        sql="SELECT ...", columns=[value_pb2.ResultColumn(name=n, type=value_pb2.ValueType.Value("VALUE_TYPE_" + t))
                                   for n, t in columns],
        rows=[to_row(row) for row in rows], row_count=len(rows))
    return QueryResult.from_proto(reply)


def test_rows_as_dicts_keep_python_types() -> None:
    answer = result()
    dicts = answer.to_dicts()
    assert dicts[0]["total"] == Decimal("12.50") and dicts[0]["prefs"] == {"tags": ["a", "b"], "n": 1}
    assert dicts[1] == {"id": -2, "ratio": None, "total": Decimal("-0.05"), "paid": None, "name": None, "blob": None,
                        "at": None, "born": None, "opens": None, "prefs": None}
    assert answer.records() == dicts


def test_a_dataframe_has_a_typed_column_per_result_column() -> None:
    frame = result().to_pandas()
    assert list(frame.columns) == [name for name, _ in COLUMNS]
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "id": "Int64", "ratio": "Float64", "total": "object", "paid": "boolean", "name": "string", "blob": "object",
        "at": "datetime64[us, UTC]", "born": "object", "opens": "object", "prefs": "object"}
    assert frame["id"].tolist() == [9_007_199_254_740_993, -2, 3]  # past 2**53: no float on the way
    assert frame["ratio"].isna().tolist() == [False, True, True]  # NULL and NaN are both missing in Float64
    assert frame["total"].tolist() == [Decimal("12.50"), Decimal("-0.05"), Decimal("123456.78")]
    assert frame["paid"].tolist() == [True, pd.NA, False]
    assert frame["at"][0] == pd.Timestamp("2023-11-14 22:13:20.123456", tz="UTC")
    assert frame["at"][2].year == 1  # microsecond precision keeps years nanoseconds cannot hold
    assert frame["born"].tolist() == [dt.date(1990, 7, 14), None, dt.date(9999, 12, 31)]
    assert frame["prefs"][0] == {"tags": ["a", "b"], "n": 1} and frame["prefs"][2] == [1, 2]


def test_an_arrow_table_has_the_arrow_type_of_each_wire_type() -> None:
    table = result().to_arrow()
    assert table.schema.names == [name for name, _ in COLUMNS]
    types = {field.name: field.type for field in table.schema}
    assert types["id"] == pa.int64() and types["ratio"] == pa.float64()
    assert types["total"] == pa.decimal128(8, 2)
    assert (types["paid"], types["name"], types["blob"]) == (pa.bool_(), pa.string(), pa.binary())
    assert types["at"] == pa.timestamp("us", tz="UTC")
    assert (types["born"], types["opens"]) == (pa.date32(), pa.time64("us"))
    assert types["prefs"] == pa.json_(pa.string())
    assert table.column("total").to_pylist() == [Decimal("12.50"), Decimal("-0.05"), Decimal("123456.78")]
    assert table.column("at").to_pylist()[0] == dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.UTC)
    assert table.column("id").to_pylist() == [9_007_199_254_740_993, -2, 3]
    assert [None if v is None else json.loads(v) for v in table.column("prefs").to_pylist()] == [
        {"tags": ["a", "b"], "n": 1}, None, [1, 2]]
    assert table.column("opens").to_pylist()[2] == dt.time(23, 59, 59, 999999)


def test_decimals_get_the_narrowest_exact_type() -> None:
    wide = Decimal("1" * 40 + ".5")
    table = result([("n", "DECIMAL")], [(wide,), (None,)]).to_arrow()
    assert table.schema.field("n").type == pa.decimal256(41, 1) and table.column("n").to_pylist()[0] == wide
    huge = Decimal("9" * 80)
    assert result([("n", "DECIMAL")], [(huge,)]).to_arrow().column("n").to_pylist() == [str(huge)]
    assert result([("n", "DECIMAL")], [(None,)]).to_arrow().schema.field("n").type == pa.decimal128(1, 0)


def test_an_empty_result_keeps_its_columns_and_types() -> None:
    empty = result(rows=[])
    assert empty.to_pandas().shape == (0, len(COLUMNS)) and str(empty.to_pandas()["id"].dtype) == "Int64"
    assert empty.to_arrow().num_rows == 0 and empty.to_arrow().schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert empty.to_dicts() == []


@pytest.mark.parametrize(("module", "extra", "convert"), [("pandas", "pandas", QueryResult.to_pandas),
                                                          ("pyarrow", "arrow", QueryResult.to_arrow)])
def test_a_missing_extra_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch, module: str, extra: str,
                                               convert: object) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what an environment without the package gives import
    with pytest.raises(ImportError, match=rf"pip install 'chatdb-client\[{extra}\]'"):
        convert(result())  # type: ignore[operator]


def test_an_export_file_appears_only_once_its_summary_arrived(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with ExportFile(target) as sink:
        for part in (ExportPart("header"), ExportPart("chunk", data=b"a,b\n"), ExportPart("chunk", data=b"1,2\n"),
                     ExportPart("summary", row_count=1, byte_count=8)):
            sink.take(part)
            assert not target.exists() or part.kind == "summary"
    assert target.read_bytes() == b"a,b\n1,2\n" and sink.summary is not None and sink.summary.row_count == 1
    broken = tmp_path / "broken.csv"
    with pytest.raises(ConnectionError, match="without its summary"), ExportFile(broken) as sink:
        sink.take(ExportPart("chunk", data=b"a,b\n"))
    assert list(tmp_path.iterdir()) == [target]


def test_the_export_format_comes_from_the_suffix_unless_named() -> None:
    assert format_for("rows.parquet", None) == "parquet" and format_for("rows.JSONL", None) == "json_lines"
    assert format_for("rows.txt", "csv") == "csv"
    with pytest.raises(ValueError, match="name the format"):
        format_for("rows.txt", None)
