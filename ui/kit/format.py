"""Shaping values for display, shared by every screen: ages, cut text, zones, table keys."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

import pandas as pd

from ui.kit.widgets import to_tz


def shown_tz(df: pd.DataFrame, tz: tzinfo) -> pd.DataFrame:
    """A frame for st.dataframe: times in the display zone, no attrs (Arrow cannot carry them)."""
    out = to_tz(df, tz)
    out.attrs = {}
    return out


def bucket_seconds(since: datetime, until: datetime) -> int:
    """Cell width for the window: 5 minutes up to 6 h, an hour up to 3 days, else a day."""
    span = until - since
    if span <= timedelta(hours=6):
        return 300
    return 3600 if span <= timedelta(days=3) else 86400


# Table cells show at most this many characters of a text (the export keeps the whole): a 5 MB error
# message must not go to the browser on every rerun.
CELL_CHARS = 500


def clip(value: object) -> object:
    """Text longer than CELL_CHARS cut, with its full size; anything else as it is."""
    if isinstance(value, str) and len(value) > CELL_CHARS:
        return f"{value[:CELL_CHARS]}… ({len(value):,} characters)"
    return value


def clipped(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The frame with its text `columns` cut for a table (see clip)."""
    return df.assign(**{c: df[c].map(clip) for c in columns if c in df.columns})


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """A copy without `attrs` (st.dataframe cannot serialise the as-of timestamp kept there)."""
    out = df.copy()
    out.attrs = {}
    return out


def position_key(*parts: object) -> str:
    """A short stable key for a table's page and filters."""
    return f"{zlib.crc32(repr(parts).encode()):08x}"


def human_age(seconds: float | None) -> str:
    """'3 min', '2.5 h', '4.0 d' (negative: 'in ...')."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    prefix = "in " if seconds < 0 else ""
    s = abs(seconds)
    if s < 120:
        return f"{prefix}{s:.0f} s"
    if s < 7200:
        return f"{prefix}{s / 60:.0f} min"
    if s < 172800:
        return f"{prefix}{s / 3600:.1f} h"
    return f"{prefix}{s / 86400:.1f} d"
