"""Health: what is broken, since when, how badly (system_health_status)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from db import data
from db.queries import health as hq
from ui.kit import urlstate
from ui.kit.frame import FUTURE, rounded_now
from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections import health as ui

f = start("Health", tables=("system_health_status",))

# --- view state from the URL ---------------------------------------------------------------------
view = urlstate.choice("hview", list(ui.VIEWS), "overview")
degraded_down = urlstate.flag("dd", False)
refresh_key = urlstate.choice("every", list(ui.REFRESH_OPTIONS), ui.DEFAULT_REFRESH)
services: tuple[str, ...] = ()
with guard("Services"):
    services = data.fetch(hq.services)
service = ui.service_from_url(services)
zoom = ui.parse_zoom(urlstate.text("zoom")) if urlstate.text("zoom") else None
lookback = int(
    urlstate.choice("lookback", [str(m) for m in ui.LOOKBACK_MIN], str(ui.DEFAULT_LOOKBACK_MIN))
)
moment_s = urlstate.integer("at", 0, lo=0, hi=4_102_444_800)


def _set_zoom(a: datetime, b: datetime) -> None:
    if urlstate.text("zoom") != ui.zoom_param(a, b):  # the chart keeps its selection: zoom once
        urlstate.put(zoom=ui.zoom_param(a, b))
        st.rerun()


# --- controls ------------------------------------------------------------------------------------
bar = st.container(horizontal=True, vertical_alignment="bottom")  # one block, not a column each
view = (
    bar.segmented_control(
        "View",
        list(ui.VIEWS),
        default=view,
        format_func=ui.VIEWS.get,
        key="health_view",
        help="What to show (kept in the URL)",
    )
    or view
)
service_options = ui.picker_options(services)  # "" is "All services"
service = ui.picked_service(
    bar.selectbox(
        "Service",
        service_options,
        index=service_options.index(ui.picker_value(service)),
        format_func=ui.service_label,
        key="health_service",
        width=240,
    )
)
degraded_down = bar.toggle(
    "DEGRADED counts as down",
    value=degraded_down,
    key="health_dd",
    help="Off: DEGRADED counts as up in uptime. On: as down.",
)
refresh_key = bar.selectbox(
    "Live refresh",
    list(ui.REFRESH_OPTIONS),
    index=list(ui.REFRESH_OPTIONS).index(refresh_key),
    key="health_every",
    width=160,
    format_func=lambda k: "paused" if k == "off" else f"every {k}",
    help="How often the status tiles read again; the rest of the page does not rerun.",
)
urlstate.put(
    hview=None if view == "overview" else view,
    service=None if service is None else ui.service_param(service),
    dd=degraded_down,
    every=None if refresh_key == ui.DEFAULT_REFRESH else refresh_key,
)
if f.range_key != FUTURE:
    ui.future_count_notice()

since, until = f.since, f.until
if zoom is not None:
    since, until = max(zoom[0], f.since), min(zoom[1], f.until)
    z1, z2 = st.columns([5, 1], vertical_alignment="center")
    z1.caption(
        f"Zoomed into {since.astimezone(f.tz):%Y-%m-%d %H:%M} – {until.astimezone(f.tz):%Y-%m-%d %H:%M} "
        f"({f.tz_name}); the window of the page is {f.label}."
    )
    if z2.button("Reset zoom", key="health_zoom_reset", icon=":material/zoom_out:"):
        urlstate.remove("zoom")
        st.rerun()
    if since >= until:
        st.warning(
            "The zoomed period is outside the page's time window; showing the whole window.",
            icon="⚠️",
        )
        since, until = f.since, f.until

# --- sections ------------------------------------------------------------------------------------
if view == "overview":
    if f.range_key == FUTURE:
        ui.future_section(f)
    ui.live_section(refresh_s=ui.REFRESH_OPTIONS[refresh_key])
    ui.uptime_section(until=min(f.until, rounded_now()), degraded_down=degraded_down)
elif view == "history":
    ui.history_section(
        f, since=since, until=until, service=service, degraded_down=degraded_down, on_zoom=_set_zoom
    )
elif view == "timeline":
    clicked = ui.timeline_section(f, since=since, until=until, service=service, on_zoom=_set_zoom)
    moment = clicked or (datetime.fromtimestamp(moment_s, UTC) if moment_s else until)
    urlstate.put(at=int(moment.timestamp()) if (clicked or moment_s) else None)
    ui.changes_panel(
        f, moment=moment, explicit=bool(clicked or moment_s), lookback=lookback, service=service
    )
elif view == "latency":
    if not services:
        st.info("No health checks recorded yet.", icon="ℹ️")
    else:
        ui.latency_section(
            f, since=since, until=until, service=services[0] if service is None else service
        )
        if service is None:
            st.caption("Showing the first service; pick one above to change it.")
elif view == "incidents":
    ui.incidents_section(f, since=since, until=until, service=service)
elif view == "details":
    if not services:
        st.info("No health checks recorded yet.", icon="ℹ️")
    else:
        ui.details_section(f, service=services[0] if service is None else service, until=f.until)
        if service is None:
            st.caption("Showing the first service; pick one above to change it.")
