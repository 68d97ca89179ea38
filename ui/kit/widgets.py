"""Small shared widgets: database-failure guard, freshness line, safe export, safe text."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit.errors import StreamlitDuplicateElementKey

from db import data
from db.errors import DbProblem, classify
from db.types import InvalidJSON, dumps_deep

log = logging.getLogger("console.ui")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def show_problem(problem: DbProblem, *, where: str = "") -> None:
    """A database problem as a plain message, with a retry button; never SQL or a traceback."""
    prefix = f"{where}: " if where else ""
    if problem.kind in ("missing_table", "timeout", "busy"):
        st.warning(prefix + problem.message, icon="⚠️")
    else:
        st.error(prefix + problem.message, icon="🚫")
    if st.button("Retry", key=f"retry_{where or 'page'}_{problem.kind}", icon=":material/refresh:"):
        data.refresh(
            None
        )  # what this page read so far (e.g. the table list), not every user's caches
        st.rerun()


def report_refusal(exc: Exception, *, nothing_done: str = "Nothing was changed.") -> None:
    """Why a command wrote nothing: a database failure as its plain message, a refusal
    (permission, conflict, validation) as its reason shown literally."""
    if isinstance(exc, SQLAlchemyError):
        st.error(classify(exc).message, icon="🚫")
    else:
        st.error(nothing_done, icon="🚫")
        st.text(str(exc))


@contextmanager
def guard(where: str = "", *, stop: bool = False) -> Iterator[None]:
    """Run a panel; a database failure becomes a clear message (and optionally stops the page)."""
    try:
        yield
    except SQLAlchemyError as exc:
        log.warning("database problem in %s: %s", where or "page", type(exc).__name__)
        show_problem(classify(exc), where=where)
        if stop:
            st.stop()


def freshness(result: Any, *, key: str, tz: tzinfo | None = None) -> None:
    """'Data as of hh:mm:ss' and a refresh button that drops the cached read `result` came from
    (data.refresh: only that read, or, for a result that lost its origin, this page run's reads)."""
    # One horizontal block (not two columns: 3 elements instead of 5, on every panel of every rerun).
    row = st.container(
        horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"
    )
    when = data.as_of(result)
    if when is not None:
        shown = when.astimezone(tz) if tz else when
        row.caption(f"Data as of {shown:%H:%M:%S %Z}".strip(), width="content")
    if row.button(
        "Refresh",
        key=f"{key}_refresh",
        icon=":material/refresh:",
        help="Read again from the database",
    ):
        data.refresh(result)
        st.rerun()


# A ';' or a tab inside a cell separates cells for a spreadsheet that reads the file with that
# delimiter (a ';' locale, a paste): what follows must not start with a formula character either.
# (',' needs no mark: the writer quotes every cell holding one, and those readers do not split on it.)
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;\t])(?=[=+\-@\t\r])")


def neutralise_cell(value: Any) -> Any:
    """A CSV cell that cannot run as a spreadsheet formula, whichever delimiter the spreadsheet uses:
    an apostrophe before a leading formula character, and after a ';' or tab that one follows."""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, InvalidJSON):
        return {"invalid_json_text": str(value)}
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The frame as formula-safe CSV (JSON cells as JSON text)."""
    out = df.copy()
    for col in out.columns:
        # pandas 3 gives pure-text columns the `str` dtype, not object: both must be neutralised.
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = (
                out[col]
                .astype(object)
                .map(
                    lambda v: neutralise_cell(
                        json.dumps(v, default=str) if isinstance(v, dict | list) else v
                    )
                )
            )
    buf = io.StringIO()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    # CRLF rows (RFC 4180): the writer then quotes any cell holding a CR or LF, so a bare CR in
    # database text cannot start a new spreadsheet row that begins with a formula.
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


def to_json_bytes(df: pd.DataFrame) -> bytes:
    """The frame as a JSON array of records, JSON columns kept as JSON."""
    records = [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
    return json.dumps(records, default=str, ensure_ascii=False, indent=1).encode("utf-8")


def export_buttons(
    df: pd.DataFrame | Callable[[], pd.DataFrame], *, key: str, filename: str
) -> None:
    """CSV and JSON downloads of `df` (the whole filtered set, formula-safe).

    The files are made when a button is clicked, not on every rerun (Streamlit's deferred
    download data): a rerun costs nothing for an export nobody asked for. `df` may also be a
    function returning the frame, so that reading the whole set waits for the click too.
    """
    source = df if callable(df) else (lambda: df)
    row = st.container(horizontal=True)  # one block, not a column each
    row.download_button(
        "Export CSV",
        lambda: to_csv_bytes(source()),
        f"{filename}.csv",
        "text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    row.download_button(
        "Export JSON",
        lambda: to_json_bytes(source()),
        f"{filename}.json",
        "application/json",
        key=f"{key}_json",
        icon=":material/download:",
        on_click="ignore",
    )


# Text longer than this is shown cut, with its size and a download of the whole: a page sends what
# it shows on every rerun, and a 5 MB error message made each rerun of its page cost seconds.
MAX_SHOWN_CHARS = 20_000
# JSON nested deeper than this is shown as text: st.json (and json.dumps) recurse once a level.
MAX_JSON_DEPTH = 100


def _download_whole(text: str, *, key: str | None, what: str) -> None:
    """A button that downloads `text` whole; the file is made only when it is clicked."""
    base = key or f"show_text_{hashlib.sha1(text.encode('utf-8', 'replace')).hexdigest()[:16]}"
    for n in range(1, 100):  # two equal values on one page: the second gets its own key
        try:
            st.download_button(
                f"Download the whole {what}",
                lambda: text.encode("utf-8", "replace"),
                file_name=f"{what}.txt",
                mime="text/plain",
                key=base if n == 1 else f"{base}_{n}",
                icon=":material/download:",
                on_click="ignore",
            )
            return
        except StreamlitDuplicateElementKey:
            continue


def show_text(value: Any, *, key: str | None = None, what: str = "text") -> None:
    """Database text shown literally (no Markdown, no HTML); past MAX_SHOWN_CHARS cut, with its size
    and a download of the whole."""
    text = "" if value is None else str(value)
    if len(text) <= MAX_SHOWN_CHARS:
        st.code(text, language=None, wrap_lines=True)
        return
    st.caption(f"Showing the first {MAX_SHOWN_CHARS:,} of {len(text):,} characters.")
    st.code(text[:MAX_SHOWN_CHARS], language=None, wrap_lines=True)
    _download_whole(text, key=key, what=what)


def json_depth(value: Any, *, stop_at: int = MAX_JSON_DEPTH + 1) -> int:
    """How deeply lists and dicts nest in `value` (counted without recursion, up to `stop_at`)."""
    deepest, todo = 0, [(value, 1)]
    while todo and deepest < stop_at:
        item, level = todo.pop()
        children = (
            item.values()
            if isinstance(item, dict)
            else item
            if isinstance(item, list | tuple)
            else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        todo.extend(
            (child, level + 1) for child in children if isinstance(child, dict | list | tuple)
        )
    return deepest


def show_json(value: Any, *, key: str = "") -> None:
    """JSON shown literally; text that is not valid JSON is shown as text with a marker. A value too
    deep or too big for the JSON viewer is shown as text (cut, with its size and a download)."""
    if isinstance(value, InvalidJSON):
        st.caption("⚠️ Stored text is not valid JSON; shown as it is.")
        show_text(str(value), key=key or None, what="value")
    elif isinstance(value, dict | list):
        if json_depth(value) > MAX_JSON_DEPTH:
            st.caption(f"⚠️ Nested more than {MAX_JSON_DEPTH} levels deep; shown as text.")
            show_text(dumps_deep(value, default=str), key=key or None, what="value")
            return
        text = json.dumps(value, default=str)
        if len(text) > MAX_SHOWN_CHARS:
            st.caption("Too large for the JSON viewer; shown as text.")
            show_text(text, key=key or None, what="value")
        else:
            st.json(value, expanded=2)
    elif value is None:
        st.caption("(no value)")
    else:
        show_text(json.dumps(value, default=str), key=key or None, what="value")


def fmt_count(n: int | None, cap: int | None = None) -> str:
    """'1,234', or '10,000+' when a capped count hit its cap."""
    if n is None:
        return "–"
    if cap is not None and n >= cap:
        return f"{cap:,}+"
    return f"{n:,}"


def local_time(value: Any, tz: tzinfo) -> str:
    """A UTC timestamp shown in the user's timezone ('–' when missing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return "–"
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S")


def to_tz(df: pd.DataFrame, tz: tzinfo, columns: list[str] | None = None) -> pd.DataFrame:
    """Copy of `df` with its tz-aware datetime columns converted to `tz` for display."""
    out = df.copy()
    for col in columns or list(out.columns):
        if col in out and isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(tz)
    return out
