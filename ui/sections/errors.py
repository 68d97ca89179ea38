"""Sections of the Errors page: search terms, facets, the group stream, occurrences, resolve actions.

Database text (messages, services, types, details, actors) is shown only with st.text, st.code,
st.dataframe or show_json/show_text; plotly gets it escaped (ui.charts.monitor).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import RESOLVE_ERRORS
from db.commands import errors as commands
from db.errors import PermissionDenied, ValidationFailed, classify
from db.queries import errors as eq
from db.queries import meta
from db.queries.common import make_cursor, read_time_cursor
from db.types import InvalidJSON
from perf.derived import derived
from ui.charts import monitor as charts
from ui.kit import urlstate
from ui.kit.format import bucket_seconds, shown_tz
from ui.kit.frame import FUTURE, Frame
from ui.kit.widgets import (
    MAX_JSON_DEPTH,
    dumps_deep,
    export_buttons,
    freshness,
    guard,
    json_depth,
    show_json,
    show_text,
)

TABS = {"unresolved": "Unresolved", "resolved": "Resolved", "all": "All"}
SEARCH_KEYS = {"service", "severity", "type", "is"}
_TERM = re.compile(
    r'(?P<key>[A-Za-z_]+):(?:"(?P<qv>[^"]*)"|(?P<v>\S+))|"(?P<phrase>[^"]*)"|(?P<word>\S+)'
)
SEARCH_HELP = (
    "Terms: service:NAME, severity:HIGH, type:NAME, is:unresolved / is:resolved / is:all, "
    "plus free text searched in the message (case-insensitive). Quote values with spaces: "
    'service:"my service".'
)


@dataclass(frozen=True)
class Search:
    """A parsed search box: facet terms, a status, the free text, and terms it could not use."""

    services: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    status: str | None = None
    text: str = ""
    problems: tuple[str, ...] = field(default=())


def parse_search(query: str) -> Search:
    """`service:x severity:high type:y is:resolved free text` -> Search (unknown keys stay free text)."""
    found: dict[str, list[str]] = {"service": [], "severity": [], "type": []}
    status: str | None = None
    words: list[str] = []
    problems: list[str] = []
    for m in _TERM.finditer(query or ""):
        key = (m.group("key") or "").lower()
        value = m.group("qv") if m.group("qv") is not None else m.group("v")
        if key in SEARCH_KEYS and value is not None:
            if key == "is":
                if value.lower() in TABS:
                    status = value.lower()
                else:
                    problems.append(f"is:{value}")
            else:
                found[key].append(eq.severity_key(value) if key == "severity" else value)
        else:
            words.append(m.group("phrase") if m.group("phrase") is not None else m.group(0))
    return Search(
        services=tuple(found["service"]),
        severities=tuple(found["severity"]),
        types=tuple(found["type"]),
        status=status,
        text=" ".join(w for w in words if w).strip(),
        problems=tuple(problems),
    )


BADGES = (("new", "🆕 New"), ("regressed", "↩️ Regressed"), ("escalating", "📈 Escalating"))


def badges(row: pd.Series | dict[str, Any]) -> str:
    """The group's badges as plain words (a missing flag counts as off)."""
    return " · ".join(word for col, word in BADGES if row[col] is not pd.NA and bool(row[col]))


BADGES_EXPLAINED = (
    f"🆕 New: first seen within the last {eq.NEW_WITHIN.days} days. ↩️ Regressed: an event arrived "
    f"after the group's last resolution. 📈 Escalating: at least {eq.ESCALATING_MIN_EVENTS} events and "
    f"more than {eq.ESCALATING_FACTOR:g}× the group's own rate over the preceding periods."
)


# --- facets --------------------------------------------------------------------------------------

FACETS = (("severity", "Severity"), ("service", "Service"), ("type", "Type"))


def facet_counts(view: eq.ErrorView) -> dict[str, dict[str, int]]:
    """facet -> value -> events, from the view's facet rows (built once per view through `derived`)."""
    out: dict[str, dict[str, int]] = {name: {} for name, _ in FACETS}
    for facet, value, n in zip(
        view.facets["facet"], view.facets["value"], view.facets["count"], strict=True
    ):
        out.setdefault(facet, {})[value] = int(n)
    return out


def _with_count(counts: dict[str, int]) -> Callable[[str], str]:
    return lambda value: f"{value} ({counts.get(value, 0):,})"


def facet_filters(view: eq.ErrorView, *, chosen: dict[str, list[str]]) -> dict[str, list[str]]:
    """Three multiselects (severity, service, type) whose options show their counts; returns the choice."""
    out: dict[str, list[str]] = {}
    by_facet = derived(facet_counts, view)
    row = st.container(horizontal=True)  # one block, not a column each
    for name, label in FACETS:
        counts = by_facet[name]
        options = list(dict.fromkeys([*counts, *chosen.get(name, [])]))
        out[name] = row.multiselect(
            label,
            options,
            default=[o for o in chosen.get(name, []) if o in options],
            format_func=_with_count(counts),
            key=f"errors_facet_{name}",
            placeholder="All",
        )
    return out


def tab_groups(view: eq.ErrorView, *, tab: str) -> pd.DataFrame:
    """The groups of one tab (built once per view and tab through `derived`), carrying the view's read time."""
    groups = eq.by_status(view.groups, tab)
    groups.attrs["as_of"] = view.attrs.get("as_of")
    return groups


# --- group stream --------------------------------------------------------------------------------


def group_table(
    groups: pd.DataFrame, sparks: pd.DataFrame, buckets: list[pd.Timestamp]
) -> pd.DataFrame:
    """The groups as shown: badges, identity, counts, change, severity mix, a sparkline column."""
    by_fp: dict[str, dict[pd.Timestamp, int]] = {}
    for fp, b, n in zip(sparks["fingerprint"], sparks["bucket"], sparks["count"], strict=True):
        by_fp.setdefault(fp, {})[b] = int(n)
    flags = groups[[col for col, _ in BADGES]].fillna(False).to_dict("records")
    return pd.DataFrame(
        {
            "badges": [badges(f) for f in flags],
            "error_type": groups["error_type"],
            "service": [s if isinstance(s, str) else eq.NO_SERVICE for s in groups["service"]],
            "message": [eq.cut_cell(m) for m in groups["message"]],
            "events": groups["count"],
            "trend": [
                [by_fp.get(fp, {}).get(b, 0) for b in buckets] for fp in groups["fingerprint"]
            ],
            "vs_prior": groups["change"],
            "unresolved": groups["unresolved"],
            "severity_mix": [
                f"H {h} · M {m} · L {lo}" + (f" · other {o}" if o else "")
                for h, m, lo, o in zip(
                    groups["high"],
                    groups["medium"],
                    groups["low"],
                    groups["other_severity"],
                    strict=True,
                )
            ],
            "first_seen": groups["first_seen"],
            "last_seen": groups["last_seen"],
        }
    )


# A window longer than this many default buckets gets wider ones (a custom range over years, or the
# "future" window up to 2200, would otherwise draw tens of thousands of daily buckets per sparkline).
MAX_BUCKETS = 400


def window_bucket(since: datetime, until: datetime) -> int:
    """Bucket width for the window: as Health's (5 min, 1 h, 1 day), in whole days once it has more than
    MAX_BUCKETS of them."""
    width = bucket_seconds(since, until)
    span = max((until - since).total_seconds(), 1)
    if span / width <= MAX_BUCKETS:
        return width
    return int(-(-span // (width * MAX_BUCKETS))) * width


def buckets_of(since: datetime, until: datetime, bucket_s: int) -> list[pd.Timestamp]:
    """Every bucket start of the window (so empty buckets show as 0 in sparklines)."""
    first = int(since.timestamp()) // bucket_s * bucket_s
    return [
        pd.Timestamp(t, unit="s", tz="UTC") for t in range(first, int(until.timestamp()), bucket_s)
    ]


def groups_section(
    f: Frame,
    groups: pd.DataFrame,
    sparks: pd.DataFrame,
    *,
    bucket_s: int,
    selected: str,
    truncated: bool = False,
) -> str:
    """The group stream with single-row selection; returns the selected fingerprint ('' for none)."""
    st.caption(BADGES_EXPLAINED)
    if truncated:
        st.warning(
            f"More than {eq.MAX_DISTINCT:,} distinct messages in this window: only the first are grouped. "
            "Narrow the filters.",
            icon="⚠️",
        )
    cfg = {
        "trend": st.column_config.LineChartColumn("trend", y_min=0),
        "vs_prior": st.column_config.NumberColumn(
            "vs prior",
            help="Events minus those of the period before, of the same length",
            format="%+d",
        ),
        "message": st.column_config.TextColumn("message (most frequent)", width="large"),
    }
    if groups.empty:
        st.success("No error groups match.", icon="✅")
        # The table is still drawn, empty: its headers say what a group shows, and the page keeps its shape.
        st.dataframe(
            group_table(groups, sparks, []),
            hide_index=True,
            column_config=cfg,
            key="errors_groups_none",
        )
        return ""
    fps = groups["fingerprint"].tolist()
    listed = hash(tuple(fps))

    def shown(g: pd.DataFrame, **_: object) -> pd.DataFrame:
        table = group_table(g, sparks, buckets_of(f.since, f.until, bucket_s))
        if (
            f.range_key == FUTURE
        ):  # the period before "dated in the future" is all of the past: no comparison
            table["vs_prior"] = pd.array([pd.NA] * len(table), dtype="Int64")
        return shown_tz(table, f.tz)

    # Built once per cached view and group list (the sparklines come from the same view as the groups).
    table = derived(
        shown,
        groups,
        table=True,
        listed=listed,
        since=f.since,
        until=f.until,
        bucket_s=bucket_s,
        tz=str(f.tz),
    )
    pos = [fps.index(selected)] if selected in fps else []
    event = st.dataframe(
        table,
        hide_index=True,
        column_config=cfg,
        on_select="rerun",
        selection_mode="single-row",
        key=f"errors_groups_{listed}",
        selection_default={"selection": {"rows": pos}},
    )
    rows = event.selection.rows if hasattr(event, "selection") else []
    if rows:
        selected = fps[rows[0]]
    return selected if selected in fps else ""


# --- one group -----------------------------------------------------------------------------------


def window_params(f: Frame) -> dict[str, str]:
    """The page's time range as URL parameters (so a link opens the target on the same window)."""
    if f.range_key == "custom":
        return {
            "range": "custom",
            "from": f.since.astimezone(f.tz).date().isoformat(),
            "to": f.until.astimezone(f.tz).date().isoformat(),
        }
    return {} if f.range_key == "24h" else {"range": f.range_key}


def links(f: Frame, group: pd.Series) -> None:
    """Real URLs to the health of the group's service around its events in this window, and to the
    scans running on those days."""
    since_ts, until_ts = pd.Timestamp(f.since), pd.Timestamp(f.until)
    start = max(group["first_seen"], since_ts) - pd.Timedelta(hours=1)
    end = min(group["last_seen"] + pd.Timedelta(hours=1), until_ts)
    params: dict[str, str] = {
        "hview": "history",
        "zoom": f"{int(max(start, since_ts).timestamp())}-{int(end.timestamp())}",
        **window_params(f),
    }
    if isinstance(group["service"], str):
        params["service"] = group["service"]
    days = {
        "range": "custom",
        "from": start.astimezone(f.tz).date().isoformat(),
        "to": end.astimezone(f.tz).date().isoformat(),
    }
    row = st.container(horizontal=True)  # one block, not a column each
    row.link_button(
        "Health of this service at that time",
        "health?" + urlencode(params),
        icon=":material/monitor_heart:",
    )
    row.link_button("Scans running then", "scans?" + urlencode(days), icon=":material/radar:")


def group_header(group: pd.Series) -> None:
    """The group's identity, literally."""
    st.subheader("Selected group")
    b = badges(group)
    if b:
        st.caption(b)
    service = group["service"] if isinstance(group["service"], str) else eq.NO_SERVICE
    st.text(f"Type:    {group['error_type']}\nService: {service}")  # literal text, one element
    st.caption(f"message (most frequent of {int(group['distinct_messages'])} distinct)")
    show_text(group["message"], key=f"errors_group_message_{group['fingerprint']}", what="message")


def ignore_param(name: str, value: str, expected: str) -> None:
    """Drop a malformed URL parameter with the usual message (the value shown as code, never Markdown)."""
    st.warning(f"Ignored the URL parameter `{name}`: the value is not {expected}.", icon="⚠️")
    st.code(value[:80] or "(empty)", language=None)
    urlstate.remove(name)


def _whole_param(name: str) -> str:
    """A URL parameter as it came (ui.kit.urlstate reads one over its length limit as empty, silently)."""
    raw = st.query_params.get(name)
    return "" if raw is None else str(raw)


def cursor_from_url() -> tuple[datetime, str] | None:
    """The occurrences' keyset cursor from `before`; a malformed one is ignored with a message."""
    raw = _whole_param("before")
    if not raw:
        return None
    try:
        return read_time_cursor(raw)
    except ValueError:
        ignore_param("before", raw, "a page position of this page")
        return None


# The search box and its URL parameter hold at most this many characters.
MAX_SEARCH_CHARS = 200


def search_from_url() -> str:
    """The search text from `q`; one longer than MAX_SEARCH_CHARS is ignored with a message."""
    raw = _whole_param("q")
    if len(raw) > MAX_SEARCH_CHARS:
        ignore_param("q", raw, f"a search of at most {MAX_SEARCH_CHARS} characters")
        return ""
    return urlstate.text("q", max_len=MAX_SEARCH_CHARS)


def occurrences_table(
    f: Frame, occ: pd.DataFrame, *, chosen: set[str], version: int = 0
) -> set[str]:
    """The page of occurrences with multi-row selection; returns the selected ids (kept across pages).

    The table's key changes with its rows and `version` (bumped when the selection is cleared), so a
    stored selection is applied again by id, never by an old row position.
    """
    ids = occ["id"].tolist()
    pos = [i for i, x in enumerate(ids) if x in chosen]
    shown = derived(
        _occurrence_rows, occ, table=True, tz=f.tz, rows=hash(tuple(ids))
    )  # built once per fetched page
    event = st.dataframe(
        shown,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key=f"errors_occ_{hash(tuple(ids))}_{version}",
        selection_default={"selection": {"rows": pos}},
        column_config={"message": st.column_config.TextColumn("message", width="large")},
    )
    rows = event.selection.rows if hasattr(event, "selection") else pos
    return (chosen - set(ids)) | {ids[i] for i in rows}


def _occurrence_rows(occ: pd.DataFrame, *, tz: Any, **_: object) -> pd.DataFrame:
    return shown_tz(occ, tz)


def _occurrence_row(one: pd.DataFrame, *, tz: Any, **_: object) -> pd.DataFrame:
    shown = one.drop(columns=["details", "message"])
    shown["resolution_notes"] = shown["resolution_notes"].map(eq.cut_cell)
    return shown_tz(shown, tz)


def raw_json_text(value: Any) -> str:
    """The details as JSON text, however deep (invalid JSON as it was stored)."""
    if isinstance(value, str):
        return (
            str(value) if isinstance(value, InvalidJSON) else json.dumps(value, ensure_ascii=False)
        )
    if json_depth(value) > MAX_JSON_DEPTH:
        return dumps_deep(value)
    return json.dumps(value, default=str, ensure_ascii=False, indent=1)


def occurrence_detail(f: Frame, error_id: str) -> None:
    """One occurrence: message as text, details as JSON and as raw text, its resolution history."""
    with guard("Occurrence"):
        one = data.fetch(eq.occurrence, error_id=error_id)
        if one.empty:
            st.info("This error no longer exists.", icon="ℹ️")
            return
        row = one.iloc[0]
        st.dataframe(
            derived(_occurrence_row, one, table=True, tz=f.tz, error_id=error_id), hide_index=True
        )
        raw_severity = row["severity"]
        if raw_severity is not None and raw_severity != eq.severity_key(raw_severity):
            # Grouped and filtered as its trimmed upper-case form; the row holds it as written.
            st.text(
                f"Severity as stored: {raw_severity!r} (counted as {eq.severity_key(raw_severity)!r})"
            )
        t1, t2, t3, t4 = st.tabs(
            ["Message", "Details (JSON)", "Details (raw)", "Resolution history"]
        )
        with t1:
            show_text(row["message"], key=f"errors_message_{error_id}", what="message")
        with t2:
            show_json(row["details"], key=f"errors_details_{error_id}")
        with t3:
            show_text(
                raw_json_text(row["details"]), key=f"errors_details_raw_{error_id}", what="details"
            )
        with t4:
            resolution_history(f, error_id)


def resolution_history(f: Frame, error_id: str) -> None:
    """Who resolved or unresolved the occurrence, when, with which note (newest first)."""
    hist = data.fetch(eq.resolution_history, error_id=error_id)
    if hist.attrs.get("missing_table"):
        st.warning(
            f"No resolution history: the table {commands.HISTORY_TABLE} does not exist in this database "
            f"yet. Create it with: {commands.MIGRATE_COMMAND}",
            icon="⚠️",
        )
        return
    if hist.empty:
        st.caption(
            "Not resolved or unresolved through the console yet (the row above shows its current state)."
        )
        return
    st.dataframe(
        shown_tz(hist, f.tz),
        hide_index=True,
        key=f"errors_history_{error_id}",
        column_config={"note": st.column_config.TextColumn("note", width="large")},
    )


# --- resolve -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the selected group's occurrences show: the group, the window, the status tab, the severities."""

    fp: str
    error_type: str
    service: str | None
    messages: tuple[str, ...]
    severities: tuple[str, ...]
    since: datetime
    until: datetime
    tab: str
    label: str

    def key(self) -> dict[str, Any]:
        """The group's query arguments (type, service, messages, severity filter)."""
        return {
            "error_type": self.error_type,
            "service": self.service,
            "messages": self.messages,
            "severities": self.severities,
        }

    def signature(self) -> tuple[Any, ...]:
        """Equal while the same rows are on show (the window's end moves with the clock, its label does not)."""
        return self.fp, self.label, self.tab, self.severities


# Bulk actions: (resolves?, over the group's whole history?). The others act on what is shown.
BULK = {
    "resolve_all": (True, False),
    "unresolve_all": (False, False),
    "resolve_history": (True, True),
    "unresolve_history": (False, True),
}


def window_words(label: str) -> str:
    """'in last 24h', 'in 2026-01-01 – 2026-01-07', or 'dated in the future' (the window as a phrase)."""
    return label if label.startswith("dated ") else f"in {label}"


def bulk_count(counts: eq.GroupCounts, *, tab: str, resolve: bool, whole: bool) -> int:
    """How many events a bulk action would change: unresolved ones to resolve, resolved ones to unresolve,
    of the window as its tab shows it, or of the group's whole history."""
    if whole:
        return counts.history_unresolved if resolve else counts.history_resolved
    if resolve:
        return counts.window_unresolved if tab != "resolved" else 0
    return counts.window_resolved if tab != "unresolved" else 0


def _bulk_label(action: str, n: int, label: str) -> str:
    resolve, whole = BULK[action]
    verb, state = ("Resolve", "unresolved") if resolve else ("Unresolve", "resolved")
    if whole:
        return f"{verb} all {n:,} {state} in the group's history…"
    return f"{verb} the {n:,} {state} {window_words(label)}…"


def _report(result: commands.ResolveResult, verb: str) -> None:
    st.session_state["errors_flash"] = {
        "verb": verb,
        "count": result.count,
        "missing": len(result.missing),
        "already": [
            {"id": a.id, "by": a.actor or "(not through the console)", "at": a.at}
            for a in result.already
        ],
    }


def show_flash() -> None:
    """The outcome of the last resolve/unresolve (kept for one run)."""
    flash = st.session_state.pop("errors_flash", None)
    if not flash:
        return
    st.success(f"{flash['verb'].capitalize()} {flash['count']:,} error(s).", icon="✅")
    if flash["already"]:
        st.warning(
            f"{len(flash['already']):,} error(s) were already {flash['verb']} by someone else; "
            "nothing was written for them:",
            icon="⚠️",
        )
        st.dataframe(pd.DataFrame(flash["already"]), hide_index=True)
    if flash["missing"]:
        st.warning(f"{flash['missing']:,} error(s) no longer exist.", icon="⚠️")


def history_missing_note() -> str:
    """What to say while the resolution history table does not exist (the database not migrated)."""
    return (
        f"Resolving is off: the table {commands.HISTORY_TABLE}, which keeps every earlier resolution note, "
        f"does not exist in this database yet. Create it with: {commands.MIGRATE_COMMAND}"
    )


def resolve_form(f: Frame, scope: Scope, *, selected: set[str], counts: eq.GroupCounts) -> None:
    """Resolve / unresolve the selection (at once), or what is shown / the group's whole history (each
    after a confirmation that states the count), with a required note."""
    history_ok = commands.HISTORY_TABLE in data.fetch(meta.existing_tables)
    allowed = f.identity.can(RESOLVE_ERRORS)
    if not allowed:
        st.caption("Your role cannot resolve errors (needs the ops or admin role).")
    if not history_ok:
        st.warning(history_missing_note(), icon="⚠️")
    can = allowed and history_ok
    n = {a: bulk_count(counts, tab=scope.tab, resolve=r, whole=w) for a, (r, w) in BULK.items()}
    with st.form("errors_resolve_form", clear_on_submit=False):
        note = st.text_area(
            "Note (required)",
            key="errors_note",
            max_chars=commands.MAX_NOTE_CHARS,
            placeholder="What was done, or why this is not a problem",
        )
        row = st.container(horizontal=True)  # one block, not a column each
        actions = {
            "resolve_sel": row.form_submit_button(
                f"Resolve selected ({len(selected)})",
                disabled=not can or not selected,
                key="errors_resolve_sel",
            ),
            "unresolve_sel": row.form_submit_button(
                f"Unresolve selected ({len(selected)})",
                disabled=not can or not selected,
                key="errors_unresolve_sel",
            ),
        }
        for a in ("resolve_all", "unresolve_all"):
            actions[a] = row.form_submit_button(
                _bulk_label(a, n[a], scope.label), disabled=not can or not n[a], key=f"errors_{a}"
            )
        st.caption("The whole history of the group, also outside this window:")
        whole = st.container(horizontal=True)
        for a in ("resolve_history", "unresolve_history"):
            actions[a] = whole.form_submit_button(
                _bulk_label(a, n[a], scope.label), disabled=not can or not n[a], key=f"errors_{a}"
            )
    action = next((k for k, v in actions.items() if v), None)
    if action in BULK:
        _stage(scope, action, note, total=n[action])
    elif action is not None:
        _run(f, action.startswith("resolve"), sorted(selected), note)
    _confirmation(f, scope)


def _stage(scope: Scope, action: str, note: str, *, total: int) -> None:
    """First step of a bulk action: read the ids it would change now, and ask to confirm their count."""
    st.session_state.pop("errors_pending", None)
    try:
        commands.check_note(note)
    except ValidationFailed as exc:
        _refused(exc)
        return
    resolve, whole = BULK[action]
    window = {} if whole else {"since": scope.since, "until": scope.until}
    with guard("Resolve"):
        ids = data.fetch_uncached(
            eq.occurrence_ids,
            **scope.key(),
            status="unresolved" if resolve else "resolved",
            **window,
        )
        st.session_state["errors_pending"] = {
            "sig": scope.signature(),
            "action": action,
            "ids": list(ids),
            "note": note,
            "more": max(total, len(ids)) > eq.MAX_IDS,
        }


def _confirmation(f: Frame, scope: Scope) -> None:
    """Second step: 'Resolve 50 occurrences?' with the note; Confirm writes exactly those ids."""
    pending = st.session_state.get("errors_pending")
    if not pending:
        return
    if (
        pending["sig"] != scope.signature()
    ):  # another group, window, tab or filter: not what was confirmed
        st.session_state.pop("errors_pending", None)
        return
    resolve, whole = BULK[pending["action"]]
    verb, state = ("Resolve", "unresolved") if resolve else ("Unresolve", "resolved")
    n = len(pending["ids"])
    where = "in the group's whole history" if whole else window_words(scope.label)
    if n == 0:
        st.info(f"Nothing to {verb.lower()}: no {state} occurrences {where} any more.", icon="ℹ️")
        st.session_state.pop("errors_pending", None)
        return
    st.warning(
        f"{verb} {n:,} occurrence{'' if n == 1 else 's'}? (the {state} ones {where}; each gets the "
        "note below, and an earlier note stays in its resolution history)",
        icon="❓",
    )
    if pending["more"]:
        st.caption(
            f"The group holds more than {eq.MAX_IDS:,}: this step takes the oldest {eq.MAX_IDS:,}; "
            "run it again for the rest."
        )
    st.code(pending["note"], language=None, wrap_lines=True)
    row = st.container(horizontal=True)
    if row.button(f"{verb} {n:,}", key="errors_confirm", type="primary", icon=":material/check:"):
        st.session_state.pop("errors_pending", None)
        _run(f, resolve, pending["ids"], pending["note"])
    if row.button("Cancel", key="errors_cancel"):
        st.session_state.pop("errors_pending", None)
        st.rerun()


def _refused(exc: ValidationFailed) -> None:
    for messages in exc.errors.values():
        for m in messages:
            st.error(m, icon="🚫")


def _run(f: Frame, resolve: bool, ids: list[str], note: str) -> None:
    """Resolve or unresolve exactly `ids` (those another user changed meanwhile are reported, not written)."""
    engine = data.write_engine()
    change = commands.resolve_errors if resolve else commands.unresolve_errors
    try:
        result = change(engine, identity=f.identity, ids=ids, note=note)
    except ValidationFailed as exc:
        _refused(exc)
        return
    except PermissionDenied:
        st.error("Your role may not resolve errors; nothing was written.", icon="🚫")
        return
    except SQLAlchemyError as exc:
        st.error(classify(exc).message, icon="🚫")
        return
    data.invalidate("errors")
    _report(result, "resolved" if resolve else "unresolved")
    st.rerun()


def capped_note(f: Frame, view: eq.ErrorView) -> None:
    """Say plainly when the window (or the history before it) held more events than are grouped."""
    if view.capped_from is not None:
        start = pd.Timestamp(view.capped_from, tz="UTC").tz_convert(f.tz)
        st.warning(
            f"This window holds more than {eq.MAX_WINDOW_EVENTS:,} errors: groups, facets and the timeline "
            f"count the newest {view.events:,} only (from {start:%Y-%m-%d %H:%M:%S} on). "
            "Choose a shorter time range to count them all.",
            icon="⚠️",
        )
    if view.history_from is not None:
        start = pd.Timestamp(view.history_from, tz="UTC").tz_convert(f.tz)
        st.caption(
            f"Badges and the change against the prior period consider the newest {eq.MAX_HISTORY_EVENTS:,} "
            f"errors before the window only (from {start:%Y-%m-%d %H:%M:%S} on)."
        )


def _timeline_figure(view: eq.ErrorView, **kwargs: Any) -> Any:
    return charts.severity_bars(view.timeline, **kwargs)


def timeline_section(f: Frame, view: eq.ErrorView, *, bucket_s: int) -> None:
    """Error counts per severity over the window."""
    freshness(view, key="errors_timeline", tz=f.tz)
    if (
        view.timeline.empty
    ):  # the chart is still drawn: a quiet window is a flat line, not a missing panel
        st.caption("No errors in this window.")
    fig = derived(
        _timeline_figure,
        view,
        tz=f.tz,
        bucket_s=bucket_s,
        since=pd.Timestamp(f.since),
        until=pd.Timestamp(f.until),
        title=f"Errors per severity, {f.label}",
    )
    st.plotly_chart(fig, key="errors_timeline_chart")


def export_groups(groups: pd.DataFrame) -> None:
    """Export the whole filtered group list (messages tuple as a list), built only when asked for."""

    def build() -> pd.DataFrame:
        out = groups.copy()
        out["messages"] = out["messages"].map(list)
        return out

    export_buttons(build, key="errors_groups_export", filename="error_groups")


def search_bar(query: str, tab: str) -> tuple[str, Search, str]:
    """The search box and the status tabs: the query, what it asks for, and the tab shown."""
    s1, s2 = st.columns([3, 2], vertical_alignment="bottom")
    query = s1.text_input(
        "Search",
        value=query,
        key="errors_q",
        help=SEARCH_HELP,
        max_chars=MAX_SEARCH_CHARS,
        placeholder='service:opportunity_cache severity:high "price data"',
    )
    search = parse_search(query)
    for bad in search.problems:
        st.warning(
            "Ignored a search term that is not is:unresolved, is:resolved or is:all:", icon="⚠️"
        )
        st.code(bad, language=None)
    if search.status:  # the query names the status: no tabs
        return query, search, search.status
    picked = s2.segmented_control(
        "Status", list(TABS), default=tab, format_func=TABS.__getitem__, key="errors_tab"
    )
    return query, search, picked or tab


def occurrence_pager(occ: pd.DataFrame, *, cursor: object, selected: object) -> bool:
    """Newest / Older / Clear selection in one row; True when the selection is to be cleared."""
    row = st.container(horizontal=True)  # one block, not a column each
    if cursor and row.button("Newest", key="errors_first_page", icon=":material/first_page:"):
        urlstate.remove("before")
        st.rerun()
    if len(occ) == eq.PAGE_SIZE and row.button(
        "Older", key="errors_next_page", icon=":material/navigate_next:"
    ):
        last = occ.iloc[-1]
        urlstate.put(before=make_cursor(last["created_at"], last["id"]))
        st.rerun()
    return row.button("Clear selection", key="errors_clear_sel", disabled=not selected)
