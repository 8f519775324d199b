"""Masked values: stable under one key, different under another, never the value, NULL kept; only the
positions asked for are masked, and those columns become text."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from decimal import Decimal

from chatdb_server.access.masking import MASKED_DATABASE_TYPE, Masker
from chatdb_server.sql.values import ResultColumn

MASKED = re.compile(r"masked:[0-9a-f]{12}")


def test_a_masked_value_is_a_keyed_digest_of_its_text() -> None:
    masker = Masker(b"server key")
    masked = masker.value("111-11-1111")
    assert masked is not None and MASKED.fullmatch(masked)
    key = hashlib.sha256(b"chatdb column masking\nserver key").digest()
    assert masked == "masked:" + hmac.new(key, b"111-11-1111", hashlib.sha256).hexdigest()[:12]
    assert masked != "masked:" + hashlib.sha256(b"111-11-1111").hexdigest()[:12]


def test_equal_values_mask_alike_and_other_values_or_keys_do_not() -> None:
    masker = Masker(b"k")
    assert masker.value("a@x") == Masker(b"k").value("a@x")
    assert masker.value("a@x") != masker.value("b@x")
    assert masker.value("a@x") != Masker(b"other").value("a@x")


def test_null_stays_null_and_every_cell_type_masks_to_text() -> None:
    masker = Masker()
    assert masker.value(None) is None
    for value in (42, Decimal("1.50"), 2.5, True, date(2024, 1, 2), b"\x00\xff", {"a": 1}):
        masked = masker.value(value)
        assert masked is not None and MASKED.fullmatch(masked), value
    assert masker.value(b"\x00\xff") == masker.value("00ff")


def test_only_the_given_positions_are_masked_and_typed_as_text() -> None:
    columns = [ResultColumn("id", "INTEGER", "INTEGER"), ResultColumn("ssn", "STRING", "TEXT"),
               ResultColumn("salary", "DECIMAL", "NUMERIC")]
    rows = [(1, "111-11-1111", Decimal("10.00")), (2, None, Decimal("12.50"))]
    masker = Masker(b"k")
    typed, masked = masker.result(columns, rows, [1, 2, 7])
    assert typed[0] == columns[0]
    assert typed[1] == ResultColumn("ssn", "STRING", MASKED_DATABASE_TYPE)
    assert typed[2] == ResultColumn("salary", "STRING", MASKED_DATABASE_TYPE)
    assert [row[0] for row in masked] == [1, 2]
    assert masked[0][1] == masker.value("111-11-1111") and masked[1][1] is None
    assert masked[1][2] == masker.value(Decimal("12.50")) and "12.50" not in repr(masked)


def test_nothing_to_mask_returns_the_rows_as_they_are() -> None:
    columns = [ResultColumn("id", "INTEGER")]
    assert Masker().result(columns, [[1], [2]], []) == (columns, [(1,), (2,)])
