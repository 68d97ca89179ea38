"""Issue 12 on the Scans page (AppTest through app.py, real clock): stuck scans show in the default 24 h
view with their age and agree with the status facet; scans dated in the future are counted with a link
to them, and `?range=future` lists them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import ScanSession, utcnow
from tests.scanner.test_pages import open_page, table, texts

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def seed(url: str) -> None:
    now = utcnow()

    def done(sid: str, start: timedelta, seconds: float) -> ScanSession:
        return ScanSession(
            id=sid,
            strategy="swing",
            started_at=now - start,
            status="COMPLETED",
            completed_at=now - start + timedelta(seconds=seconds),
            opportunities_found=1,
        )

    rows = [
        done("done-1h", timedelta(hours=1), 100),
        done("done-5h", timedelta(hours=5), 200),
        done("done-20h", timedelta(hours=20), 500),
        done("old-done-3d", 3 * DAY, 300),
        ScanSession(
            id="running-10m",
            strategy="swing",
            started_at=now - timedelta(minutes=10),
            status="RUNNING",
        ),
        ScanSession(
            id="future-1",
            strategy="swing",
            started_at=now + 30 * DAY,
            status="COMPLETED",
            completed_at=now + 30 * DAY + timedelta(seconds=5),
        ),
        ScanSession(
            id="future-2", strategy="swing", started_at=now.replace(year=2099), status="RUNNING"
        ),
    ]
    rows += [
        ScanSession(
            id=f"stuck-{d}d",
            strategy="swing",
            started_at=now - d * DAY - timedelta(hours=4),
            status="RUNNING",
        )
        for d in (2, 5, 9)
    ]
    eng = make_engine(url, read_timeout=False)
    with Session(eng) as s:
        s.add_all(rows)
        s.commit()
    eng.dispose()


def test_stuck_scans_show_in_the_default_view_with_their_age(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    runs = table(at, "running_for")
    assert list(runs["id"]) == [
        "running-10m",
        "done-1h",
        "done-5h",
        "done-20h",
        "stuck-2d",
        "stuck-5d",
        "stuck-9d",
    ]
    age = dict(zip(runs["id"], runs["running_for"], strict=True))
    assert age["stuck-9d"] == "9 d 4 h" and age["stuck-2d"] == "2 d 4 h" and age["done-1h"] == ""
    assert age["running-10m"] in ("10 min", "9 min")
    labels = at.multiselect(key="scans_state").options
    assert "STALLED (3)" in labels and "RUNNING (1)" in labels and "COMPLETED (3)" in labels
    body = texts(at)
    assert "7 scans" in body
    assert (
        "3 scans started outside this window are still stalled; the oldest has been running for 9 d 4 h"
        in body
    )
    # per strategy: the same seven runs
    stats = table(at, "success_rate")
    assert int(stats.iloc[0]["runs"]) == 7 and int(stats.iloc[0]["stalled"]) == 3


def test_future_scans_are_counted_with_a_link_and_shown_in_the_future_range(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seed(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    assert "2 scans dated in the future are not in this window." in texts(at)
    assert not {"future-1", "future-2"} & set(table(at, "running_for")["id"])
    future = open_page(monkeypatch, sqlite_url, "pages/scans.py", range="future")
    assert list(table(future, "running_for")["id"]) == ["future-2", "future-1"]
    assert "dated in the future are not in this window" not in texts(future)
    assert "started outside this window" not in texts(future)
    one = open_page(monkeypatch, sqlite_url, "pages/scans.py", range="future", state="COMPLETED")
    assert list(table(one, "running_for")["id"]) == ["future-1"]
    assert "1 scan · 1 on this page" in texts(one)


HUGE = "boom " * 1_000_000  # 5,000,000 characters


def test_scan_detail_cuts_huge_texts_in_its_tables(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from db.models import CriticalErrorLog

    now = utcnow()
    eng = make_engine(sqlite_url, read_timeout=False)
    with Session(eng) as s:
        s.add_all(
            [
                ScanSession(
                    id="big",
                    strategy="swing",
                    started_at=now - timedelta(minutes=30),
                    status="FAILED",
                    completed_at=now - timedelta(minutes=20),
                    error_message=HUGE,
                    scan_parameters={"note": HUGE, "n": 1},
                ),
                ScanSession(
                    id="small",
                    strategy="swing",
                    started_at=now - timedelta(minutes=60),
                    status="COMPLETED",
                    completed_at=now - timedelta(minutes=59),
                    scan_parameters={"note": "short", "n": 1},
                ),
                CriticalErrorLog(
                    id="e1",
                    error_type="strategy_scan_failure",
                    message=HUGE,
                    service="swing",
                    severity="HIGH",
                    details={"strategy": "swing", "log": HUGE},
                    created_at=now - timedelta(minutes=25),
                ),
            ]
        )
        s.commit()
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py", scan="big", cmp="small")
    sent = 0
    for df in at.dataframe:
        value = getattr(df.value, "data", df.value)
        sent += sum(len(str(v)) for col in value.columns for v in value[col])
    assert sent < 50_000
    errors = table(at, "error_type")
    assert "5,000,000 characters" in str(errors["message"].iloc[0])
    diff = table(at, "this run")
    assert "characters)" in str(diff.set_index("key").loc["parameters.note", "this run"])
    assert (
        sum(len(str(c.value)) for c in at.code) < 50_000
    )  # error_message and parameters: cut text
