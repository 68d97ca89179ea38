"""AppTest of the Errors page: tabs, search, facets, selected group, occurrences, resolve, URL state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import data
from db.engine import make_engine
from db.models import CriticalErrorLog as E
from db.models import utcnow
from domain.fingerprint import fingerprint
from tests.monitor.apptest_support import no_exceptions, run_page, texts
from tests.monitor.conftest import add_errors

EVIL = "**bold** [x](http://evil.example) <img src=x onerror=alert(1)>"
FP_QUOTE = fingerprint(
    "market_data_unavailable", "opportunity_cache", "quote for 'SPY' failed after 3 tries"
)


@pytest.fixture(autouse=True)
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def seed(url: str) -> list[str]:
    eng = make_engine(url, read_timeout=False)
    now = utcnow()
    ids = add_errors(
        eng,
        [
            {
                "error_type": "market_data_unavailable",
                "service": "opportunity_cache",
                "severity": "HIGH",
                "message": f"quote for '{sym}' failed after {i} tries",
                "created_at": now - timedelta(minutes=10 * i + 1),
                "details": {"symbol": sym, "note": EVIL},
            }
            for i, sym in enumerate(["SPY", "QQQ", "IWM"])
        ],
    )
    add_errors(
        eng,
        [
            {
                "error_type": "ai_service_error",
                "service": None,
                "severity": "LOW",
                "message": EVIL,
                "created_at": now - timedelta(hours=2),
            },
            {
                "error_type": "old_problem",
                "service": "x",
                "message": "done",
                "created_at": now - timedelta(hours=3),
                "resolved_at": now - timedelta(hours=1),
                "resolution_notes": "fixed",
            },
        ],
    )
    eng.dispose()
    return ids


def test_empty_database(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    at = run_page(monkeypatch, sqlite_url, "errors")
    no_exceptions(at)
    assert "No error groups match." in texts(at) and "No errors in this window." in texts(at)
    # The page keeps its shape: the group table with its headers and no rows, the timeline's empty axes.
    (empty,) = [d.value for d in at.dataframe]
    assert len(empty) == 0 and {"error_type", "service", "message", "events", "last_seen"} <= set(
        empty.columns
    )
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["data"] == [] and spec["layout"]["xaxis"]["type"] == "date"


def test_real_backend_database_without_error_tables_names_the_command(
    monkeypatch: pytest.MonkeyPatch, fixture_db_url: str
) -> None:
    at = run_page(monkeypatch, fixture_db_url, "errors")
    no_exceptions(at)
    assert any("python -m db.schema.backend_tables" in w.value for w in at.warning)


@pytest.mark.parametrize("tab,expected", [("unresolved", 2), ("resolved", 1), ("all", 3)])
def test_each_tab_lists_its_groups(
    monkeypatch: pytest.MonkeyPatch, db_url: str, tab: str, expected: int
) -> None:
    seed(db_url)
    at = run_page(monkeypatch, db_url, "errors", tab=tab)
    no_exceptions(at)
    groups = at.dataframe[0].value
    assert len(groups) == expected
    # Database text stays literal: never in Markdown, also not in alerts or captions.
    assert not any(EVIL in m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning])


def test_search_terms_and_facets_filter_and_live_in_the_url(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", q="severity:low is:all", tab="unresolved")
    no_exceptions(at)
    assert at.dataframe[0].value["error_type"].tolist() == ["ai_service_error"]
    at.text_input(key="errors_q").set_value("").run()
    at.multiselect(key="errors_facet_service").set_value(["opportunity_cache"]).run()
    no_exceptions(at)
    assert at.dataframe[0].value["error_type"].tolist() == ["market_data_unavailable"]
    assert at.query_params.get("service") == "opportunity_cache" and "q" not in at.query_params


def test_selected_group_shows_occurrences_detail_and_links(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    ids = seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP_QUOTE, occ=ids[1])
    no_exceptions(at)
    body = texts(at)
    assert "Occurrences in last 24h (unresolved): 3" in body
    assert at.selectbox(key="errors_inspect").value == ids[1]
    assert at.json and EVIL in at.json[0].value  # details literally, as JSON
    assert any("quote for 'QQQ' failed after 1 tries" == c.value for c in at.code)
    hrefs = [b.proto.url for b in at.get("link_button")]
    assert any(
        h.startswith("health?") and "service=opportunity_cache" in h and "zoom=" in h for h in hrefs
    )


def test_resolve_selection_from_the_page_writes_once_and_keeps_the_selection(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    ids = seed(sqlite_url)
    at = run_page(
        monkeypatch,
        sqlite_url,
        "errors",
        group=FP_QUOTE,
        tab="all",
        state={"errors_selected": {FP_QUOTE: [ids[0], ids[2]]}},
    )
    assert at.button(key="errors_resolve_sel").label == "Resolve selected (2)"
    at.text_area(key="errors_note").set_value("feed restarted")
    at.button(key="errors_resolve_sel").click().run()
    no_exceptions(at)
    assert "Resolved 2 error(s)." in texts(at)
    eng = make_engine(sqlite_url)
    with Session(eng) as s:
        notes = dict(s.execute(select(E.id, E.resolution_notes).where(E.id.in_(ids))).all())
    eng.dispose()
    assert notes == {ids[0]: "feed restarted", ids[1]: None, ids[2]: "feed restarted"}
    assert sorted(at.session_state["errors_selected"][FP_QUOTE]) == sorted([ids[0], ids[2]])


def test_resolve_without_a_note_is_refused(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP_QUOTE)
    at.button(key="errors_resolve_all").click().run()
    no_exceptions(at)
    assert any("A note is required" in e.value for e in at.error)


def test_bad_url_values_are_rejected(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    at = run_page(
        monkeypatch, sqlite_url, "errors", tab="bogus", group="not-a-fingerprint", before="zzz"
    )
    no_exceptions(at)
    assert sum("Ignored the URL parameter" in w.value for w in at.warning) == 2


def test_occurrence_pages_move_by_keyset_in_the_url(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    now = utcnow()
    ids = add_errors(
        eng,
        [
            {"message": f"retry {i}", "created_at": now - timedelta(minutes=i + 1)}
            for i in range(105)
        ],
    )
    eng.dispose()
    fp = fingerprint("t", "svc", "retry 1")
    at = run_page(monkeypatch, sqlite_url, "errors", group=fp)
    assert len(at.dataframe[1].value) == 100
    at.button(key="errors_next_page").click().run()
    no_exceptions(at)
    assert "before" in at.query_params
    assert at.dataframe[1].value["id"].tolist() == ids[100:]
    at.button(key="errors_first_page").click().run()
    assert "before" not in at.query_params and len(at.dataframe[1].value) == 100


def test_without_the_resolve_permission_the_actions_are_disabled(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setattr(
        "ui.kit.auth.bound_to_localhost", lambda: False
    )  # read-only mode: view only
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP_QUOTE)
    no_exceptions(at)
    assert "Your role cannot resolve errors (needs the ops or admin role)." in texts(at)
    assert (
        at.button(key="errors_resolve_sel").disabled
        and at.button(key="errors_resolve_all").disabled
    )


def test_the_health_link_opens_the_service_zoomed_into_the_groups_events(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from urllib.parse import parse_qsl, urlsplit

    from tests.monitor.conftest import add_checks

    seed(sqlite_url)
    eng = make_engine(sqlite_url, read_timeout=False)
    add_checks(
        eng,
        [
            {
                "service_name": "opportunity_cache",
                "status": "HEALTHY",
                "check_timestamp": utcnow() - timedelta(minutes=5 * i + 1),
            }
            for i in range(30)
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP_QUOTE, range="7d")
    href = next(b.proto.url for b in at.get("link_button") if b.proto.url.startswith("health?"))
    params = dict(parse_qsl(urlsplit(href).query))
    assert (
        params["service"] == "opportunity_cache"
        and params["range"] == "7d"
        and params["hview"] == "history"
    )
    data.invalidate()
    health = run_page(monkeypatch, sqlite_url, "health", **params)
    no_exceptions(health)
    assert "Zoomed into" in texts(health)
    assert not any("outside" in w.value for w in health.warning)
    assert health.selectbox(key="health_service").value == "opportunity_cache"
