"""Issue 12 on the Health page (AppTest through app.py, real clock, SQLite): health checks dated in the
future are counted with a link and listed with ?range=future; details nested 10,000 deep or megabytes
long are shown as cut text; the service picker's URL value never puts database text into Markdown,
and a service name too long for the URL still survives a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.models import utcnow
from tests.monitor.apptest_support import no_exceptions, run_page, texts
from tests.monitor.conftest import add_checks

EVIL = "**bold** ![img](http://127.0.0.1:9/x.png) <b>b</b> $x^2$"
LONG = "svc-" + "ü" * 240  # 244 characters: longer than a URL parameter may be (200)


@pytest.fixture(autouse=True)
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def seed(url: str, *, details: str | None = None) -> None:
    eng = make_engine(url, read_timeout=False)
    now = utcnow()
    add_checks(
        eng,
        [
            {
                "service_name": "yfinance",
                "status": "HEALTHY",
                "check_timestamp": now - timedelta(minutes=m),
            }
            for m in (5, 35, 65)
        ],
    )
    add_checks(
        eng,
        [
            {
                "service_name": EVIL,
                "status": "DOWN",
                "check_timestamp": now - timedelta(minutes=10),
            },
            {
                "service_name": LONG,
                "status": "DEGRADED",
                "check_timestamp": now - timedelta(minutes=10),
                "response_time_ms": "42",
            },
        ],
    )
    add_checks(
        eng,
        [
            {
                "service_name": "yfinance",
                "status": "DOWN",
                "check_timestamp": now + timedelta(days=30),
                "response_time_ms": "7",
            },
            {
                "service_name": "database",
                "status": "HEALTHY",
                "check_timestamp": now.replace(year=2099),
            },
        ],
    )
    if details is not None:
        with eng.begin() as conn:
            conn.execute(
                text(
                    "UPDATE system_health_status SET details = :d WHERE service_name = 'yfinance' "
                    "AND check_timestamp < :now"
                ),
                {"d": details, "now": now},
            )
    eng.dispose()


def code_chars(at) -> int:  # type: ignore[no-untyped-def]
    return sum(len(str(c.value)) for c in at.code) + sum(len(str(j.value)) for j in at.json)


def test_future_checks_are_counted_and_shown_in_the_future_range(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    for view in ("overview", "history", "details"):
        at = run_page(monkeypatch, sqlite_url, "health", hview=view)
        no_exceptions(at)
        assert "2 health checks dated in the future are not in this window." in texts(at), view
    at = run_page(monkeypatch, sqlite_url, "health")
    assert "2099" not in " ".join(str(df.value) for df in at.dataframe)
    future = run_page(monkeypatch, sqlite_url, "health", range="future")
    no_exceptions(future)
    assert "dated in the future are not in this window" not in texts(future)
    listed = [df.value for df in future.dataframe if "checked_at" in df.value.columns]
    assert listed, "no table of the checks dated in the future"
    rows = listed[0]
    assert list(rows["service"]) == ["yfinance", "database"] and list(rows["status"]) == [
        "DOWN",
        "HEALTHY",
    ]
    assert str(rows["checked_at"].iloc[1]).startswith("2099-")


DEEP = '{"a": ' * 10_000 + "1" + "}" * 10_000
HUGE = '{"log": "' + "x" * 5_000_000 + '"}'
DEEP_VALID = "[" * 500 + "]" * 500


@pytest.mark.parametrize("details", [DEEP, HUGE, DEEP_VALID], ids=["deep-10000", "5MB", "deep-500"])
def test_huge_or_deep_details_are_shown_as_cut_text(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, details: str
) -> None:
    seed(sqlite_url, details=details)
    at = run_page(monkeypatch, sqlite_url, "health", hview="details", service="yfinance")
    no_exceptions(at)
    assert "Latest check" in [s.value for s in at.subheader]
    assert code_chars(at) <= 21_000  # at most the cut text goes to the browser on a rerun
    body = texts(at)
    if details is not DEEP_VALID:
        assert f"of {len(details):,} characters" in body
    else:
        assert "shown as text" in body


def test_an_unknown_service_in_the_url_shows_no_database_text_as_markdown(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "health", hview="details", service="nope")
    no_exceptions(at)
    alerts = [
        a.value
        for kind in ("warning", "info", "error", "markdown", "caption")
        for a in getattr(at, kind)
    ]
    assert any("service" in a and "Ignored" in a for a in alerts)
    assert not any("127.0.0.1:9" in a or "**bold**" in a for a in alerts)


def test_a_service_name_longer_than_a_url_parameter_survives_a_reload(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "health", hview="details")
    at.selectbox(key="health_service").select(LONG).run()
    no_exceptions(at)
    shared = at.query_params["service"]
    shared = shared[0] if isinstance(shared, list) else shared
    assert 0 < len(shared) <= 200
    again = run_page(monkeypatch, sqlite_url, "health", hview="details", service=shared)
    no_exceptions(again)
    assert again.selectbox(key="health_service").value == LONG
    latest = [df.value for df in again.dataframe if "service" in df.value.columns]
    assert latest and list(latest[0]["service"]) == [LONG]  # the details of that service
    assert "Ignored" not in texts(again)


def test_a_service_with_an_empty_name_is_its_own_choice(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    now = utcnow()
    add_checks(
        eng,
        [
            {"service_name": name, "status": status, "check_timestamp": now - timedelta(minutes=5)}
            for name, status in (("", "DOWN"), (" ", "DEGRADED"), ("yfinance", "HEALTHY"))
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview="details")
    picker = at.selectbox(key="health_service")
    labels = [picker.format_func(o) for o in picker.options]
    assert labels.count("All services") == 1 and len(set(labels)) == len(labels) == 4
    blank = picker.options[labels.index("(blank name, 0 characters)")]
    picker.select(blank).run()
    no_exceptions(at)
    latest = [df.value for df in at.dataframe if "service" in df.value.columns][0]
    assert list(latest["service"]) == [""] and list(latest["status"]) == ["DOWN"]
    shared = at.query_params["service"]
    shared = shared[0] if isinstance(shared, list) else shared
    again = run_page(monkeypatch, sqlite_url, "health", hview="details", service=shared)
    kept = again.selectbox(key="health_service")
    assert kept.format_func(kept.value) == "(blank name, 0 characters)"
    # the timeline of that one service only: its DOWN state, not every service's
    tl_view = run_page(monkeypatch, sqlite_url, "health", hview="incidents", service=shared)
    no_exceptions(tl_view)
    incidents = [df.value for df in tl_view.dataframe if "worst" in df.value.columns][0]
    assert list(incidents["service"]) == [""]
