"""Audit log sections: filters (in the URL), the page position, counts, export, the entry table with
its pager, one entry's before/after and diff. The page reads; these draw what they are given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from db.queries import audit as qa
from db.queries.common import make_cursor, read_time_cursor
from ui.kit import urlstate
from ui.kit.diff import diff
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, fmt_count, freshness, show_json, to_tz

CURSOR = "audit_cursor"  # stack of (at, id) page starts, for "newer" after "older"
EXPORT_LIMIT = 5_000


def filters(f: Frame, values: pd.DataFrame) -> dict[str, Any]:
    """Actor, action, target type and target id filters over the window's audit rows (`values`:
    their distinct actor, action and target_type); the query keywords they give."""
    actors, actions = sorted(set(values["actor"].dropna())), sorted(set(values["action"].dropna()))
    types = sorted(set(values["target_type"].dropna()))
    c1, c2, c3, c4 = st.columns(4)
    picked_actors = c1.multiselect(
        "Who", actors, default=urlstate.many("who", actors), key="audit_who"
    )
    picked_actions = c2.multiselect(
        "Action", actions, default=urlstate.many("act", actions), key="audit_act"
    )
    type_options = ["", *types]
    target_type = c3.selectbox(
        "Target type",
        type_options,
        format_func=lambda v: v or "(all)",
        key="audit_type",
        index=type_options.index(urlstate.choice("type", type_options, "")),
    )
    target_id = c4.text_input(
        "Target id", urlstate.text("target"), key="audit_target", max_chars=255
    ).strip()
    urlstate.put(
        who=picked_actors, act=picked_actions, type=target_type or None, target=target_id or None
    )
    filt = {
        "since": f.since,
        "until": f.until,
        "actors": tuple(picked_actors),
        "actions": tuple(picked_actions),
        "target_type": target_type,
        "target_id": target_id,
    }
    previous = st.session_state.get("audit_filter_key")
    if previous != repr(filt):
        st.session_state["audit_filter_key"] = repr(filt)
        st.session_state[CURSOR] = []
        if (
            previous is not None
        ):  # changed filters start on the newest page (a fresh link keeps its page)
            urlstate.remove("before")
    return filt


def _url_cursor() -> tuple[datetime, str] | None:
    """The page position from the URL (`before`), so a shared link opens the same page."""
    raw = urlstate.text("before")
    if not raw:
        return None
    try:
        return read_time_cursor(raw)
    except ValueError:
        st.warning(
            "Ignored the URL parameter `before`: it is not a page position of this log.", icon="⚠️"
        )
        urlstate.remove("before")
        return None


def _put_position(stack: list[tuple[datetime, str]]) -> None:
    urlstate.put(before=make_cursor(*stack[-1]) if stack else None)


def position() -> list[tuple[datetime, str]]:
    """The stack of page starts (newest page: empty), seeded from the URL's `before` so a shared
    link opens the same page; the top is the position of the page to read."""
    stack: list[tuple[datetime, str]] = st.session_state.setdefault(CURSOR, [])
    cursor = _url_cursor()
    if not stack and cursor is not None:
        stack.append(cursor)
    _put_position(stack)
    return stack


def summary(f: Frame, rows: pd.DataFrame, total: int) -> None:
    """When the page was read, and how many entries match, people on the page, rows shown."""
    freshness(rows, key="audit", tz=f.tz)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Entries ({f.label})", fmt_count(total, qa.COUNT_CAP))
    c2.metric("People on this page", fmt_count(rows["actor"].nunique()))
    c3.metric("Shown", fmt_count(len(rows)))


def export(everything: pd.DataFrame, total: int) -> None:
    """CSV and JSON of the newest EXPORT_LIMIT matching entries (also when empty: the columns)."""
    export_buttons(everything, key="audit_export", filename="audit_log")
    if total > EXPORT_LIMIT:
        st.caption(
            f"The export holds the newest {EXPORT_LIMIT:,} of these entries; narrow the filters for the rest."
        )


def table(rows: pd.DataFrame, f: Frame) -> None:
    """The page's entries, newest first, times in the user's zone."""
    st.dataframe(
        to_tz(rows, f.tz)[["at", "actor", "action", "target_type", "target_id", "note"]],
        hide_index=True,
    )


def pager(stack: list[tuple[datetime, str]], rows: pd.DataFrame) -> None:
    """Newer (back up the stack) and Older (past the page's last entry); the position in the URL."""
    c1, c2 = st.columns(2)
    if stack and c1.button("Newer", key="audit_newer", icon=":material/arrow_back:"):
        stack.pop()
        _put_position(stack)
        st.rerun()
    if len(rows) == qa.PAGE_SIZE and c2.button(
        "Older", key="audit_older", icon=":material/arrow_forward:"
    ):
        last = rows.iloc[-1]
        stack.append((last["at"].to_pydatetime(), str(last["id"])))
        _put_position(stack)
        st.rerun()


def detail(rows: pd.DataFrame, f: Frame) -> None:
    """One entry of the page: before, after, and what changed between them."""
    labels = {
        str(
            r.id
        ): f"{r.at.astimezone(f.tz):%Y-%m-%d %H:%M:%S} · {r.action} · {r.target_id} · {str(r.id)[:8]}"
        for r in rows.itertuples()
    }
    picked = st.selectbox("Entry", list(labels), format_func=labels.__getitem__, key="audit_entry")
    rec = rows.set_index("id").loc[picked]
    st.text(f"{rec['actor']} · {rec['action']} · {rec['target_type']} {rec['target_id']}")
    if rec["note"]:
        st.text(f"note: {rec['note']}")
    c1, c2 = st.columns(2)
    with c1:
        st.caption("Before")
        show_json(rec["before"])
    with c2:
        st.caption("After")
        show_json(rec["after"])
    if isinstance(rec["before"], dict) and isinstance(rec["after"], dict):
        st.caption("Changed (a = before, b = after)")
        st.dataframe(diff(rec["before"], rec["after"]), hide_index=True)
