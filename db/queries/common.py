"""Shared pieces of the query functions: typed frames, UTC conversion, capped counts, page cursors."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

from db.types import naive_utc

# Counts over big tables stop at this many rows and are shown as "10,000+".
COUNT_CAP = 10_000
PAGE_SIZE = 100


def frame(
    rows: Sequence[Mapping[str, Any]] | Sequence[Any], dtypes: Mapping[str, str]
) -> pd.DataFrame:
    """A DataFrame with exactly `dtypes`' columns and types (empty when no rows).

    `rows`: mappings, or named rows (SQLAlchemy rows, NamedTuples); a column a row lacks is empty.
    """
    columns = _columns_of(rows, list(dtypes))
    index = pd.RangeIndex(len(rows))
    # One frame from the typed columns (assigning them one by one copies the frame each time).
    return pd.DataFrame(
        {col: _typed(columns[col], dtype, index) for col, dtype in dtypes.items()}, index=index
    )


def _columns_of(rows: Sequence[Any], names: list[str]) -> dict[str, Sequence[Any]]:
    missing = [math.nan] * len(rows)  # what pandas fills in for a key a row lacks
    if rows and not isinstance(rows[0], Mapping):
        by_name = dict(zip(rows[0]._fields, zip(*rows, strict=True), strict=True))
        return {col: by_name.get(col, missing) for col in names}
    return {col: [r.get(col, math.nan) for r in rows] for col in names}


def _typed(values: Sequence[Any], dtype: str, index: pd.RangeIndex) -> Any:
    """One column's values as its declared type: `coerce`, done directly for values that are already
    of the type (an Int64 column of ints, a 'utc' column of naive datetimes) as drivers give them."""
    kinds = set(map(type, values)) - {type(None)}
    try:
        if dtype == "Int64" and kinds <= {int}:
            return pd.array(values, dtype="Int64")
        if dtype == "float" and kinds <= {float}:
            return np.array([math.nan if v is None else v for v in values], dtype="float64")
        if dtype == "bool" and kinds <= {bool}:
            return pd.array(values, dtype="boolean")
        if (
            dtype == "utc"
            and kinds <= {datetime}
            and all(v is None or v.tzinfo is None for v in values)
        ):
            return pd.DatetimeIndex(values, dtype="datetime64[us]").tz_localize("UTC").array
        if dtype == "utc" and kinds == {int} and None not in values:  # epoch seconds
            stamps = pd.to_datetime(
                np.array(values, dtype="int64"), unit="s", utc=True, errors="coerce"
            )
            return stamps.astype("datetime64[us, UTC]").array
    except (OverflowError, TypeError, ValueError):  # out of the type's range: the general path says
        pass
    if dtype == "str" and kinds <= {str}:
        return pd.Series(values, dtype="object", index=index)
    return coerce(pd.Series(values, dtype="object", index=index), dtype)


def coerce(series: pd.Series, dtype: str) -> pd.Series:
    """One column to its declared type: 'utc' (tz-aware UTC), 'float', 'Int64', 'bool', 'str', 'object'."""
    if dtype == "utc":
        return to_utc(series)
    if dtype == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if dtype == "Int64":
        return pd.to_numeric(series, errors="coerce").round().astype("Int64")
    if dtype == "bool":
        return series.map(lambda v: None if v is None or v is pd.NA else bool(v)).astype("boolean")
    if dtype == "str":
        # pandas 3 infers its string dtype for text columns, turning None into NaN: keep it None.
        values = [
            None if v is None or v is pd.NA or v != v else str(v) for v in series.astype("object")
        ]
        return pd.Series(values, index=series.index, dtype="object")
    return series.astype("object")


def to_utc(series: pd.Series) -> pd.Series:
    """Naive-UTC datetimes of mixed precision (or their text) as tz-aware UTC; bad values NaT."""
    if series.empty:
        return pd.Series([], dtype="datetime64[us, UTC]", index=series.index)
    if series.dtype == object and _all_numbers(series):
        series = pd.to_numeric(
            series
        )  # epoch seconds in an object column (frame() builds object first)
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_datetime(series, unit="s", utc=True, errors="coerce").astype(
            "datetime64[us, UTC]"
        )
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    return parsed.astype("datetime64[us, UTC]")


def _all_numbers(series: pd.Series) -> bool:
    values = series.dropna()
    return bool(len(values)) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values
    )


def capped_count(session: Session, stmt: Select[Any], cap: int = COUNT_CAP) -> int:
    """Rows `stmt` would return, counting at most `cap` (shown as 'cap+')."""
    sub = stmt.limit(cap).subquery()
    return int(session.execute(select(func.count()).select_from(sub)).scalar_one())


def has_table(session: Session, name: str) -> bool:
    """True when the database has table `name`."""
    return bool(inspect(session.connection()).has_table(name))


# --- keyset page positions -------------------------------------------------------------------------
# A page position travels in the URL as JSON `[sort value, row id]`: a time as naive-UTC ISO text, a
# number as a JSON number (+-Infinity as JSON's Infinity token), text as text, NULL as null.


def make_cursor(value: Any, row_id: Any) -> str:
    """The URL text of a keyset position: the sort value of a row and its id."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        value = None
    elif isinstance(value, datetime):
        value = naive_utc(value).isoformat()
    elif hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    return json.dumps([value, row_id], separators=(",", ":"))


def read_cursor(raw: str) -> tuple[Any, Any]:
    """(sort value, row id) of a `make_cursor` text; ValueError when it is not one (from the URL)."""
    try:
        pair = json.loads(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("not a page position") from exc
    if not isinstance(pair, list) or len(pair) != 2:
        raise ValueError("not a page position")
    # NUL is refused in text by PostgreSQL: a position holding one would fail its query.
    if any(isinstance(v, str) and "\x00" in v for v in pair):
        raise ValueError("not a page position")
    return pair[0], pair[1]


def cursor_time(value: Any) -> datetime:
    """A cursor's time value (ISO text; naive means UTC) as naive UTC; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a time")
    try:
        return naive_utc(datetime.fromisoformat(value))
    except OverflowError as exc:  # an offset pushing year 1 or 9999 out of range
        raise ValueError("not a time") from exc


def read_time_cursor(raw: str) -> tuple[datetime, str]:
    """(time, text id) of a position in a list ordered by time then id; ValueError when malformed."""
    value, row_id = read_cursor(raw)
    if not isinstance(row_id, str):
        raise ValueError("not a page position")
    return cursor_time(value), row_id
