"""A range slider's untouched end stays open when the browser sends it rounded to the slider's step.

The browser's slider holds its values on the step grid (0.01): a data bound such as 0.1 * 3
(0.30000000000000004) comes back as 0.3 once the other end is dragged. Found in Chromium on the
messy data set: dragging Premium's lower end closed its upper end at 0.85 (the bound was
0.8500000000000001), so the row at the bound and every unlimited one dropped out."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from db.engine import make_engine
from tests.scanner.conftest import snapshot
from tests.scanner.test_pages import WINDOW, open_page, table
from tests.scanner.test_trust_opps_page import reload, slider
from ui.sections import opportunities as uo

TOP = 0.1 * 3  # 0.30000000000000004: not on the 0.01 grid
BOTTOM = -0.1 * 3


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def _seed(url: str) -> str:
    eng = make_engine(url, read_timeout=False)
    with Session(eng) as s:
        s.add_all(
            [
                snapshot(1, "AAA", "X", ev=1, premium=-2.0),
                snapshot(2, "BBB", "X", ev=2, premium=0.25),
                snapshot(3, "CCC", "X", ev=3, premium=TOP),
                snapshot(4, "DDD", "X", ev=4, premium=BOTTOM),
            ]
        )
        s.commit()
    eng.dispose()
    return url


def test_dragging_one_end_keeps_the_other_open_when_the_browser_rounds_it(
    monkeypatch, sqlite_url
) -> None:
    url = _seed(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1")
    prem = slider(at, "prem")
    assert tuple(prem.value) == (-2.0, TOP)
    # what Chromium sends after the lower end is dragged to -1: the untouched upper end as 0.3
    prem.set_value((-1.0, 0.3)).run()
    assert not at.exception, [e.value for e in at.exception]
    truth = [2, 3, 4]  # premium >= -1 by hand: 0.25, 0.30000000000000004, -0.30000000000000004
    assert sorted(table(at, "marker")["id"]) == truth
    assert "3 matching snapshots" in "\n".join(c.value for c in at.caption)
    funnel = next(c.value for c in at.caption if c.value.startswith("Filter funnel"))
    assert "premium ≥ -1 −1" in funnel, funnel
    again = reload(monkeypatch, url, at)
    assert sorted(table(again, "marker")["id"]) == truth
    # the upper end dragged to the same place; the lower end sent rounded from the bound
    slider(again, "prem").set_value((-2.0, 0.25)).run()
    assert sorted(table(again, "marker")["id"]) == [1, 2, 4]


def test_an_end_within_half_a_step_of_its_bound_is_open() -> None:
    spec = uo.range_slider("premium", BOTTOM, TOP, None)
    assert uo.range_filter(spec, (-0.3, 0.3)) is None
    assert uo.range_filter(spec, (-0.3, 0.2)) == (-math.inf, 0.2)
    assert uo.range_filter(spec, (-0.29, 0.3)) == (-0.29, math.inf)
    assert uo.range_filter(spec, (-0.29, 0.29)) == (-0.29, 0.29)
