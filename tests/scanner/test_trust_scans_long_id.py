"""A run selected by an id longer than 64 characters stays selected on reload and in a shared link;
an id longer than the URL keeps is refused with a message, never cut to another id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import ScanSession, utcnow
from tests.scanner.test_pages import open_page, texts
from ui.kit.urlstate import MAX_ID_LEN

LONG_ID = "scan-" + "x" * 95  # 100 characters, as the backend's unbounded string ids allow


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def _seed(url: str, *ids: str) -> None:
    now = utcnow()
    eng = make_engine(url, read_timeout=False)
    with Session(eng) as s:
        s.add_all(
            ScanSession(
                id=i,
                strategy="swing",
                started_at=now - timedelta(hours=1),
                status="COMPLETED",
                completed_at=now - timedelta(minutes=59),
                opportunities_found=0,
            )
            for i in ids
        )
        s.commit()
    eng.dispose()


def test_a_long_id_from_the_url_selects_its_run(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    _seed(sqlite_url, LONG_ID, LONG_ID[:64])
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py", scan=LONG_ID)
    assert at.query_params["scan"] == LONG_ID
    assert "Ignored the URL parameter" not in texts(at)
    assert LONG_ID in texts(at)  # the detail of exactly that run
    at.run()  # a rerun (as a reload) keeps it
    assert at.query_params["scan"] == LONG_ID and LONG_ID in texts(at)


def test_an_id_longer_than_the_url_keeps_is_refused_with_a_message(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    too_long = "s" * (MAX_ID_LEN + 1)
    _seed(sqlite_url, too_long[:MAX_ID_LEN])
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py", scan=too_long)
    assert "Ignored the URL parameter `scan`" in "\n".join(str(w.value) for w in at.warning)
    assert "scan" not in at.query_params
    assert too_long[:MAX_ID_LEN] not in texts(at).replace(
        too_long[:80], ""
    )  # no run chosen by a cut id


def test_opportunities_of_a_scan_with_a_long_id(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from tests.scanner.conftest import snapshot
    from tests.scanner.test_pages import table

    _seed(sqlite_url, LONG_ID, LONG_ID[:64])
    eng = make_engine(sqlite_url, read_timeout=False)
    with Session(eng) as s:
        s.add_all(
            [
                snapshot(1, "AAPL", "theta", ev=10.0, scan=LONG_ID),
                snapshot(2, "MSFT", "theta", ev=20.0, scan=LONG_ID[:64]),
                snapshot(3, "SPY", "theta", ev=30.0),
            ]
        )
        s.commit()
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, "pages/opportunities.py", scan=LONG_ID, expired="1")
    assert at.query_params["scan"] == LONG_ID
    assert list(table(at, "marker")["symbol"]) == [
        "AAPL"
    ]  # that scan's one snapshot, not the 64-character one's
