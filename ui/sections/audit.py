"""Audit log sections: filters (in the URL), a keyset-paged table, one entry's before/after and diff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from db import data
from db.queries import audit as qa
from db.queries.common import make_cursor, read_time_cursor
from ui.kit import urlstate
from ui.kit.diff import diff
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, fmt_count, freshness, show_json, to_tz

CURSOR = "audit_cursor"  # stack of (at, id) page starts, for "newer" after "older"
EXPORT_LIMIT = 5_000


def filters(f: Frame) -> dict[str, Any]:
    """Actor, action, target type and target id filters over the window's audit rows."""
    values = data.fetch(qa.audit_filter_values, since=f.since, until=f.until)
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


def page(f: Frame, filt: dict[str, Any]) -> pd.DataFrame:
    """The current page of entries (newest first) with older/newer navigation (position in the URL)."""
    stack: list[tuple[datetime, str]] = st.session_state.setdefault(CURSOR, [])
    cursor = _url_cursor()
    if not stack and cursor is not None:
        stack.append(cursor)
    _put_position(stack)
    before_at, before_id = stack[-1] if stack else (None, "")
    rows = data.fetch(qa.audit_entries, before_at=before_at, before_id=before_id, **filt)
    total = data.fetch(qa.audit_count, **filt)
    freshness(rows, key="audit", tz=f.tz)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Entries ({f.label})", fmt_count(total, qa.COUNT_CAP))
    c2.metric("People on this page", fmt_count(rows["actor"].nunique()))
    c3.metric("Shown", fmt_count(len(rows)))
    everything = data.fetch(qa.audit_entries, limit=EXPORT_LIMIT, **filt)
    export_buttons(everything, key="audit_export", filename="audit_log")  # also empty: the columns
    if total > EXPORT_LIMIT:
        st.caption(
            f"The export holds the newest {EXPORT_LIMIT:,} of these entries; narrow the filters for the rest."
        )
    if rows.empty:
        st.info("No audit entries match.", icon="ℹ️")
        return rows
    st.dataframe(
        to_tz(rows, f.tz)[["at", "actor", "action", "target_type", "target_id", "note"]],
        hide_index=True,
    )
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
    return rows


def detail(rows: pd.DataFrame, f: Frame) -> None:
    """One entry: before, after, and what changed between them."""
    if rows.empty:
        return
    labels = {
        str(
            r.id
        ): f"{r.at.astimezone(f.tz):%Y-%m-%d %H:%M:%S} · {r.action} · {r.target_id} · {str(r.id)[:8]}"
        for r in rows.itertuples()
    }
    picked = st.selectbox("Entry", list(labels), format_func=labels.get, key="audit_entry")
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
