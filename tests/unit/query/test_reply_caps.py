"""A reply's byte caps: long values are cut with a warning naming the column and ``max_cell_bytes``, rows past
``max_reply_bytes`` are left out (``truncated``) with a warning naming it, and rows within both pass as they are."""

from __future__ import annotations

from decimal import Decimal

from chatdb.query.v1 import query_service_pb2
from chatdb_server.query.convert import rows_to_proto
from chatdb_server.query.domain import ByteCaps, Rows, capped
from chatdb_server.sql.values import ResultColumn

COLUMNS = [ResultColumn("id", "INT64", "INTEGER"), ResultColumn("body", "STRING", "TEXT"),
           ResultColumn("blob", "BYTES", "BLOB"), ResultColumn("doc", "JSON", "JSON")]


def test_rows_within_the_caps_pass_unchanged() -> None:
    rows = Rows(COLUMNS, [(1, "short", b"\x00\x01", {"a": 1}), (2, None, None, None)], truncated=False)
    assert capped(rows, ByteCaps(cell=100, reply=10_000)) == (rows, [])


def test_long_values_are_cut_to_the_cell_cap_with_a_warning_naming_the_column() -> None:
    rows = Rows(COLUMNS, [(1, "é" * 100, b"\xff" * 300, {"k": "v" * 500}), (2, "ok", b"", [])], truncated=False)
    result, warnings = capped(rows, ByteCaps(cell=64, reply=1_000_000))
    first = result.rows[0]
    assert first[0] == 1
    assert first[1] == "é" * 32 and len(first[1].encode()) == 64  # cut at a character boundary
    assert first[2] == b"\xff" * 64
    assert isinstance(first[3], str) and first[3].startswith('{"k": "vvv') and len(first[3].encode()) <= 64
    assert result.rows[1] == (2, "ok", b"", [])
    assert not result.truncated
    assert warnings == ["values longer than 64 bytes (max_cell_bytes) were cut in column(s) body, blob, doc"]


def test_rows_past_the_reply_cap_are_left_out_and_the_result_is_truncated() -> None:
    rows = Rows(COLUMNS[:2], [(i, "x" * 1_000) for i in range(100)], truncated=False)
    result, warnings = capped(rows, ByteCaps(cell=10_000, reply=10_000))
    assert 0 < len(result.rows) < 10 and result.truncated
    assert result.rows == rows.rows[:len(result.rows)]
    assert warnings == [f"only the first {len(result.rows)} of 100 rows are returned: more would exceed 10,000 bytes "
                        "(max_reply_bytes)"]
    wire = query_service_pb2.ExecuteSqlResponse(rows=rows_to_proto(result.columns, result.rows))
    assert wire.ByteSize() <= 10_000


def test_a_result_cut_by_the_database_stays_truncated() -> None:
    rows = Rows(COLUMNS[:1], [(1,), (Decimal("2.5"),)], truncated=True)
    result, warnings = capped(rows, ByteCaps(cell=10, reply=1_000))
    assert result.truncated and result.rows == rows.rows and warnings == []
