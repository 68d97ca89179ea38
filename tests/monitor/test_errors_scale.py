"""Errors at scale: capped windows said plainly, the older history read by message, a group's life."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import utcnow
from db.queries import errors as q
from tests.monitor.apptest_support import no_exceptions, run_page, texts
from tests.monitor.conftest import NOW, add_errors, ago

SINCE, UNTIL = NOW - timedelta(hours=24), NOW


def view(engine: Engine, **kw):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return q.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600, **kw)


@pytest.fixture
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def test_a_window_over_the_cap_groups_its_newest_errors_and_says_from_when(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(q, "MAX_WINDOW_EVENTS", 3)
    add_errors(
        engine,
        [
            {"created_at": ago(minutes=m), "severity": "LOW" if m == 1 else "HIGH"}
            for m in range(1, 6)
        ],
    )
    v = view(engine)
    assert v.events == 3 and v.capped_from == ago(minutes=4)
    assert v.groups["count"].tolist() == [3]
    assert int(v.timeline["count"].sum()) == 3
    sev = dict(
        zip(
            v.facets[v.facets.facet == "severity"].value,
            v.facets[v.facets.facet == "severity"]["count"],
            strict=True,
        )
    )
    assert sev == {"HIGH": 2, "LOW": 1}
    monkeypatch.setattr(q, "MAX_WINDOW_EVENTS", 5)
    assert view(engine).capped_from is None  # exactly at the cap: everything counted


def test_the_page_says_plainly_that_counts_cover_the_newest_errors(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, _caches: None
) -> None:
    monkeypatch.setattr(q, "MAX_WINDOW_EVENTS", 3)
    monkeypatch.setattr(q, "MAX_HISTORY_EVENTS", 1)
    eng = make_engine(sqlite_url, read_timeout=False)
    now = utcnow()
    add_errors(eng, [{"created_at": now - timedelta(minutes=m)} for m in range(1, 6)])
    add_errors(eng, [{"created_at": now - timedelta(days=d)} for d in (2, 3)])
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "errors")
    no_exceptions(at)
    warning = next(w.value for w in at.warning if "holds more than" in w.value)
    assert "more than 3 errors" in warning and "newest 3 only" in warning
    assert "newest 1 errors before the window only" in texts(at)
    assert at.dataframe[0].value["events"].tolist() == [3]


def test_a_message_under_several_types_or_services_keeps_each_groups_history(
    engine: Engine,
) -> None:
    add_errors(
        engine,
        [
            # The same message under two types, two spellings of a service and no service: five groups.
            {"error_type": "a", "message": "boom", "created_at": ago(days=25)},
            {"error_type": "b", "message": "boom", "created_at": ago(days=20)},
            {"service": "Cache", "message": "boom", "created_at": ago(days=15)},
            {"service": "cache", "message": "boom", "created_at": ago(days=12)},
            {"service": None, "message": "boom", "created_at": ago(days=11)},
            *(
                {"error_type": t, "service": s, "message": "boom", "created_at": ago(hours=1)}
                for t, s in (
                    ("a", "svc"),
                    ("b", "svc"),
                    ("t", "Cache"),
                    ("t", "cache"),
                    ("t", None),
                )
            ),
            # One type and service only: grouped by its message alone.
            {"message": "plain", "created_at": ago(days=9)},
            {"message": "plain", "created_at": ago(hours=2)},
        ],
    )
    g = view(engine).groups
    first = {
        (r.error_type, r.service, r.message): round((NOW - r.first_seen.tz_localize(None)).days)
        for r in g.itertuples()
    }
    assert first == {
        ("a", "svc", "boom"): 25,
        ("b", "svc", "boom"): 20,
        ("t", "Cache", "boom"): 15,
        ("t", "cache", "boom"): 12,
        ("t", None, "boom"): 11,
        ("t", "svc", "plain"): 9,
    }
    assert not g["new"].any()


def test_a_groups_badges_do_not_depend_on_the_severity_filter(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {
                "severity": "HIGH",
                "created_at": ago(days=12),
                "resolved_at": ago(hours=3),
                "resolution_notes": "n",
            },
            {"severity": "LOW", "created_at": ago(hours=1)},
        ],
    )
    g = view(engine, severities=("LOW",)).groups.iloc[0]
    assert g["count"] == 1 and g["low"] == 1
    # First seen 12 days ago (a HIGH error), resolved 3 h ago, then a new error: not New, Regressed.
    assert not bool(g["new"]) and bool(g["regressed"])


def test_the_errors_timeline_of_the_health_page_follows_the_filters(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"created_at": NOW.replace(hour=10, minute=5), "severity": "high", "service": "a"},
            {
                "created_at": NOW.replace(hour=10, minute=7),
                "severity": "LOW",
                "service": "b",
                "message": "Disk full",
            },
            {"created_at": NOW.replace(hour=11, minute=1), "severity": "LOW", "service": None},
        ],
    )
    with Session(engine) as s:
        every = q.error_timeline(s, since=SINCE, until=UNTIL, bucket_s=3600)
        none = q.error_timeline(
            s, since=SINCE, until=UNTIL, bucket_s=3600, services=(q.NO_SERVICE,)
        )
        text = q.error_timeline(s, since=SINCE, until=UNTIL, bucket_s=3600, text="disk")
    assert [
        (b.hour, sev, n)
        for b, sev, n in zip(every.bucket, every.severity, every["count"], strict=True)
    ] == [(10, "HIGH", 1), (10, "LOW", 1), (11, "LOW", 1)]
    assert none["count"].tolist() == [1] and text["count"].tolist() == [1]
