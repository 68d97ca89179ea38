"""Shared pieces of the query functions: typed empty frames, UTC conversion, capped counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

# Counts over big tables stop at this many rows and are shown as "10,000+".
COUNT_CAP = 10_000
PAGE_SIZE = 100


def frame(
    rows: Sequence[Mapping[str, Any]] | Sequence[Any], dtypes: Mapping[str, str]
) -> pd.DataFrame:
    """A DataFrame with exactly `dtypes`' columns and types (empty when no rows)."""
    if rows and not isinstance(rows[0], Mapping):
        rows = [dict(r._mapping) for r in rows]  # type: ignore[union-attr]
    # dtype=object first: pandas 3 would infer its string dtype and drop str subclasses
    # such as InvalidJSON (the "not valid JSON" marker).
    raw = pd.DataFrame(list(rows), columns=list(dtypes), dtype=object)
    # One frame from the coerced columns: assigning them one by one costs ~0.5-1 ms a column.
    return pd.DataFrame(
        {col: coerce(raw[col], dtype) for col, dtype in dtypes.items()}, index=raw.index
    )


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
