"""The frame every page stands in: page config, sidebar (time range, timezone, connection,
identity) and first-run demo data. `app.py` calls `frame()` before running a page; a page
calls it again at its top, which then returns the same frame. When Streamlit runs a page on
its own (a deep link as the first request of a fresh server), the page's call builds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, available_timezones

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from db import data
from db.auth import MODE_ANONYMOUS, MODE_LOCAL, MODE_READONLY, Identity
from db.settings import load_settings, safe_url
from ui.kit import urlstate
from ui.kit.auth import current_identity, login_configured

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
FUTURE = "future"
RANGE_OPTIONS = [*RANGES, "custom", FUTURE]
DEFAULT_RANGE = "24h"
# The "future" window's end: far enough for any real row, yet inside pandas' Timestamp range (up to
# 2262), and early enough that the errors page's prior period (since - length) stays after 1677.
FUTURE_UNTIL = datetime(2200, 1, 1, tzinfo=UTC)
# The earliest custom day: bucket maths uses Unix seconds, and no scanner row is older.
EARLIEST_DAY = date(1970, 1, 1)
# "now" is rounded up to this many seconds so that reruns share cache keys.
NOW_GRANULARITY_S = 15
COMMON_TZS = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
]
_ALL_TZS = sorted(available_timezones())

_local = threading.local()


@dataclass(frozen=True)
class Frame:
    """What every page gets: the global window in UTC, the display timezone, the user."""

    since: datetime
    until: datetime
    range_key: str
    tz: tzinfo
    tz_name: str
    identity: Identity

    @property
    def label(self) -> str:
        """The window as words, for chart and tile labels."""
        if self.range_key == FUTURE:
            return "dated in the future"
        if self.range_key != "custom":
            return f"last {self.range_key}"
        first = self.since.astimezone(self.tz).date()
        last = (
            (self.until - timedelta(microseconds=1)).astimezone(self.tz).date()
        )  # `until` is exclusive
        return first.isoformat() if last <= first else f"{first.isoformat()} – {last.isoformat()}"


def rounded_now() -> datetime:
    """Now (UTC), rounded up to NOW_GRANULARITY_S so equal views share cache entries."""
    now = datetime.now(UTC)
    step = NOW_GRANULARITY_S
    return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, UTC)


@contextmanager
def framed(frame_value: Frame) -> Iterator[None]:
    """Mark this script run as framed by app.py while the page runs."""
    _local.frame = frame_value
    try:
        yield
    finally:
        _local.frame = None


def _window(range_key: str, tz: tzinfo) -> tuple[datetime, datetime, str]:
    now = rounded_now()
    if range_key == FUTURE:
        return now, FUTURE_UNTIL, FUTURE
    if range_key != "custom":
        return now - RANGES[range_key], now, range_key
    today = now.astimezone(tz).date()
    start = urlstate.day("from", today - timedelta(days=7), lo=EARLIEST_DAY, hi=today)
    end = urlstate.day("to", today, lo=EARLIEST_DAY, hi=today)
    if (start, end) != st.session_state.get(
        "shell_dates_value"
    ):  # the URL changed: it wins over the widget
        st.session_state["shell_dates"] = (start, end)
    picked = st.sidebar.date_input(
        "Dates", min_value=EARLIEST_DAY, max_value=today, key="shell_dates"
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        start, end = picked
    if end < start:
        st.sidebar.warning("The end date is before the start date; showing the start day only.")
        end = start
    st.session_state["shell_dates_value"] = (start, end)
    urlstate.put(**{"from": start.isoformat(), "to": end.isoformat()})
    since = datetime.combine(start, time.min, tz).astimezone(UTC)
    until = min(datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC), now)
    return since, until, "custom"


def _sidebar_identity(identity: Identity) -> None:
    if identity.mode == MODE_LOCAL:
        st.sidebar.caption(
            "🔓 Local mode: no sign-in configured, every permission (localhost only)."
        )
    elif identity.mode == MODE_READONLY:
        st.sidebar.caption(
            "👁️ Read-only: no sign-in configured and the server is not bound to localhost."
        )
    elif identity.mode == MODE_ANONYMOUS:
        st.sidebar.button("Sign in", on_click=st.login, key="shell_login", icon=":material/login:")
    else:
        st.sidebar.caption("Signed in as")
        st.sidebar.text(identity.user)
        st.sidebar.caption("Roles: " + (", ".join(sorted(identity.roles)) or "none"))
        if login_configured():
            st.sidebar.button(
                "Sign out", on_click=st.logout, key="shell_logout", icon=":material/logout:"
            )


def _history_navigation() -> bool:
    """True when this run comes from the browser's back/forward buttons."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))


def _build() -> Frame:
    st.set_page_config(page_title="Options Scanner Console", page_icon="📈", layout="wide")
    data.begin_run()  # a Refresh without a known origin drops only what this run read
    from ui.kit.bootstrap import ensure_database  # late import: it pulls in the demo generator

    settings = load_settings()
    ensure_database(settings)
    last_range = st.session_state.get("shell_range_value", DEFAULT_RANGE)
    last_tz = st.session_state.get("shell_tz_value", "UTC")
    # A missing parameter keeps the session's choice (page links drop the URL's parameters), except on
    # back/forward, where the URL is the view the user goes back to.
    back = _history_navigation()
    range_key = urlstate.choice("range", RANGE_OPTIONS, DEFAULT_RANGE if back else last_range)
    tz_name = urlstate.choice("tz", _ALL_TZS, "UTC" if back else last_tz)
    # The URL changed under a running session (a link to the same page, back/forward): it wins over
    # the widgets' own state, which would otherwise keep the old choice and write it back.
    range_from_url, tz_from_url = range_key != last_range, tz_name != last_tz
    if range_from_url:
        st.session_state["shell_range"] = range_key
    if tz_from_url:
        st.session_state["shell_tz"] = tz_name
    with st.sidebar:
        range_key = (
            st.segmented_control(
                "Time range",
                RANGE_OPTIONS,
                default=None if range_from_url else range_key,
                key="shell_range",
                help="The window every page shows (kept in the URL)",
            )
            or range_key
        )
        tz_options = COMMON_TZS if tz_name in COMMON_TZS else [tz_name, *COMMON_TZS]
        tz_name = st.selectbox(
            "Timezone",
            tz_options,
            index=0 if tz_from_url else tz_options.index(tz_name),
            key="shell_tz",
            accept_new_options=False,
            help="Times are stored in UTC and shown in this zone",
        )
    tz = ZoneInfo(tz_name)
    since, until, range_key = _window(range_key, tz)
    st.session_state["shell_range_value"], st.session_state["shell_tz_value"] = range_key, tz_name
    urlstate.put(
        range=None if range_key == DEFAULT_RANGE else range_key,
        tz=None if tz_name == "UTC" else tz_name,
    )
    if range_key != "custom":
        urlstate.remove("from", "to")
    identity = current_identity()
    st.sidebar.divider()
    st.sidebar.caption("Database")
    st.sidebar.text(
        safe_url(settings.database_url) + (" (demo data)" if settings.is_default_sqlite else "")
    )
    if settings.read_database_url:
        st.sidebar.text("reads: " + safe_url(settings.read_database_url))
    _sidebar_identity(identity)
    return Frame(
        since=since, until=until, range_key=range_key, tz=tz, tz_name=tz_name, identity=identity
    )


def _plural(noun: str, count: int) -> str:
    if count == 1:
        return noun
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "z", "ch", "sh")) else "s")


def _current_range() -> str:
    existing = getattr(_local, "frame", None)
    if existing is not None:
        return str(existing.range_key)
    return str(st.session_state.get("shell_range_value", DEFAULT_RANGE))


def future_notice(count: int, *, noun: str, page: str) -> None:
    """Say how many rows dated after now the window leaves out, with a link to the same page showing
    them (range=future, the other URL parameters kept). Nothing when there are none, or when the
    window is already "future". `noun` is singular ("error"); `page` the page file ("pages/errors.py")."""
    if count <= 0 or _current_range() == FUTURE:
        return
    verb = "is" if count == 1 else "are"
    st.warning(
        f"{count:,} {_plural(noun, count)} dated in the future {verb} not in this window.",
        icon="🕒",
    )
    params = {
        k: v for k, v in st.query_params.to_dict().items() if k not in ("range", "from", "to")
    }
    try:
        st.page_link(
            page,
            label="Show them",
            icon=":material/update:",
            query_params={**params, "range": FUTURE},
        )
    except StreamlitAPIException:
        # The page is not registered in this run mode (a page file run on its own): say where instead.
        st.caption("Choose “future” as the time range in the sidebar to show them.")


def is_framed() -> bool:
    """True while app.py (or ui.kit.page for a page run on its own) frames this run."""
    return getattr(_local, "frame", None) is not None


def frame() -> Frame:
    """The page frame of this run: built once, shared by app.py and the page."""
    existing = getattr(_local, "frame", None)
    if existing is not None:
        return existing
    from ui.kit.nav import fallback_links

    fallback_links()  # run without app.py: Streamlit's own page list is hidden (config.toml)
    built = _build()
    if built.identity.mode == MODE_ANONYMOUS:
        st.info("Sign in to use the console.", icon="🔐")
        st.stop()
    return built
