"""The Errors page as a person uses it: bulk actions that state their count and ask before writing,
the resolution history on the occurrence, URL values that must not crash it, rows dated in the
future, untrimmed severities, huge messages and deep JSON, and a bounded search box."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import CriticalErrorLog as E
from db.models import utcnow
from db.own_models import AuditLog, ErrorResolution
from domain.fingerprint import fingerprint
from tests.monitor.apptest_support import no_exceptions, run_page, texts
from tests.monitor.conftest import add_errors

FP = fingerprint("t", "svc", "load 1")
N_OPEN, N_DONE, M_OPEN, M_DONE = 5, 2, 1, 3


@pytest.fixture(autouse=True)
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def seed(url: str) -> dict[str, list[str]]:
    """One group in and out of the last 24 h; some resolved by someone else, days ago, with notes."""
    eng = make_engine(url, read_timeout=False)
    now = utcnow()
    out = {
        "open": add_errors(
            eng,
            [
                {"message": f"load {1 + i % 2}", "created_at": now - timedelta(hours=i + 1)}
                for i in range(N_OPEN)
            ],
        ),
        "done": add_errors(
            eng,
            [
                {
                    "message": "load 1",
                    "created_at": now - timedelta(hours=2 + i),
                    "resolved_at": now - timedelta(hours=1),
                    "resolution_notes": f"fixed by A #{i}",
                }
                for i in range(N_DONE)
            ],
        ),
        "old_open": add_errors(
            eng,
            [{"message": "load 2", "created_at": now - timedelta(days=9)} for _ in range(M_OPEN)],
        ),
        "old_done": add_errors(
            eng,
            [
                {
                    "message": "load 1",
                    "created_at": now - timedelta(days=5 + i),
                    "resolved_at": now - timedelta(days=4),
                    "resolution_notes": f"old fix #{i}",
                }
                for i in range(M_DONE)
            ],
        ),
    }
    eng.dispose()
    return out


def rows(url: str) -> dict[str, tuple[bool, str | None]]:
    eng = make_engine(url)
    with Session(eng) as s:
        out = {
            r.id: (r.resolved_at is not None, r.resolution_notes)
            for r in s.execute(select(E.id, E.resolved_at, E.resolution_notes))
        }
    eng.dispose()
    return out


def changed(before: dict, after: dict) -> set[str]:
    return {i for i in after if after[i] != before[i]}


# --- item 1: bulk actions ------------------------------------------------------------------------


def test_resolve_what_is_shown_asks_with_the_count_then_writes_exactly_those(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    seeded = seed(db_url)
    before = rows(db_url)
    at = run_page(monkeypatch, db_url, "errors", group=FP)
    no_exceptions(at)
    assert "Occurrences in last 24h (unresolved): 5" in texts(at)
    button = at.button(key="errors_resolve_all")
    assert button.label == "Resolve the 5 unresolved in last 24h…" and not button.disabled
    at.text_area(key="errors_note").set_value("restarted the loader")
    button.click().run()
    no_exceptions(at)
    assert rows(db_url) == before  # the first click only asks
    assert any(w.value.startswith("Resolve 5 occurrences?") for w in at.warning), texts(at)
    at.button(key="errors_confirm").click().run()
    no_exceptions(at)
    assert "Resolved 5 error(s)." in texts(at)
    after = rows(db_url)
    assert changed(before, after) == set(seeded["open"])
    assert all(after[i] == (True, "restarted the loader") for i in seeded["open"])
    eng = make_engine(db_url)
    with Session(eng) as s:
        audits = s.scalars(
            select(AuditLog.target_id).where(AuditLog.action == "resolve_error")
        ).all()
    eng.dispose()
    assert sorted(audits) == sorted(seeded["open"])


def test_unresolve_the_whole_history_says_so_and_keeps_every_earlier_note(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seeded = seed(sqlite_url)
    before = rows(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP, tab="all")
    assert at.button(key="errors_unresolve_all").label == "Unresolve the 2 resolved in last 24h…"
    button = at.button(key="errors_unresolve_history")
    assert button.label == "Unresolve all 5 resolved in the group's history…"
    at.text_area(key="errors_note").set_value("it came back")
    button.click().run()
    assert rows(sqlite_url) == before
    assert any(w.value.startswith("Unresolve 5 occurrences?") for w in at.warning), texts(at)
    at.button(key="errors_confirm").click().run()
    no_exceptions(at)
    assert changed(before, rows(sqlite_url)) == set(seeded["done"] + seeded["old_done"])
    # The earlier notes live on in the occurrence's resolution history, shown on its detail.
    target = seeded["old_done"][0]
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP, tab="all", range="30d", occ=target)
    no_exceptions(at)
    hist = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert hist[["action", "actor", "note"]].values.tolist() == [
        ["unresolved", "local", "it came back"],
        ["resolved", "(not through the console)", "old fix #0"],
    ]


def test_rows_changed_between_confirmation_and_write_are_not_written_and_the_page_says_so(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seeded = seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP)
    at.text_area(key="errors_note").set_value("mine")
    at.button(key="errors_resolve_all").click().run()
    assert any(w.value.startswith("Resolve 5 occurrences?") for w in at.warning)
    eng = make_engine(sqlite_url, read_timeout=False)
    with eng.begin() as conn:  # meanwhile someone else resolves two of them, and a new one arrives
        conn.execute(
            E.__table__.update()
            .where(E.id.in_(seeded["open"][:2]))
            .values(resolved_at=utcnow(), resolution_notes="theirs")
        )
    (late,) = add_errors(
        eng, [{"message": "load 1", "created_at": utcnow() - timedelta(minutes=1)}]
    )
    eng.dispose()
    at.button(key="errors_confirm").click().run()
    no_exceptions(at)
    body = texts(at)
    assert (
        "Resolved 3 error(s)." in body
        and "2 error(s) were already resolved by someone else" in body
    )
    after = rows(sqlite_url)
    assert all(after[i] == (True, "theirs") for i in seeded["open"][:2])
    assert all(after[i] == (True, "mine") for i in seeded["open"][2:])
    assert after[late] == (False, None)  # not counted, not confirmed: not written


def test_cancel_writes_nothing(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    seed(sqlite_url)
    before = rows(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP)
    at.text_area(key="errors_note").set_value("x")
    at.button(key="errors_resolve_history").click().run()
    assert any(w.value.startswith("Resolve 6 occurrences?") for w in at.warning)
    at.button(key="errors_cancel").click().run()
    no_exceptions(at)
    assert not any("occurrences?" in w.value for w in at.warning)
    assert rows(sqlite_url) == before


def test_without_the_history_table_the_page_names_the_command_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seeded = seed(sqlite_url)
    eng = make_engine(sqlite_url, read_timeout=False)
    with eng.begin() as conn:
        conn.execute(text(f"DROP TABLE {ErrorResolution.__tablename__}"))
    eng.dispose()
    before = rows(sqlite_url)
    at = run_page(
        monkeypatch,
        sqlite_url,
        "errors",
        group=FP,
        tab="all",
        occ=seeded["done"][0],
        state={"errors_selected": {FP: seeded["open"][:1]}},
    )
    no_exceptions(at)
    warnings = [w.value for w in at.warning]
    assert (
        sum(
            "console_error_resolution_history" in w and "python -m db.schema.migrate" in w
            for w in warnings
        )
        == 2
    )
    for action in (
        "resolve_sel",
        "unresolve_sel",
        "resolve_all",
        "unresolve_all",
        "resolve_history",
        "unresolve_history",
    ):
        assert at.button(key=f"errors_{action}").disabled, (
            action
        )  # the command refuses too (test_trust_errors_bulk)
    assert rows(sqlite_url) == before


# --- item 2: URL values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [
        "99999999999999999999999~x",
        "999999999999999999~x",
        "1~",
        "~x",
        "-5~x",
        "1.5~x",
        "١٢٣~x",
        "12 34~x",
        "1~\x00",
        "x" * 300,
        "%00~x",
        "1e9~x",
        "1~" + "y" * 300,
        "1772452798123456~x",  # the former format of this page
        '["2026-03-02T11:00:00","a\\u0000"]',
        '["9999-12-31T23:59:59-05:00","x"]',
        '["2026-03-02T11:00:00",1]',
        '{"a":1,"b":2}',
        "[" * 5000,
    ],
)
def test_a_malformed_page_position_is_ignored_with_the_usual_message(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, before: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", group=FP, before=before)
    no_exceptions(at)
    assert "Occurrences in last 24h (unresolved): 5" in texts(at)
    assert len(at.dataframe[1].value) == 5  # the newest page
    assert any(w.value.startswith("Ignored the URL parameter `before`") for w in at.warning)
    assert "before" not in at.query_params


@pytest.mark.parametrize(
    "params",
    [
        {"tab": "x" * 500},
        {"q": 'severity:"  " is:nope "unclosed'},
        {"severity": ",,,"},
        {"service": "(none),\u202egnp.exe,\x00"},
        {"type": "a" * 199},
        {"group": "ABCDEF123456"},
        {"group": FP, "occ": "no-such-id"},
        {"group": FP, "occ": "'; DROP TABLE critical_error_logs; --"},
        {"occ": "x", "before": "1~x"},
        {"range": "future", "group": FP},
        {"range": "custom", "from": "1970-01-01"},
    ],
)
def test_hostile_url_values_never_crash_the_page(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, params: dict[str, str]
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", **params)
    no_exceptions(at)
    assert len(rows(sqlite_url)) == N_OPEN + N_DONE + M_OPEN + M_DONE


# --- item 3: dated in the future -----------------------------------------------------------------


def test_an_error_dated_in_the_future_is_counted_and_shown_on_request(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    add_errors(
        eng,
        [
            {
                "error_type": "clock_skew",
                "message": "from 2099",
                "created_at": utcnow().replace(year=2099),
            },
            {"error_type": "now", "message": "today", "created_at": utcnow() - timedelta(hours=1)},
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "errors")
    no_exceptions(at)
    assert at.dataframe[0].value["error_type"].tolist() == ["now"]
    assert "1 error dated in the future is not in this window." in [w.value for w in at.warning]
    at = run_page(
        monkeypatch,
        sqlite_url,
        "errors",
        range="future",
        group=fingerprint("clock_skew", "svc", "from 2099"),
    )
    no_exceptions(at)
    assert at.dataframe[0].value["error_type"].tolist() == ["clock_skew"]
    assert "Occurrences dated in the future (unresolved): 1" in texts(at)
    assert (
        at.button(key="errors_resolve_all").label == "Resolve the 1 unresolved dated in the future…"
    )


# --- item 4: severity ----------------------------------------------------------------------------


def test_untrimmed_severities_are_one_option_and_the_detail_shows_the_raw_value(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    ids = add_errors(
        eng,
        [
            {"severity": s, "created_at": utcnow() - timedelta(minutes=5 + i)}
            for i, s in enumerate([" HIGH", "high ", "HIGH", "LOW"])
        ],
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "errors", group=fingerprint("t", "svc", "m"), occ=ids[0])
    no_exceptions(at)
    assert at.multiselect(key="errors_facet_severity").options == ["HIGH (3)", "LOW (1)"]
    assert at.dataframe[0].value["severity_mix"].tolist() == ["H 3 · M 0 · L 1"]
    assert "Severity as stored: ' HIGH' (counted as 'HIGH')" in texts(at)


# --- item 5: huge text and deep JSON -------------------------------------------------------------


def test_a_huge_message_is_cut_in_tables_and_the_detail_and_deep_json_does_not_crash(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    big = "boom " * 1_000_000  # 5 MB
    deep = "[" * 10_000 + "]" * 10_000
    eng = make_engine(sqlite_url, read_timeout=False)
    (one,) = add_errors(eng, [{"message": big, "created_at": utcnow() - timedelta(minutes=5)}])
    with eng.begin() as conn:  # details as the backend's SQLite TEXT column may hold them
        conn.execute(text("UPDATE critical_error_logs SET details = :d"), {"d": deep})
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "errors", group=fingerprint("t", "svc", big), occ=one)
    no_exceptions(at)
    cells = [str(v) for d in at.dataframe for col in d.value.columns for v in d.value[col].tolist()]
    assert max(len(c) for c in cells) <= 501
    assert max(len(c.value) for c in at.code) <= 20_000
    assert "Showing the first 20,000 of 5,000,000 characters." in texts(at)


# --- item 6: the search box ----------------------------------------------------------------------


def test_the_search_is_bounded_at_the_widget_and_in_the_url(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = run_page(monkeypatch, sqlite_url, "errors", q="load " * 1000)
    no_exceptions(at)
    assert at.text_input(key="errors_q").max_chars == 200
    assert any(w.value.startswith("Ignored the URL parameter `q`") for w in at.warning)
    assert "q" not in at.query_params and at.text_input(key="errors_q").value == ""


def test_the_future_window_makes_no_comparison_with_all_of_the_past(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    now = utcnow()
    same = {"error_type": "clock_skew", "message": "skewed"}
    eng = make_engine(sqlite_url, read_timeout=False)
    add_errors(
        eng,
        [
            {**same, "created_at": now.replace(year=2099)},
            {**same, "created_at": now - timedelta(hours=1)},
            {**same, "created_at": now - timedelta(hours=2)},
            {**same, "created_at": now - timedelta(days=400)},
        ],
    )
    eng.dispose()
    at = run_page(
        monkeypatch, sqlite_url, "errors"
    )  # last 24h: 2 events, none in the 24 h before: +2
    no_exceptions(at)
    assert at.dataframe[0].value["vs_prior"].tolist() == [2]
    # Dated in the future, the "period before" would be the 178 years up to now (1 - 3 = -2): left empty.
    at = run_page(monkeypatch, sqlite_url, "errors", range="future")
    no_exceptions(at)
    table = at.dataframe[0].value
    assert table["events"].tolist() == [1] and table["vs_prior"].isna().all()
