"""Errors: critical errors grouped by fingerprint, with triage and resolution (critical_error_logs)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from db import data
from db.queries import errors as eq
from domain.fingerprint import is_fingerprint
from perf.derived import derived
from ui.kit import urlstate
from ui.kit.frame import future_notice
from ui.kit.page import start
from ui.kit.widgets import export_buttons, fmt_count, freshness, guard
from ui.sections import errors as ui

f = start("Errors", tables=("critical_error_logs",))
ui.show_flash()

# --- view state from the URL ---------------------------------------------------------------------
tab = urlstate.choice("tab", list(ui.TABS), "unresolved")
query = ui.search_from_url()
chosen = {
    "severity": urlstate.many("severity"),
    "service": urlstate.many("service"),
    "type": urlstate.many("type"),
}
if urlstate.text("group") and not is_fingerprint(urlstate.text("group")):
    ui.ignore_param(
        "group", urlstate.text("group"), "a group's fingerprint (12 hexadecimal characters)"
    )
if not urlstate.text("group"):  # an occurrence and a page position belong to a group
    urlstate.remove("occ", "before")

# --- search, tabs and facets ---------------------------------------------------------------------
query, search, tab = ui.search_bar(query, tab)
bucket = ui.window_bucket(f.since, f.until)
for name in chosen:  # a facet changed in this run: its widget already holds the new choice
    chosen[name] = list(st.session_state.get(f"errors_facet_{name}", chosen[name]))
flt = {
    "text": search.text,
    "services": tuple(chosen["service"] + list(search.services)),
    "severities": tuple(chosen["severity"] + list(search.severities)),
    "types": tuple(chosen["type"] + list(search.types)),
}
view = None
with guard("Errors"):  # one cached call: groups, facets, timeline and sparklines of the window
    view = data.fetch(eq.error_view, since=f.since, until=f.until, bucket_s=bucket, **flt)
if view is None:
    st.stop()

with guard("Errors dated in the future"):
    future_notice(data.fetch(eq.future_count, after=f.until), noun="error", page="pages/errors.py")
chosen = ui.facet_filters(view, chosen=chosen)
urlstate.put(tab=None if tab == "unresolved" else tab, q=query, **chosen)
ui.capped_note(f, view)
ui.timeline_section(f, view, bucket_s=bucket)

# --- the group stream and one group: a fragment, so selecting a row or paging reruns only this --


def _occurrences(scope: ui.Scope, occ_id: str, cursor: tuple[datetime, str] | None) -> None:
    """The selected group's occurrences (keyset pages), one occurrence's detail, resolve actions."""
    status = "all" if scope.tab == "all" else scope.tab
    key, window = scope.key(), {"since": scope.since, "until": scope.until}
    with guard("Occurrences"):
        occ = data.fetch(eq.occurrences, **key, **window, status=status, before=cursor)
        counts = data.fetch(eq.group_counts, **key, **window)
        st.caption(
            f"Occurrences {ui.window_words(f.label)} ({status}): {fmt_count(occ.attrs.get('total'), eq.COUNT_CAP)}"
            + (", older page" if cursor else "")
        )
        freshness(occ, key="errors_occ", tz=f.tz)
        sel_store = st.session_state.setdefault("errors_selected", {})
        version = st.session_state.get("errors_sel_version", 0)
        selected = ui.occurrences_table(
            f, occ, chosen=set(sel_store.get(scope.fp, ())), version=version
        )
        sel_store[scope.fp] = sorted(selected)
        if ui.occurrence_pager(occ, cursor=cursor, selected=selected):
            sel_store[scope.fp] = []
            st.session_state["errors_sel_version"] = version + 1
            st.rerun()
        if st.toggle("Prepare an export of all these occurrences", key="errors_occ_export_on"):
            export_buttons(
                lambda: data.fetch_uncached(eq.occurrence_export, **key, **window, status=status),
                key="errors_occ_export",
                filename="error_occurrences",
            )
        ids = occ["id"].tolist()
        if ids:
            occ_id = st.selectbox(
                "Inspect occurrence",
                ids,
                index=ids.index(occ_id) if occ_id in ids else 0,
                key="errors_inspect",
            )
            urlstate.put(occ=occ_id)
            ui.occurrence_detail(f, occ_id)
        ui.resolve_form(f, scope, selected=selected, counts=counts)


@st.fragment
def _stream(groups: pd.DataFrame, sparks: pd.DataFrame, *, tab: str, truncated: bool) -> None:
    """The group table with single-row selection, then the selected group."""
    group_fp = urlstate.text("group")
    group_fp = group_fp if is_fingerprint(group_fp) else ""
    occ_id, cursor = urlstate.text("occ"), ui.cursor_from_url() if group_fp else None
    group_fp = ui.groups_section(
        f, groups, sparks, bucket_s=bucket, selected=group_fp, truncated=truncated
    )
    ui.export_groups(groups)
    if group_fp != urlstate.text("group"):
        urlstate.put(group=group_fp or None, occ=None, before=None)
        occ_id, cursor = "", None
    if group_fp:
        group = groups[groups["fingerprint"] == group_fp].iloc[0]
        ui.group_header(group)
        ui.links(f, group)
        scope = ui.Scope(
            fp=group_fp,
            error_type=group["error_type"],
            service=group["service"],
            messages=tuple(group["messages"]),
            severities=flt["severities"],
            since=f.since,
            until=f.until,
            tab=tab,
            label=f.label,
        )
        _occurrences(scope, occ_id, cursor)


groups = derived(ui.tab_groups, view, tab=tab)
st.subheader(
    f"{ui.TABS[tab]} groups: {fmt_count(len(groups))}"
)  # read with the timeline: its "Data as of" above
_stream(groups, view.sparks, tab=tab, truncated=view.truncated)
