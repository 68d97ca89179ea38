"""Issue 12: a 5 MB error message is not sent to the browser on every rerun of Health ("What changed
before this?" and an incident's error groups): table cells show long text cut, with its size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from db.engine import make_engine
from db.models import utcnow
from tests.monitor.apptest_support import no_exceptions, run_page
from tests.monitor.conftest import add_checks, add_errors

HUGE = "boom " * 1_000_000  # 5,000,000 characters


@pytest.fixture(autouse=True)
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


def table_chars(at) -> int:  # type: ignore[no-untyped-def]
    total = 0
    for df in at.dataframe:
        for col in df.value.columns:
            total += sum(len(str(v)) for v in df.value[col])
    return total


def test_changes_and_incident_errors_cut_a_huge_message(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url, read_timeout=False)
    now = utcnow()
    add_checks(
        eng,
        [
            {"service_name": "yfinance", "status": s, "check_timestamp": now - timedelta(minutes=m)}
            for s, m in (("HEALTHY", 40), ("DOWN", 20), ("DOWN", 10))
        ],
    )
    add_errors(
        eng, [{"service": "yfinance", "message": HUGE, "created_at": now - timedelta(minutes=15)}]
    )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview="timeline")
    no_exceptions(at)
    changes = [df.value for df in at.dataframe if "what" in df.value.columns]
    assert changes, "no change listed"
    what = [str(v) for v in changes[0]["what"]]
    assert any(w.startswith("t: boom boom") and "5,000,003 characters" in w for w in what), what
    assert table_chars(at) < 20_000
    at = run_page(monkeypatch, sqlite_url, "health", hview="incidents")
    incidents = [df.value for df in at.dataframe if "worst" in df.value.columns][0]
    key = f"{int(incidents['start'].iloc[0].timestamp())}:yfinance"
    at = run_page(monkeypatch, sqlite_url, "health", hview="incidents", incident=key)
    no_exceptions(at)
    groups = [df.value for df in at.dataframe if "message" in df.value.columns]
    assert groups and "5,000,000 characters" in str(groups[0]["message"].iloc[0])
    assert table_chars(at) < 20_000
