"""Result rows as a pandas DataFrame or an Arrow table, typed by their columns' wire types.

pandas and pyarrow are optional extras (``chatdb-client[pandas]``, ``chatdb-client[arrow]``),
imported only when a conversion is asked for. Types are kept rather than guessed from values:

| wire type | pandas dtype | Arrow type |
| --- | --- | --- |
| INTEGER | ``Int64`` (nullable) | ``int64`` |
| DOUBLE | ``Float64`` (nullable) | ``float64`` |
| DECIMAL | object of ``Decimal`` | ``decimal128(p, s)`` (``decimal256`` past 38 digits) |
| BOOL | ``boolean`` | ``bool`` |
| STRING | ``string`` | ``string`` |
| BYTES | object of ``bytes`` | ``binary`` |
| TIMESTAMP | ``datetime64[us, UTC]`` | ``timestamp[us, tz=UTC]`` |
| DATE | object of ``date`` | ``date32`` |
| TIME | object of ``time`` | ``time64[us]`` |
| JSON | object of parsed JSON | ``extension<arrow.json>`` over the JSON text |
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatdb_client.results import Column

MAX_DECIMAL128_DIGITS = 38
MAX_DECIMAL256_DIGITS = 76

_PANDAS_DTYPES = {"INTEGER": "Int64", "DOUBLE": "Float64", "BOOL": "boolean", "STRING": "string"}


def optional_module(name: str, extra: str) -> ModuleType:
    """Import an optional dependency, or fail saying which extra brings it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"this needs {name}: pip install 'chatdb-client[{extra}]'") from None


def to_pandas(columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> Any:
    """A ``pandas.DataFrame`` with one typed column per result column, in order. Duplicate labels are kept."""
    pd = optional_module("pandas", "pandas")
    series = [_pandas_series(pd, column, [row[index] for row in rows]) for index, column in enumerate(columns)]
    frame = pd.concat(series, axis=1) if series else pd.DataFrame(index=range(len(rows)))
    frame.columns = [column.name for column in columns]
    return frame


def to_arrow(columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> Any:
    """A ``pyarrow.Table`` with one typed column per result column, in order."""
    pa = optional_module("pyarrow", "arrow")
    arrays = [_arrow_array(pa, column, [row[index] for row in rows]) for index, column in enumerate(columns)]
    return pa.Table.from_arrays(arrays, names=[column.name for column in columns])


def _pandas_series(pd: ModuleType, column: Column, values: list[Any]) -> Any:
    if column.type in _PANDAS_DTYPES:
        return pd.Series(pd.array(values, dtype=_PANDAS_DTYPES[column.type]), name=column.name)
    if column.type == "TIMESTAMP":
        return pd.Series(pd.array(values, dtype=pd.DatetimeTZDtype(unit="us", tz="UTC")), name=column.name)
    return pd.Series(values, dtype=object, name=column.name)


def _arrow_array(pa: ModuleType, column: Column, values: list[Any]) -> Any:
    kind = column.type
    if kind == "JSON":
        text = [None if value is None else json.dumps(value) for value in values]
        json_type = getattr(pa, "json_", None)
        return pa.array(text, type=json_type(pa.string()) if json_type else pa.string())
    if kind == "DECIMAL":
        decimal_type = _decimal_type(pa, values)
        if pa.types.is_string(decimal_type):
            values = [None if value is None else str(value) for value in values]
        return pa.array(values, type=decimal_type)
    arrow_type = {
        "INTEGER": pa.int64(), "DOUBLE": pa.float64(), "BOOL": pa.bool_(), "STRING": pa.string(),
        "BYTES": pa.binary(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "DATE": pa.date32(),
        "TIME": pa.time64("us"),
    }.get(kind)
    return pa.array(values, type=arrow_type)


def _decimal_type(pa: ModuleType, values: list[Any]) -> Any:
    """The narrowest decimal type that holds every value exactly; string when none does."""
    scale, whole = 0, 1
    for value in values:
        if isinstance(value, Decimal):
            _, digits, exponent = value.as_tuple()
            if not isinstance(exponent, int):  # NaN or infinity: no decimal type holds it
                return pa.string()
            scale = max(scale, -exponent)
            whole = max(whole, len(digits) + exponent)
    precision = whole + scale
    if precision <= MAX_DECIMAL128_DIGITS:
        return pa.decimal128(precision, scale)
    if precision <= MAX_DECIMAL256_DIGITS:
        return pa.decimal256(precision, scale)
    return pa.string()
