"""Sections of the Health page: live tiles, uptime, history and state band, latency, details, incidents.

Database text (service names, statuses, details) is shown only with st.text / st.dataframe /
show_json, or escaped inside plotly; labels and captions hold our own words only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from db import data
from db.queries import errors as eq
from db.queries import health as hq
from db.queries import timeline as tl
from perf.derived import derived
from ui.charts import monitor as charts
from ui.kit import urlstate
from ui.kit.format import bucket_seconds, clipped, human_age, shown_tz
from ui.kit.frame import Frame, future_notice, rounded_now
from ui.kit.widgets import export_buttons, fmt_count, freshness, guard, show_json

VIEWS = {
    "overview": "Overview",
    "history": "History",
    "timeline": "Service timeline",
    "latency": "Latency",
    "incidents": "Incidents",
    "details": "Details",
}
LOOKBACK_MIN = (15, 30, 60, 120, 240, 720)
# More state runs than this are drawn per history cell (worst state) instead of one bar each.
MAX_DRAWN_RUNS = 1_500
# Above this many checks in the window, the state band comes from the history cells (no exact runs).
MAX_CHECKS_FOR_RUNS = 200_000
# Frames with more rows are exported only on request.
LAZY_EXPORT_ROWS = 5_000
DEFAULT_LOOKBACK_MIN = 60
REFRESH_OPTIONS = {"off": None, "15s": 15, "30s": 30, "60s": 60}
DEFAULT_REFRESH = "30s"
BADGES = {
    "HEALTHY": ("✅", "green", "up"),
    "DEGRADED": ("⚠️", "orange", "degraded: working, slower or partly"),
    "DOWN": ("❌", "red", "down"),
    hq.OTHER: ("❔", "violet", "a status outside HEALTHY / DEGRADED / DOWN, shown as written"),
}
OTHER_EXPLAINED = (
    "OTHER = a status the backend's vocabulary does not have (for example UNKNOWN, OFFLINE, "
    "ERROR, unhealthy). It is shown as written and counted neither up nor down in uptime."
)
PERCENTILES_EXPLAINED = (
    "p50: half of the checks answered faster than this (the typical check).  \n"
    "p95: 1 check in 20 was slower than this (what a bad moment feels like).  \n"
    "p99: 1 check in 100 was slower than this (the worst tail).  \n"
    "average: the mean, pulled up by a few slow checks."
)


def parse_zoom(raw: str) -> tuple[datetime, datetime] | None:
    """'<epoch>-<epoch>' from the URL as a UTC window; None when absent or invalid."""
    try:
        a, b = (int(x) for x in raw.split("-", 1))
    except ValueError:
        return None
    if not 0 <= a < b or b - a > 400 * 86400:
        return None
    return datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)


def zoom_param(start: datetime, end: datetime) -> str:
    """A window as the URL's zoom value."""
    return f"{int(start.timestamp())}-{int(end.timestamp())}"


figure = derived


# --- long database text in tables ------------------------------------------------------------------


# --- the service in the URL ----------------------------------------------------------------------


def service_param(name: str) -> str:
    """A service as the URL's `service` value: its name, or for a name the URL cannot carry (longer
    than a URL parameter may be, or holding NUL) '~' and a digest of the name."""
    if 0 < len(name) <= urlstate.MAX_PARAM_LEN and "\x00" not in name:
        return name
    return "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:20]


# The picker's value for a service whose name is empty ("" is "All services"): text no real name has.
EMPTY_NAME = "\x00(empty name)"


def picker_options(services: Sequence[str]) -> list[str]:
    """The service picker's values: "" for all services, then every service ("" as EMPTY_NAME)."""
    return ["", *(picker_value(s) for s in services)]


def picker_value(service: str | None) -> str:
    """A service (None: all) as the picker's value."""
    return "" if service is None else (service or EMPTY_NAME)


def picked_service(value: str | None) -> str | None:
    """The service a picker value stands for (None: all services)."""
    return None if not value else "" if value == EMPTY_NAME else value


def service_label(value: str) -> str:
    """A picker label: 'All services' for "", a blank name said as such (it would read as nothing)."""
    if value == "":
        return "All services"
    name = picked_service(value) or ""
    if not name.strip():
        return f"(blank name, {len(name)} character{'' if len(name) == 1 else 's'})"
    return name


def service_from_url(services: Sequence[str]) -> str | None:
    """The service named by the URL (None: all services). An unknown value is ignored with a message
    in our own words: the service names are database text and never go into Markdown."""
    raw = urlstate.text("service")
    if not raw:
        return None
    if raw in services:
        return raw
    for name in services:
        if service_param(name) == raw:
            return name
    st.warning(
        "Ignored the URL parameter `service`: no service of that name has a health check.", icon="⚠️"
    )
    st.code(raw[:80], language=None)
    urlstate.remove("service")
    return None


# --- live tiles --------------------------------------------------------------------------------


def _tile(row: pd.Series) -> None:
    cat = str(row["category"])
    icon, colour, meaning = BADGES[cat]
    stale = bool(row["stale"])
    with st.container(border=True):
        st.text(row["service"])
        # Our own words only (a category and STALE), as one line of badges.
        st.markdown(f":{colour}-badge[{icon} {cat}]" + (" :gray-badge[⏳ STALE]" if stale else ""))
        if cat == hq.OTHER or str(row["status"]) != cat:
            st.caption("written as:")
            st.text(row["status"])
        if stale:
            age = f"no check for {human_age(row['age_s'])}, usually every {human_age(row['interval_s'])}"
        else:
            age = f"checked {human_age(row['age_s'])} ago" + (
                ""
                if pd.isna(row["interval_s"])
                else f", usually every {human_age(row['interval_s'])}"
            )
        st.caption(f"{age}  \n{meaning}")  # two lines, one element


def tiles(status: pd.DataFrame) -> None:
    """A tile per service: status (icon + colour + text), age of the last check, STALE."""
    if status.empty:
        st.info(
            "No health checks recorded yet. The backend writes them to system_health_status.",
            icon="ℹ️",
        )
        return
    cols = st.columns(min(4, len(status)))
    for i, (_, row) in enumerate(status.iterrows()):
        with cols[i % len(cols)]:
            _tile(row)
    if (status["category"] == hq.OTHER).any():
        st.caption(OTHER_EXPLAINED)


def live_section(*, refresh_s: int | None) -> None:
    """The live tiles in a fragment that reruns on its own every `refresh_s` seconds (None: paused)."""

    @st.fragment(run_every=refresh_s)
    def _live() -> None:
        with guard("Service status"):
            status = data.fetch(hq.service_status, until=rounded_now())
            freshness(status, key="health_tiles")
            tiles(status)

    _live()


def future_section(f: Frame) -> None:
    """The checks dated in the future (the window "future"): the soonest first, capped."""
    with guard("Checks dated in the future"):
        rows = data.fetch(hq.future_checks, now=f.since)
        st.subheader("Checks dated in the future")
        freshness(rows, key="health_future", tz=f.tz)
        total = int(rows.attrs.get("total", len(rows)))
        if rows.empty:
            st.info("No health check is dated in the future.", icon="ℹ️")
            return
        st.caption(
            f"{fmt_count(total, hq.COUNT_CAP)} check{'' if total == 1 else 's'} dated after now"
            + (f"; the {len(rows):,} soonest shown." if total > len(rows) else ".")
            + " The tiles and uptime below are the present."
        )
        st.dataframe(shown_tz(rows, f.tz), hide_index=True)
        export_buttons(
            rows, key="health_future_export", filename="health_checks_dated_in_the_future"
        )


def future_count_notice() -> None:
    """How many checks are dated after now (no window ending now shows them), with a link to them."""
    with guard("Checks dated in the future"):
        future_notice(
            data.fetch(hq.future_count, now=rounded_now()),
            noun="health check",
            page="pages/health.py",
        )


# --- uptime ------------------------------------------------------------------------------------


def uptime_table(uptime: pd.DataFrame) -> pd.DataFrame:
    """Service x window uptime for display: 'Uptime 24h' ... (the windows in the frame) plus the checks
    of the longest window left out as OTHER; the overall row is 'All services'."""
    if uptime.empty:
        return pd.DataFrame(columns=["service"])
    present = set(uptime["window"])
    windows = [k for k in hq.UPTIME_WINDOWS if k in present]
    other_col = f"Other-status checks ({windows[-1]})"
    rows: dict[str, dict[str, object]] = {}
    for service, window, share, other in zip(
        uptime["service"], uptime["window"], uptime["uptime"], uptime["other"], strict=True
    ):
        name = service if isinstance(service, str) else "All services"
        row = rows.setdefault(
            name,
            {"service": name, **{f"Uptime {k}": float("nan") for k in windows}, other_col: None},
        )
        row[f"Uptime {window}"] = float("nan") if pd.isna(share) else float(share) * 100
        if window == windows[-1]:
            row[other_col] = None if pd.isna(other) else int(other)
    out = pd.DataFrame(
        list(rows.values()), columns=["service", *[f"Uptime {k}" for k in windows], other_col]
    )
    out[other_col] = out[other_col].astype("Int64")
    return out


def uptime_section(*, until: datetime, degraded_down: bool) -> None:
    """Uptime per service and overall for 24h and 7d; 30d and 90d on request (they read up to 90 days of
    checks; ?long=1 in the URL). A fragment: the toggle reruns only this panel."""

    @st.fragment
    def _uptime() -> None:
        long = _uptime_panel(
            until=until, degraded_down=degraded_down, long=urlstate.flag("long", False)
        )
        urlstate.put(long=long)

    _uptime()


def _uptime_panel(*, until: datetime, degraded_down: bool, long: bool) -> bool:
    with guard("Uptime"):
        st.subheader("Uptime")
        long = st.toggle(
            "Show 30- and 90-day uptime",
            value=long,
            key="health_uptime_long",
            help="Off: the last 24 hours and 7 days. On: also 30 and 90 days (reads up to 90 days of "
            "checks, slower on a long history).",
        )
        windows = tuple(hq.UPTIME_WINDOWS) if long else hq.SHORT_WINDOWS
        up = data.fetch(hq.uptime, until=until, degraded_down=degraded_down, windows=windows)
        freshness(up, key="health_uptime")
        spans = "24 hours, 7, 30 and 90 days" if long else "24 hours and 7 days"
        st.caption(
            f"Share of checks that were up, over the last {spans} (ending now). "
            + ("DEGRADED counts as down." if degraded_down else "DEGRADED counts as up.")
        )
        table = uptime_table(up)
        cfg = {
            c: st.column_config.NumberColumn(c, format="%.2f%%")
            for c in table.columns
            if c.startswith("Uptime")
        }
        st.dataframe(table, hide_index=True, column_config=cfg)
        export_buttons(up, key="health_uptime_export", filename="uptime")
    return long


# --- history -----------------------------------------------------------------------------------


def history_section(
    f: Frame,
    *,
    since: datetime,
    until: datetime,
    service: str | None,
    degraded_down: bool,
    on_zoom: Callable[[datetime, datetime], None],
) -> None:
    """Status history cells (click a cell to zoom into it) and the state band."""
    bucket = bucket_seconds(since, until)
    with guard("Status history"):
        hist = data.fetch(
            hq.status_history,
            since=since,
            until=until,
            bucket_s=bucket,
            degraded_down=degraded_down,
            service=service,
        )
        st.subheader("Status history")
        freshness(hist, key="health_history", tz=f.tz)
        if hist.empty:
            st.info("No checks in this window.", icon="ℹ️")
        else:
            width = "5 minutes" if bucket == 300 else "hour" if bucket == 3600 else "day"
            fig = figure(charts.history_heatmap, hist, tz=f.tz, title=f"Uptime per {width}")
            event = st.plotly_chart(
                fig,
                key=f"health_history_chart_{int(since.timestamp())}_{int(until.timestamp())}",
                on_select="rerun",
                selection_mode="points",
            )
            points = _selection(event, "points")
            if points:
                start = chart_time(points[0]["x"], f.tz)
                on_zoom(start, start + timedelta(seconds=bucket))
            export(hist, key="health_history_export", filename="status_history")
    with guard("State timeline"):
        band = state_band(since=since, until=until, service=service, degraded_down=degraded_down)
        st.subheader("State timeline")
        freshness(band.drawn, key="health_runs", tz=f.tz)
        if band.drawn.empty:
            st.info("No state in this window.", icon="ℹ️")
            return
        st.caption(
            "Consecutive checks with the same state are one bar; the state before the window is carried "
            "in, and the current state is drawn up to now."
        )
        if band.note:
            st.caption(band.note)
        st.plotly_chart(
            figure(charts.state_timeline, band.drawn, tz=f.tz, title="State per service"),
            key="health_runs_chart",
        )
        export(
            band.exact if band.exact is not None else band.drawn,
            key="health_runs_export",
            filename="state_runs",
        )


def export(df: pd.DataFrame, *, key: str, filename: str) -> None:
    """Export buttons; a big frame is converted only when asked for (it costs seconds per run)."""
    if len(df) <= LAZY_EXPORT_ROWS or st.toggle(
        f"Prepare an export of {len(df):,} rows", key=f"{key}_on"
    ):
        export_buttons(df, key=key, filename=filename)


@dataclass(frozen=True)
class Band:
    """The state band to draw, the exact runs when they were read, and a note on how it was drawn."""

    drawn: pd.DataFrame
    exact: pd.DataFrame | None
    note: str = ""


def state_band(
    *, since: datetime, until: datetime, service: str | None, degraded_down: bool = False
) -> Band:
    """Exact state runs when the window is small enough; else (or when too many to draw) the worst
    state per history cell. Zooming in brings the exact runs back."""
    bucket = bucket_seconds(since, until)
    hist = data.fetch(
        hq.status_history,
        since=since,
        until=until,
        bucket_s=bucket,
        degraded_down=degraded_down,
        service=service,
    )
    checks = int(hist["checks"].sum()) if not hist.empty else 0
    if checks > MAX_CHECKS_FOR_RUNS:
        band = derived(_band_of, hist, bucket_s=bucket, until=until)
        return Band(
            band,
            None,
            f"{checks:,} checks in this window: drawn as the worst state per cell. Zoom in to "
            f"at most {MAX_CHECKS_FOR_RUNS:,} checks for every state change.",
        )
    runs = data.fetch(hq.state_runs, since=since, until=until, service=service)
    if len(runs) <= MAX_DRAWN_RUNS:
        return Band(runs, runs)
    band = derived(_band_of, hist, bucket_s=bucket, until=until)
    return Band(
        band,
        runs,
        f"{len(runs):,} state changes in this window: drawn as the worst state per cell. "
        "Zoom in (or export) for every change.",
    )


def _band_of(hist: pd.DataFrame, *, bucket_s: int, until: datetime) -> pd.DataFrame:
    band = hq.band_from_history(hist, bucket_s=bucket_s, until=until)
    band.attrs = dict(hist.attrs)  # its 'as_of' is the history's
    return band


# --- service timeline --------------------------------------------------------------------------


def _selection(event: object, kind: str) -> list[dict]:
    sel = (
        event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", None)
    )
    if sel is None:
        return []
    found = sel.get(kind, []) if isinstance(sel, dict) else getattr(sel, kind, [])
    return list(found or [])


def chart_time(value: object, tz: tzinfo) -> datetime:
    """A time read back from a plotly selection (axis in the display zone) as UTC."""
    ts = pd.Timestamp(str(value))
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts
    return ts.tz_convert("UTC").to_pydatetime()


def timeline_section(
    f: Frame,
    *,
    since: datetime,
    until: datetime,
    service: str | None,
    on_zoom: Callable[[datetime, datetime], None],
) -> datetime | None:
    """Health band, errors per severity, failed/stalled scans and config activations on one axis.
    A box selection zooms every panel; a clicked point is returned as the moment to explain."""
    bucket = bucket_seconds(since, until)
    with guard("Service timeline"):
        band = state_band(since=since, until=until, service=service)
        errs = data.fetch(
            eq.error_timeline,
            since=since,
            until=until,
            bucket_s=bucket,
            services=() if service is None else (service,),
        )
        scans = data.fetch(tl.scan_problems, since=since, until=until, now=f.until, bucket_s=bucket)
        acts = data.fetch(tl.config_activations, since=since, until=until)
        st.subheader("Service timeline")
        freshness(band.drawn, key="health_timeline", tz=f.tz)
        st.caption(
            "One time axis for everything. Drag a box on any panel to zoom all of them; click a point to "
            "list what changed before that moment."
        )
        if band.note:
            st.caption(band.note)
        fig = figure(
            charts.service_timeline,
            band.drawn,
            errs,
            scans,
            acts,
            tz=f.tz,
            since=pd.Timestamp(since),
            until=pd.Timestamp(until),
            title="All services" if service is None else "",
        )
        event = st.plotly_chart(
            fig,
            key=f"health_timeline_chart_{int(since.timestamp())}_{int(until.timestamp())}",
            on_select="rerun",
            selection_mode=("points", "box"),
        )
        boxes = _selection(event, "box")
        if boxes and len(boxes[0].get("x", [])) == 2:
            a, b = sorted(chart_time(x, f.tz) for x in boxes[0]["x"])
            on_zoom(a, b)
        points = _selection(event, "points")
        if points:
            return chart_time(points[0]["x"], f.tz)
    return None


def changes_panel(
    f: Frame, *, moment: datetime, explicit: bool, lookback: int, service: str | None
) -> None:
    """The look-back control and what changed before `moment` (a clicked or URL moment when `explicit`,
    else the end of the window). A fragment: changing the look-back reruns only this panel."""

    @st.fragment
    def _changes() -> None:
        l1, l2 = st.columns([1, 3], vertical_alignment="bottom")
        minutes = l1.selectbox(
            "Look back",
            LOOKBACK_MIN,
            index=LOOKBACK_MIN.index(lookback),
            format_func=lambda m: f"{m} minutes",
            key="health_lookback",
        )
        if explicit and l2.button(
            "Explain the end of the window instead", key="health_moment_reset"
        ):
            urlstate.remove("at")
            st.rerun()
        urlstate.put(lookback=None if minutes == DEFAULT_LOOKBACK_MIN else minutes)
        changes_section(f, moment=moment, minutes=minutes, service=service)

    _changes()


def changes_section(f: Frame, *, moment: datetime, minutes: int, service: str | None) -> None:
    """What changed in the minutes before a moment."""
    with guard("What changed before this?"):
        changes = data.fetch(tl.changes_before, at=moment, minutes=minutes, service=service)
        st.subheader("What changed before this?")
        freshness(changes, key="health_changes", tz=f.tz)
        st.caption(
            f"In the {minutes} minutes before {moment.astimezone(f.tz):%Y-%m-%d %H:%M:%S} ({f.tz_name}): "
            "status transitions, error groups seen for the first time, failed scans, config activations."
        )
        if changes.empty:
            st.text("Nothing changed in that period.")
            return
        st.dataframe(
            shown_tz(clipped(changes, ("what", "service", "ref")), f.tz),
            hide_index=True,
            column_config={"what": st.column_config.TextColumn("what", width="large")},
        )
        export(changes, key="health_changes_export", filename="changes_before")


# --- latency -----------------------------------------------------------------------------------


def latency_section(f: Frame, *, since: datetime, until: datetime, service: str) -> None:
    """p50/p95/p99/average response time and error_count_24h over time for one service."""
    with guard("Latency"):
        lat = data.fetch(
            hq.latency,
            since=since,
            until=until,
            bucket_s=bucket_seconds(since, until),
            service=service,
        )
        st.subheader("Response time")
        freshness(lat, key="health_latency", tz=f.tz)
        st.caption(PERCENTILES_EXPLAINED)
        if lat.empty:
            st.info("No checks of this service in the window.", icon="ℹ️")
            return
        parsed, bad, missing = (int(lat[c].sum()) for c in ("parsed", "unparseable", "missing"))
        a, b, c = st.columns(3)
        a.metric("Checks with a number", f"{parsed:,}")
        b.metric(
            "Unparseable",
            f"{bad:,} unparseable",
            help="Text in response_time_ms that is not a number; "
            "left out of the figures, never counted as 0.",
        )
        c.metric(
            "Missing", f"{missing:,}", help="NULL response_time_ms. The backend writes 0 as NULL."
        )
        st.plotly_chart(
            figure(charts.latency_lines, lat, tz=f.tz, title=f"Response time (ms), {f.label}"),
            key="health_latency_chart",
        )
        errs_bad = int(lat["errors_unparseable"].sum())
        st.plotly_chart(
            figure(
                charts.error_count_lines,
                lat,
                tz=f.tz,
                title="error_count_24h reported by the checks",
            ),
            key="health_errcount_chart",
        )
        st.caption(f"error_count_24h: {errs_bad:,} unparseable (left out, never counted as 0).")
        export_buttons(lat, key="health_latency_export", filename="latency")


# --- details -----------------------------------------------------------------------------------


def details_section(f: Frame, *, service: str, until: datetime) -> None:
    """The latest check's details JSON of one service."""
    with guard("Latest details"):
        latest = data.fetch(hq.latest_check, service=service, until=until)
        st.subheader("Latest check")
        freshness(latest, key="health_details", tz=f.tz)
        if latest.empty:
            st.info("No check of this service yet.", icon="ℹ️")
            return
        row = latest.iloc[0]
        st.dataframe(shown_tz(latest.drop(columns=["details"]), f.tz), hide_index=True)
        st.caption("details (JSON, shown literally)")
        show_json(row["details"], key="health_details_json")


# --- incidents ---------------------------------------------------------------------------------


def incident_key(row: pd.Series) -> str:
    """An incident's id in the URL: its start (epoch seconds) and service."""
    return f"{int(row['start'].timestamp())}:{row['service']}"


def errors_link(*, service: str | None, range_key: str, query: str = "") -> str:
    """A real URL of the Errors page with the service filter applied (query params survive a new page)."""
    params = {"tab": "all"}
    if service is not None:
        params["service"] = service
    if range_key and range_key != "24h":
        params["range"] = range_key
    if query:
        params["q"] = query
    return "errors?" + urlencode(params)


def incidents_section(f: Frame, *, since: datetime, until: datetime, service: str | None) -> None:
    """Derived incidents with the error groups of the service during each one; the selected incident
    lives in the URL (?incident=). A fragment: selecting a row reruns only this panel."""

    @st.fragment
    def _incidents() -> None:
        chosen = _incidents_panel(
            f, since=since, until=until, service=service, selected=urlstate.text("incident")
        )
        urlstate.put(incident=chosen or None)

    _incidents()


def _incidents_panel(
    f: Frame, *, since: datetime, until: datetime, service: str | None, selected: str
) -> str:
    with guard("Incidents"):
        band = state_band(since=since, until=until, service=service)
        inc = derived(_incidents_of, band.exact if band.exact is not None else band.drawn)
        st.subheader("Incidents")
        freshness(band.drawn, key="health_incidents", tz=f.tz)
        if band.exact is None:
            st.caption(band.note.replace("drawn as", "incidents from"))
        st.caption(
            "An incident is a run of checks that were not HEALTHY, from the first such check to the next "
            "HEALTHY one (ongoing when none came yet); its worst state is the worst check in it."
        )
        if inc.empty:
            st.success("No incidents in this window.", icon="✅")
            return ""
        keys = [
            f"{int(t.timestamp())}:{svc}"
            for t, svc in zip(inc["start"], inc["service"], strict=True)
        ]
        shown = shown_tz(inc, f.tz)
        shown["duration_min"] = (inc["duration_s"] / 60).round(1)
        pos = [keys.index(selected)] if selected in keys else []
        event = st.dataframe(
            shown.drop(columns=["duration_s"]),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=f"health_incidents_table_{hash(tuple(keys))}",
            selection_default={"selection": {"rows": pos}},
        )
        export(inc, key="health_incidents_export", filename="incidents")
        rows = event.selection.rows if hasattr(event, "selection") else []
        if rows:
            selected = keys[rows[0]]
        if selected in keys:
            _incident_errors(f, inc.iloc[keys.index(selected)])
        return selected if selected in keys else ""


def _incidents_of(runs: pd.DataFrame) -> pd.DataFrame:
    inc = hq.incidents_from_runs(runs)
    inc.attrs = dict(runs.attrs)
    return inc


def _incident_errors(f: Frame, row: pd.Series) -> None:
    st.caption("Error groups of this service logged during the incident")
    start = row["start"].to_pydatetime()
    end = row["end"].to_pydatetime() + timedelta(seconds=1)
    with guard("Incident errors"):
        groups = data.fetch(eq.groups_during, service=row["service"], start=start, end=end)
        if groups.empty:
            st.text("No errors of this service were logged during this incident.")
        else:
            cols = ["error_type", "message", "count", "unresolved", "first_seen", "last_seen"]
            st.dataframe(
                shown_tz(clipped(groups[cols], ("error_type", "message")), f.tz), hide_index=True
            )
        st.link_button(
            "Open this service's errors",
            errors_link(service=row["service"], range_key=f.range_key),
            icon=":material/open_in_new:",
        )
