"""Sandbox sections: the historical cache (entries, expired marked, JSON, purge) and usage per user/day."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import PURGE_CACHE
from db.commands import cache as cache_cmd
from db.errors import PermissionDenied
from db.queries import common
from db.queries import sandbox as q
from ui.kit import urlstate
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, freshness, report_refusal, show_json, to_tz
from ui.sections.sandbox.form import flash

CONFIRM = "sandbox_purge_confirm"


def cache(f: Frame) -> None:
    """Summary per symbol and type, one page of entries, an entry's JSON, purge of expired entries."""
    summary = data.fetch(q.cache_summary, now=f.until)
    freshness(summary, key="sandbox_cache", tz=f.tz)
    if summary.empty:
        st.info("The historical cache is empty.", icon="ℹ️")
        return
    st.dataframe(to_tz(summary, f.tz), hide_index=True)
    expired = int(summary["expired"].sum())
    _purge(f, expired)
    symbols, types = sorted(set(summary["symbol"])), sorted(set(summary["data_type"]))
    c1, c2, c3 = st.columns([2, 2, 1])
    symbol_options = ["", *symbols]
    symbol = c1.selectbox(
        "Symbol",
        symbol_options,
        key="sandbox_cache_symbol",
        format_func=lambda v: v or "(all)",
        index=symbol_options.index(urlstate.choice("sym", symbol_options, "")),
    )
    dtype = c2.selectbox(
        "Data type", ["", *types], key="sandbox_cache_type", format_func=lambda v: v or "(all)"
    )
    only_expired = c3.toggle("Expired only", key="sandbox_cache_expired")
    urlstate.put(sym=symbol or None)
    filter_key = repr((symbol, dtype, only_expired))
    if st.session_state.get("sandbox_cache_filter", filter_key) != filter_key:
        urlstate.remove("after")  # other filters start on the first page
    st.session_state["sandbox_cache_filter"] = filter_key
    after = urlstate.text(
        "after"
    )  # keyset position (the last key of the previous page), in the URL
    page = data.fetch(
        q.cache_entries,
        now=f.until,
        symbol=symbol,
        data_type=dtype,
        expired_only=only_expired,
        after_key=after,
    )
    st.dataframe(to_tz(page, f.tz).drop(columns=["id"]), hide_index=True)
    n1, n2 = st.columns(2)
    if after and n1.button("First page", key="sandbox_cache_first"):
        urlstate.remove("after")
        st.rerun()
    if len(page) == common.PAGE_SIZE and n2.button("Next page", key="sandbox_cache_next"):
        urlstate.put(after=str(page["cache_key"].iloc[-1]))
        st.rerun()
    export_buttons(page, key="sandbox_cache_export", filename="historical_cache_page")
    if not page.empty:
        labels = dict(zip(page["id"], page["cache_key"], strict=True))
        entry_id = st.selectbox(
            "View entry", list(labels), format_func=labels.__getitem__, key="sandbox_cache_entry"
        )
        entry = data.fetch(q.cache_entry, entry_id=entry_id)
        if not entry.empty:
            show_json(entry.iloc[0]["data"])


def _purge(f: Frame, expired: int) -> None:
    if not expired:
        return
    allowed = f.identity.can(PURGE_CACHE)
    if st.button(
        f"Purge {expired} expired entr{'y' if expired == 1 else 'ies'}",
        key="sandbox_purge",
        icon=":material/delete_sweep:",
        disabled=not allowed,
        help=None if allowed else "Needs the ops or admin role",
    ):
        st.session_state[CONFIRM] = True
    if not st.session_state.get(CONFIRM):
        return
    st.warning(
        f"Delete the {expired} expired cache entries? This is recorded in the audit log.", icon="⚠️"
    )
    c1, c2 = st.columns(2)
    if c1.button("Yes, purge", key="sandbox_purge_yes", type="primary"):
        st.session_state.pop(CONFIRM, None)
        try:
            n = cache_cmd.purge_expired(data.write_engine(), identity=f.identity)
        except (PermissionDenied, SQLAlchemyError) as exc:
            report_refusal(exc, nothing_done="Nothing was deleted.")
            return
        flash(f"Purged {n} expired cache entries.")
        data.invalidate("sandbox", "meta")
        st.rerun()
    if c2.button("Cancel", key="sandbox_purge_no"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()


def usage(f: Frame) -> None:
    """Usage per user and day in the window: stored stats, or computed live when none are stored."""
    stats = data.fetch(q.usage_stats, since=f.since, until=f.until)
    freshness(stats, key="sandbox_usage", tz=f.tz)
    if stats.empty:
        st.info(f"No sandbox activity in the {f.label}.", icon="ℹ️")
        return
    if (stats["source"] == "live").all():
        st.caption(
            "sandbox_stats holds no rows for this window (the backend never writes it): figures are "
            "computed live from configs, test runs and AI conversations, as the backend's API does."
        )
    else:
        st.caption("From the sandbox_stats table.")
    st.dataframe(to_tz(stats, f.tz), hide_index=True)
    export_buttons(stats, key="sandbox_usage_export", filename="sandbox_usage")
