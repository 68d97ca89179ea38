"""Values built from cached reads, built once and shared by later reruns and sessions
(perf/README.md: "derived", "ready tables", "ready figures")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

import perf

T = TypeVar("T")


class ReadyFigure(go.Figure):
    """A shared figure whose dict form is made once: st.plotly_chart calls `to_dict()` on every
    rerun, which copies and encodes the whole figure again. Read-only once built."""

    def __init__(self, fig: go.Figure) -> None:
        super().__init__(layout={"template": {}}, _validate=False)  # an empty shell
        self._ready = fig.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return self._ready

    def to_plotly_json(self) -> dict[str, Any]:
        return self._ready


def ready_table(df: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """The frame as the Arrow table st.dataframe sends (no index, no attrs); a frame Arrow refuses
    (mixed types from strange data) stays a frame, which st.dataframe converts with its own fixes."""
    plain = df.copy(deep=False)
    plain.attrs = {}
    try:
        return pa.Table.from_pandas(plain, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return plain


def _ready(value: object, *, table: bool) -> object:
    if isinstance(value, go.Figure) and not isinstance(value, ReadyFigure):
        return ReadyFigure(value)
    if table and isinstance(value, pd.DataFrame):
        return ready_table(value)
    return value


@st.cache_resource(ttl=120, max_entries=64, show_spinner=False)
def _derived(key: str, _build: Callable[[], object]) -> object:
    return _build()


def derived(build: Callable[..., T], *frames: Any, table: bool = False, **kwargs: object) -> T:
    """`build(*frames, **kwargs)`, shared by later reruns and sessions while its inputs are the same:
    frames (results of data.fetch) are named by their read time ('as_of'), length and columns, the
    other arguments by value. A figure comes back ready to draw, and with `table=True` a frame as
    the Arrow table st.dataframe sends (for st.dataframe only). The result is shared: callers must
    not change it. Inputs without 'as_of', or switched off: built each time, as it is."""

    def built() -> Any:
        return _ready(build(*frames, **kwargs), table=table)

    if not perf.enabled() or any("as_of" not in getattr(df, "attrs", {}) for df in frames):
        return build(*frames, **kwargs)
    key = (
        build.__module__,
        build.__qualname__,
        table,
        tuple(
            (
                df.attrs["as_of"],
                len(df) if hasattr(df, "__len__") else 0,
                tuple(getattr(df, "columns", ())),
            )
            for df in frames
        ),
        tuple(sorted((k, repr(v)) for k, v in kwargs.items())),
    )
    return _derived(repr(key), built)  # type: ignore[return-value]
