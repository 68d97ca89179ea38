"""Property: for any data (ties, NULLs, fallbacks to `data`), walking the keyset pages of any sort
column in either direction returns exactly the rows of one unpaged query, in the same order (SQLite),
with the plan for small and for big filtered sets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import OpportunitySnapshot
from db.queries import opportunities as q
from tests.scanner.conftest import NOW, snapshot

EV = st.one_of(
    st.none(), st.sampled_from([-5.0, 0.0, 1.5, 1.5, 100.0]), st.floats(-1e6, 1e6, allow_nan=False)
)
ROW = st.tuples(
    EV,
    st.sampled_from(["AAA", "aaa", "BBB", "Ω"]),
    st.one_of(st.none(), st.integers(0, 60)),
    st.booleans(),
    st.integers(0, 5000),
)


@pytest.fixture(scope="module")
def prop_engine(tmp_path_factory):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('keyset') / 'k.db'}"
    eng = make_engine(url, read_timeout=False)
    OpportunitySnapshot.metadata.create_all(eng)
    yield eng
    eng.dispose()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, min_size=0, max_size=14),
    sort=st.sampled_from(sorted(q.SORTS)),
    desc=st.booleans(),
    size=st.integers(1, 4),
    dense=st.booleans(),
)
def test_pages_equal_one_query(prop_engine, monkeypatch, rows, sort, desc, size, dense) -> None:  # type: ignore[no-untyped-def]
    # dense: the plan for big filtered sets (SQLite told to walk the sort column's index)
    monkeypatch.setattr(q, "COUNT_CAP", 0 if dense else 10_000)
    with Session(prop_engine) as s:
        s.execute(delete(OpportunitySnapshot))
        for i, (ev, sym, dte, in_data, age) in enumerate(rows, start=1):
            snap = snapshot(
                i,
                sym,
                "x",
                ev=None if in_data else ev,
                dte=dte,
                created_s=age,
                data={"expected_value": ev} if in_data and ev is not None else {},
            )
            snap.expires_at = snap.created_at + timedelta(days=1)
            s.add(snap)
        s.commit()
        kw = q.Filters(now=NOW - timedelta(days=1)).kwargs()
        monkeypatch.setattr(q, "PAGE_SIZE", 100)
        whole = [int(i) for i in q.screener_page(s, sort=sort, descending=desc, **kw)["id"]]
        monkeypatch.setattr(q, "PAGE_SIZE", size)
        walked: list[int] = []
        after = None
        for _ in range(len(rows) + 2):
            df = q.screener_page(s, sort=sort, descending=desc, after=after, **kw)
            page = df.head(size)
            walked += [int(i) for i in page["id"]]
            if len(df) <= size:
                break
            after = q.make_cursor(page["sort_value"].iloc[-1], page["id"].iloc[-1])
    assert walked == whole and len(whole) == len(rows)
