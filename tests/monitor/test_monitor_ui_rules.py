"""Pure rules of the monitor pages: search terms, badges, zoom and cursor parameters, links, uptime table."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from db.queries import health as hq
from db.queries.common import make_cursor, read_cursor, read_time_cursor
from ui.kit import format as fmt
from ui.sections import errors as ue
from ui.sections import health as uh


def test_search_terms_facets_status_and_free_text() -> None:
    s = ue.parse_search(
        'service:opportunity_cache severity:high type:"ai service" is:resolved price  data'
    )
    assert (
        s.services == ("opportunity_cache",)
        and s.severities == ("HIGH",)
        and s.types == ("ai service",)
    )
    assert s.status == "resolved" and s.text == "price data" and s.problems == ()


def test_unknown_keys_stay_free_text_and_bad_status_is_reported() -> None:
    s = ue.parse_search('http://x.example is:maybe "exact phrase" Service:api')
    assert s.text == "http://x.example exact phrase" and s.services == ("api",)
    assert s.status is None and s.problems == ("is:maybe",)
    assert ue.parse_search("") == ue.Search()


def test_badges_are_plain_words() -> None:
    row = pd.Series({"new": True, "regressed": False, "escalating": True})
    assert ue.badges(row) == "🆕 New · 📈 Escalating"
    groups = pd.DataFrame(
        {
            "new": pd.array([True, False, None], dtype="boolean"),
            "regressed": pd.array([False, True, None], dtype="boolean"),
            "escalating": pd.array([True, True, None], dtype="boolean"),
        }
    )
    for col in ("error_type", "service", "message", "fingerprint"):
        groups[col] = "x"
    for col in ("count", "change", "unresolved", "high", "medium", "low", "other_severity"):
        groups[col] = 1
    groups["first_seen"] = groups["last_seen"] = pd.Timestamp("2026-03-02", tz="UTC")
    sparks = pd.DataFrame({"fingerprint": [], "bucket": [], "count": []})
    table = ue.group_table(groups, sparks, [])
    assert table["badges"].tolist() == ["🆕 New · 📈 Escalating", "↩️ Regressed · 📈 Escalating", ""]


def test_one_page_position_format_for_every_list() -> None:
    # Times as naive-UTC ISO text (an aware time converted), numbers (and +-Infinity), text, NULL.
    berlin = pd.Timestamp("2026-03-02 12:00:00", tz="Europe/Berlin")
    assert make_cursor(berlin, "r1") == '["2026-03-02T11:00:00","r1"]'
    assert read_time_cursor(make_cursor(datetime(2026, 3, 2, 11), "r1")) == (
        datetime(2026, 3, 2, 11),
        "r1",
    )
    assert read_cursor(make_cursor(float("inf"), 3)) == (float("inf"), 3)
    assert read_cursor(make_cursor(float("nan"), 3)) == (None, 3)
    assert read_cursor(make_cursor(pd.NaT, 3)) == (None, 3)
    assert read_cursor(make_cursor("SPY", 4)) == ("SPY", 4)
    hostile = [
        '["2026-03-02T11:00:00","a\\u0000b"]',  # NUL: PostgreSQL would refuse the query
        '["9999-12-31T23:59:59-05:00","x"]',  # past year 9999 in UTC
        '["0001-01-01T00:00:00+01:00","x"]',
        '["2026-03-02T11:00:00"]',
        '{"a":1,"b":2}',
        '[null,"x"]',
        "[" * 5000,
        "",
    ]
    for raw in hostile:
        with pytest.raises(ValueError):
            read_time_cursor(raw)


def test_cursor_and_zoom_round_trip_and_reject_garbage() -> None:
    ts = pd.Timestamp("2026-03-02 11:59:58.123456", tz="UTC")
    raw = make_cursor(ts, "abc-1")
    assert read_time_cursor(raw) == (datetime(2026, 3, 2, 11, 59, 58, 123456), "abc-1")
    for garbage in (
        "zzz",
        "12~",
        "1772452798123456~abc-1",
        '["2026-03-02T11:59:58",7]',
        "[" * 5000,
    ):
        with pytest.raises(ValueError):
            read_time_cursor(garbage)
    a, b = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, 1, tzinfo=UTC)
    assert uh.parse_zoom(uh.zoom_param(a, b)) == (a, b)
    assert (
        uh.parse_zoom("x-y") is None
        and uh.parse_zoom("20-10") is None
        and uh.parse_zoom("0-999999999") is None
    )


def test_links_are_real_urls_with_the_filter() -> None:
    url = uh.errors_link(service="a&b=c", range_key="7d")
    parts = urlsplit(url)
    assert parts.path == "errors" and parse_qs(parts.query) == {
        "tab": ["all"],
        "service": ["a&b=c"],
        "range": ["7d"],
    }


def test_bucket_width_follows_the_range() -> None:
    t = datetime(2026, 3, 2, tzinfo=UTC)
    assert fmt.bucket_seconds(t - pd.Timedelta(hours=1), t) == 300
    assert fmt.bucket_seconds(t - pd.Timedelta(hours=24), t) == 3600
    assert fmt.bucket_seconds(t - pd.Timedelta(days=7), t) == 86400


def test_uptime_table_labels_every_window_and_the_overall_row() -> None:
    rows = [
        {"service": s, "window": w, "up": 1, "down": 1, "other": 0, "checks": 2, "uptime": 0.5}
        for s in ("api", None)
        for w in hq.UPTIME_WINDOWS
    ]
    table = uh.uptime_table(pd.DataFrame(rows))
    assert list(table.columns) == [
        "service",
        "Uptime 24h",
        "Uptime 7d",
        "Uptime 30d",
        "Uptime 90d",
        "Other-status checks (90d)",
    ]
    assert table["service"].tolist() == ["api", "All services"] and table["Uptime 7d"].tolist() == [
        50.0,
        50.0,
    ]


def test_buckets_cover_the_window() -> None:
    a, b = datetime(2026, 3, 2, 10, 30, tzinfo=UTC), datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert [t.hour for t in ue.buckets_of(a, b, 3600)] == [10, 11, 12]
