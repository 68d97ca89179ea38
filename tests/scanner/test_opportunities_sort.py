"""Sorting the screener by a ratio (EV / max loss, premium / max loss, annualised return): when more
snapshots match than RATIO_CANDIDATES, only the newest of them are ranked, and the page says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from db import data
from db.queries import opportunities as q
from tests.scanner.conftest import NOW
from tests.scanner.test_pages import WINDOW, _seed_sqlite, open_page, table, texts

# The ten rows the default filters keep (conftest), by EV / max loss (ties by id, both descending):
# 9: 90 / 300 (max loss from data) and 2: 150 / 500, then 11, 8 and 1: 100 / 500 ... 12: -20 / 500, 5 (no EV).
NEWEST_FIVE_BY_EV_PER_LOSS = [9, 11, 8, 10, 12]  # ids 8-12 are the newest (same time, higher id)


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def base(**kw: object) -> dict[str, object]:
    return q.Filters(now=NOW, **kw).kwargs()  # type: ignore[arg-type]


def _all_pages(s: Session, sort: str) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        df = q.screener_page(s, sort=sort, after=after, **base())
        rows = df.head(q.PAGE_SIZE)
        seen += [int(i) for i in rows["id"]]
        if len(df) <= q.PAGE_SIZE:
            return seen
        after = q.make_cursor(rows["sort_value"].iloc[-1], rows["id"].iloc[-1])


def test_ratio_sort_ranks_the_newest_when_more_match(opp_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "PAGE_SIZE", 2)
    with Session(opp_engine) as s:
        exact = _all_pages(s, "ev_per_max_loss")
        assert len(exact) == 10 and exact[0] == 9 and exact[-1] == 5  # 5 has no EV: last
        assert q.sort_candidates(s, sort="ev_per_max_loss", **base()) is None  # all ranked
        monkeypatch.setattr(q, "RATIO_CANDIDATES", 5)
        assert _all_pages(s, "ev_per_max_loss") == NEWEST_FIVE_BY_EV_PER_LOSS  # paged, each once
        assert [i for i in exact if i in NEWEST_FIVE_BY_EV_PER_LOSS] == NEWEST_FIVE_BY_EV_PER_LOSS
        for sort in q.RATIO_SORTS:
            assert q.sort_candidates(s, sort=sort, **base()) == 5
            assert len(_all_pages(s, sort)) == 5
        monkeypatch.setattr(q, "RATIO_CANDIDATES", 10)  # exactly as many as match: all ranked
        assert q.sort_candidates(s, sort="ev_per_max_loss", **base()) is None
        assert _all_pages(s, "ev_per_max_loss") == exact
        monkeypatch.setattr(q, "RATIO_CANDIDATES", 5)
        # sorts an index serves still order every matching row
        assert q.sort_candidates(s, sort="ev", **base()) is None
        assert len(_all_pages(s, "ev")) == 10
        with pytest.raises(q.BadSort):
            q.sort_candidates(s, sort="data", **base())


def test_page_says_when_a_ratio_sort_ranks_only_the_newest(monkeypatch, sqlite_url) -> None:
    url = _seed_sqlite(sqlite_url)
    at = open_page(
        monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sort="ev_per_max_loss"
    )
    assert "among the newest" not in texts(at) and len(table(at, "marker")) == 12
    monkeypatch.setattr(q, "RATIO_CANDIDATES", 5)
    data.invalidate()  # the reads above were cached with the real cap
    at = open_page(
        monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sort="ev_per_max_loss"
    )
    note = [w.value for w in at.warning if "among the newest" in w.value]
    assert note and note[0].startswith(
        "Sorted by EV / max loss among the newest 5 matching snapshots only"
    )
    # expired rows shown too: the newest five are 9-13 (13 is the seeded condor, EV 60 / 500)
    assert list(table(at, "marker")["id"]) == [9, 11, 10, 13, 12]
