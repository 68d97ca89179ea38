"""AppTest of the Health page: empty and seeded databases, every view, URL state, no Markdown from data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from db import data
from db.engine import make_engine
from db.models import utcnow
from tests.monitor.apptest_support import no_exceptions, run_page, texts
from tests.monitor.conftest import add_checks, add_errors

VIEWS = ["overview", "history", "timeline", "latency", "incidents", "details"]
EVIL = "**bold** [x](http://evil.example) <b>b</b>"


@pytest.fixture(autouse=True)
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def seed(url: str) -> Engine:
    eng = make_engine(url, read_timeout=False)
    now = utcnow()
    rows = []
    for i in range(48):
        t = now - timedelta(minutes=30 * i + 1)
        rows.append(
            {
                "service_name": "yfinance",
                "status": "DOWN" if 3 <= i <= 5 else "HEALTHY",
                "check_timestamp": t,
                "response_time_ms": str(100 + i) if i % 7 else "n/a",
                "details": {"source": "yfinance", "i": i},
            }
        )
        rows.append(
            {
                "service_name": EVIL,
                "status": "offline",
                "check_timestamp": t,
                "response_time_ms": "5",
            }
        )
    add_checks(eng, rows)
    add_errors(
        eng,
        [
            {
                "service": "yfinance",
                "created_at": now - timedelta(minutes=100),
                "message": "quote 1 failed",
            }
        ],
    )
    return eng


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_on_an_empty_database(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, view: str
) -> None:
    at = run_page(monkeypatch, sqlite_url, "health", hview=view)
    no_exceptions(at)
    assert at.title[0].value == "Health"


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_on_seeded_data(monkeypatch: pytest.MonkeyPatch, db_url: str, view: str) -> None:
    seed(db_url).dispose()
    at = run_page(monkeypatch, db_url, "health", hview=view, service="yfinance")
    no_exceptions(at)
    body = texts(at)
    assert "Data as of" in body
    if view == "overview":
        assert "STALE" not in body
        assert EVIL in [t.value for t in at.text]  # a service name shown as plain text, literally
        assert not any(EVIL in m.value for m in at.markdown)
    if view == "latency":
        assert any("unparseable" in str(m.value) for m in at.metric)
    if view == "incidents":
        assert len(at.dataframe) >= 1
    if view == "details":
        assert at.json and '"source"' in at.json[0].value


def test_url_state_round_trip(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    seed(sqlite_url).dispose()
    at = run_page(
        monkeypatch, sqlite_url, "health", hview="latency", service="yfinance", dd="1", every="off"
    )
    no_exceptions(at)
    assert at.segmented_control(key="health_view").value == "latency"
    assert at.selectbox(key="health_service").value == "yfinance"
    assert at.toggle(key="health_dd").value is True
    assert at.selectbox(key="health_every").value == "off"
    at.selectbox(key="health_service").set_value("").run()
    at.segmented_control(key="health_view").set_value("history").run()
    no_exceptions(at)
    assert at.query_params.get("hview") == "history" and "service" not in at.query_params
    assert at.query_params.get("dd") == "1"


def test_long_uptime_windows_only_on_request(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = seed(sqlite_url)
    now = utcnow()
    # 20 days ago: 3 DOWN checks of yfinance, inside 30d/90d only.
    add_checks(
        eng,
        [
            {
                "service_name": "yfinance",
                "status": "DOWN",
                "check_timestamp": now - timedelta(days=20, minutes=i),
            }
            for i in range(3)
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "health")
    no_exceptions(at)
    table = at.dataframe[0].value
    assert list(table.columns) == ["service", "Uptime 24h", "Uptime 7d", "Other-status checks (7d)"]
    assert at.toggle(key="health_uptime_long").value is False and "long" not in at.query_params
    at.toggle(key="health_uptime_long").set_value(True).run()
    no_exceptions(at)
    table = at.dataframe[0].value.set_index("service")
    assert list(table.columns) == [
        "Uptime 24h",
        "Uptime 7d",
        "Uptime 30d",
        "Uptime 90d",
        "Other-status checks (90d)",
    ]
    # yfinance: 45 HEALTHY and 3 DOWN in the last day; 3 more DOWN 20 days ago.
    assert table.loc["yfinance", "Uptime 24h"] == pytest.approx(45 / 48 * 100)
    assert table.loc["yfinance", "Uptime 7d"] == pytest.approx(45 / 48 * 100)
    assert table.loc["yfinance", "Uptime 30d"] == pytest.approx(45 / 51 * 100)
    assert table.loc["yfinance", "Uptime 90d"] == pytest.approx(45 / 51 * 100)
    assert at.query_params.get("long") == "1"


def test_bad_url_values_are_rejected_with_a_message(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = run_page(monkeypatch, sqlite_url, "health", hview="nope", service="ghost", zoom="x-y")
    no_exceptions(at)
    assert sum("Ignored the URL parameter" in w.value for w in at.warning) >= 2


def test_zoom_narrows_the_window_and_can_be_reset(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url).dispose()
    from datetime import UTC, datetime

    now = datetime.now(UTC).timestamp()
    at = run_page(
        monkeypatch,
        sqlite_url,
        "health",
        hview="history",
        zoom=f"{int(now) - 7200}-{int(now) - 3600}",
    )
    no_exceptions(at)
    assert "Zoomed into" in texts(at)
    at.button(key="health_zoom_reset").click().run()
    assert "zoom" not in at.query_params and "Zoomed into" not in texts(at)


def test_selected_incident_lists_the_errors_of_its_service(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from datetime import UTC

    from sqlalchemy.orm import Session

    from db.queries import health as hq
    from ui.sections.health import incident_key

    eng = seed(sqlite_url)
    now = utcnow().replace(tzinfo=UTC)
    with Session(eng) as s:
        inc = hq.incidents(s, since=now - timedelta(hours=24), until=now, service="yfinance")
    eng.dispose()
    key = incident_key(inc.iloc[0])
    at = run_page(
        monkeypatch, sqlite_url, "health", hview="incidents", service="yfinance", incident=key
    )
    no_exceptions(at)
    assert at.query_params.get("incident") == key
    groups = at.dataframe[1].value
    assert groups["message"].tolist() == ["quote 1 failed"]
    hrefs = [b.proto.url for b in at.get("link_button")]
    assert hrefs == ["errors?tab=all&service=yfinance"]


def test_timeline_explains_what_changed_before_a_moment(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    seed(db_url).dispose()
    from datetime import UTC, datetime

    at_s = int(datetime.now(UTC).timestamp()) + 60
    at = run_page(
        monkeypatch,
        db_url,
        "health",
        hview="timeline",
        service="yfinance",
        at=str(at_s),
        lookback="240",
    )
    no_exceptions(at)
    changes = at.dataframe[0].value
    assert set(changes["kind"]) == {"status", "new error group"}
    assert (
        "HEALTHY → DOWN" in changes["what"].tolist()
        and "t: quote 1 failed" in changes["what"].tolist()
    )
    assert at.query_params.get("at") == str(at_s) and at.query_params.get("lookback") == "240"
    at.selectbox(key="health_lookback").set_value(15).run()
    no_exceptions(at)
    assert "Nothing changed in that period." in texts(at)


def test_too_many_state_changes_are_drawn_per_cell(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    now = utcnow()
    add_checks(
        eng,
        [
            {
                "service_name": "flappy",
                "status": "DOWN" if i % 2 else "HEALTHY",
                "check_timestamp": now - timedelta(seconds=30 * i + 5),
            }
            for i in range(1600)
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview="history")
    no_exceptions(at)
    assert "state changes in this window: drawn as the worst state per cell" in texts(at)


def test_charts_follow_new_data_after_the_cache_expires(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, still_clock: datetime
) -> None:
    # Built figures are reused across reruns; new data (a new cache entry) must still reach the chart.
    eng = seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "health", hview="history")
    no_exceptions(at)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "newcomer" not in specs
    add_checks(
        eng,
        [
            {
                "service_name": "newcomer",
                "status": "DOWN",
                "check_timestamp": utcnow() - timedelta(minutes=2),
            }
        ],
    )
    eng.dispose()
    at.run()
    assert "newcomer" not in " ".join(
        c.proto.spec for c in at.get("plotly_chart")
    )  # cached data: same figure
    data.invalidate()  # what the data cache's TTL does
    at.run()
    no_exceptions(at)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 2 and all("newcomer" in s for s in specs)


@pytest.mark.parametrize("view", ["history", "timeline"])
def test_database_text_in_charts_is_escaped(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, view: str
) -> None:
    seed(sqlite_url).dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview=view)
    no_exceptions(at)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert specs and any("&lt;b&gt;b&lt;" in s for s in specs)  # JSON writes '/' as \u002f
    assert not any("<b>b<" in s or "\\u003cb\\u003eb" in s for s in specs)


def test_selecting_an_incident_row_puts_it_in_the_url(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url).dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview="incidents", service="yfinance")
    no_exceptions(at)
    assert "incident" not in at.query_params and len(at.dataframe) == 1
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    no_exceptions(at)
    assert str(at.query_params.get("incident", "")).endswith(":yfinance")
    assert at.dataframe[1].value["message"].tolist() == ["quote 1 failed"]
