"""The history before the window, read per message through the message indexes, gives exactly the
groups, counts and badges of the whole-history read, on every engine (messages longer than any index
prefix, differing only in case or in their trailing text, without a service, a capped history)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from db.queries import errors as q
from tests.monitor.conftest import NOW, add_errors, ago

SINCE, UNTIL = NOW.replace(tzinfo=UTC) - timedelta(hours=24), NOW.replace(tzinfo=UTC)
STEM = "Strategy-specific scan failed for THETA_HARVESTING: upstream returned " + "x" * 300
LONG_A, LONG_B = STEM + " (tail one)", STEM + " (tail two)"  # equal far beyond any index prefix

# The recommended message indexes in each engine's form (what db/schema/indexes.py is asked to create).
INDEX_DDL = {
    "sqlite": [
        "CREATE INDEX ix_console_view_errors_message ON critical_error_logs "
        "(error_type, service, message, created_at, severity)",
        "CREATE INDEX ix_console_view_errors_message_resolved ON critical_error_logs "
        "(error_type, service, message, resolved_at, created_at)",
    ],
    "postgresql": [
        "CREATE INDEX ix_console_view_errors_message ON critical_error_logs "
        "(error_type, service, md5(message), created_at) INCLUDE (severity)",
        "CREATE INDEX ix_console_view_errors_message_resolved ON critical_error_logs "
        "(error_type, service, md5(message), resolved_at, created_at)",
    ],
    "mysql": [
        "CREATE INDEX ix_console_view_errors_message ON critical_error_logs "
        "(error_type, service, message(200), created_at)",
        "CREATE INDEX ix_console_view_errors_message_resolved ON critical_error_logs "
        "(error_type, service, message(200), resolved_at, created_at)",
    ],
}


def add_indexes(engine: Engine) -> None:
    name = engine.dialect.name
    with engine.begin() as conn:
        for ddl in INDEX_DDL["mysql" if name in ("mysql", "mariadb") else name]:
            conn.execute(text(ddl))


def seed(engine: Engine) -> None:
    r = {"resolution_notes": "fixed"}
    add_errors(
        engine,
        [
            # In the window and never before: New. Its case variant is old and was resolved an hour ago.
            {"message": "Price feed down", "created_at": ago(hours=2)},
            {
                "message": "PRICE FEED DOWN",
                "created_at": ago(days=25),
                "resolved_at": ago(hours=1),
                **r,
            },
            # Seen for weeks, resolved, back in the window: Regressed; baseline and prior counts per severity.
            {"message": "Disk full", "created_at": ago(hours=3), "severity": "LOW"},
            {"message": "Disk full", "created_at": ago(hours=30), "severity": "HIGH"},
            {
                "message": "Disk full",
                "created_at": ago(days=3),
                "severity": "LOW",
                "resolved_at": ago(days=2),
                **r,
            },
            {"message": "Disk full", "created_at": ago(days=20), "resolved_at": ago(days=19), **r},
            # Differs from 'Disk full' only by trailing text: its own life (resolved after its last event).
            {
                "message": "Disk full on /var",
                "created_at": ago(hours=4),
                "resolved_at": ago(hours=1),
                **r,
            },
            {"message": "Disk full on /var", "created_at": ago(days=12)},
            # Long messages equal far beyond any index prefix: A is New and not regressed, B old and resolved.
            {"message": LONG_A, "created_at": ago(hours=5)},
            {"message": LONG_B, "created_at": ago(days=26), "resolved_at": ago(hours=8), **r},
            {"message": LONG_B, "created_at": ago(hours=6)},
            # No service; only events before the history start (35 days) besides the window.
            {
                "message": "Universe file failed to load",
                "service": None,
                "created_at": ago(hours=1),
                "severity": "MEDIUM",
            },
            {"message": "Universe file failed to load", "service": None, "created_at": ago(days=6)},
            {
                "message": "Universe file failed to load",
                "service": None,
                "created_at": ago(days=35),
                "resolved_at": ago(days=34),
                **r,
            },
            # Same message under another type: a group of its own.
            {"message": "Disk full", "error_type": "other", "created_at": ago(hours=7)},
            {"message": "Disk full", "error_type": "other", "created_at": ago(days=2)},
        ],
    )


@pytest.fixture(autouse=True)
def probe_any_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe however short the history (the page reads a short one whole: cheaper), on every engine."""
    monkeypatch.setattr(q, "PROBE_ROWS_PER_KEY", 0)
    monkeypatch.setattr(q, "PROBE_DIALECTS", ("sqlite", "postgresql", "mysql", "mariadb"))


def view(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, *, probe: bool, **filters: Any
) -> q.ErrorView:
    with monkeypatch.context() as m:
        if not probe:
            m.setattr(q, "has_message_indexes", lambda session: False)
        with Session(engine) as s:
            return q.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600, **filters)


def group(v: q.ErrorView, message: str, error_type: str = "t") -> pd.Series:
    g = v.groups
    hit = g[
        [
            message in ms and t == error_type
            for ms, t in zip(g["messages"], g["error_type"], strict=True)
        ]
    ]
    assert len(hit) == 1, message
    return hit.iloc[0]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    add_indexes(engine)
    return engine


def test_the_message_indexes_are_found_on_every_engine(engine: Engine) -> None:
    with Session(engine) as s:
        assert not q.has_message_indexes(s)
    add_indexes(engine)
    with Session(engine) as s:
        assert q.has_message_indexes(s)


@pytest.mark.parametrize(
    "filters", [{}, {"severities": ("LOW",)}, {"services": (q.NO_SERVICE,)}, {"text": "disk"}]
)
def test_probes_give_the_whole_history_reads_groups(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch, filters: dict[str, Any]
) -> None:
    probed = view(seeded, monkeypatch, probe=True, **filters)
    whole = view(seeded, monkeypatch, probe=False, **filters)
    assert not probed.groups.empty
    pdt.assert_frame_equal(probed.groups, whole.groups)
    pdt.assert_frame_equal(probed.facets, whole.facets)


def test_statuses_follow_each_exact_message(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = view(seeded, monkeypatch, probe=True)
    price = group(v, "Price feed down")  # its upper-case twin (older, resolved) is another message
    assert price["new"] and not price["regressed"]
    disk = group(v, "Disk full")
    assert not disk["new"] and disk["regressed"]
    assert (disk["prior_count"], disk["last_resolved_at"].tz_localize(None)) == (1, ago(days=2))
    on_var = group(v, "Disk full on /var")
    assert not on_var["new"] and not on_var["regressed"]
    long_a, long_b = group(v, LONG_A), group(v, LONG_B)
    if long_a["fingerprint"] != long_b["fingerprint"]:
        assert long_a["new"] and not long_a["regressed"]
    assert long_b["first_seen"].tz_localize(None) == ago(days=26)
    universe = group(
        v, "Universe file failed to load"
    )  # the event 35 days ago is before the history
    assert universe["service"] is None and universe["first_seen"].tz_localize(None) == ago(days=6)
    assert not universe["regressed"]
    other = group(v, "Disk full", error_type="other")
    assert other["first_seen"].tz_localize(None) == ago(days=2)


def test_long_messages_sharing_a_prefix_keep_their_own_life(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fingerprints cut messages short, so both long messages may land in one group: check each alone.
    for message, first in ((LONG_A, ago(hours=5)), (LONG_B, ago(days=26))):
        v = view(seeded, monkeypatch, probe=True, text=message[-10:])
        g = group(v, message)
        assert g["messages"] == (message,) and g["first_seen"].tz_localize(None) == first
        assert g["regressed"] == (message == LONG_B)


def test_a_capped_history_is_capped_the_same_way(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(q, "MAX_HISTORY_EVENTS", 3)
    probed = view(seeded, monkeypatch, probe=True)
    whole = view(seeded, monkeypatch, probe=False)
    assert probed.history_from is not None
    pdt.assert_frame_equal(probed.groups, whole.groups)
    # Only the newest 3 events before the window count: 'Disk full' lost its resolution 19 days ago.
    assert group(probed, "Disk full")["first_seen"].tz_localize(None) > ago(days=20)


def test_without_the_indexes_the_probes_are_still_exact(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(engine)
    monkeypatch.setattr(q, "has_message_indexes", lambda session: True)
    with Session(engine) as s:
        probed = q.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600)
    pdt.assert_frame_equal(probed.groups, view(engine, monkeypatch, probe=False).groups)


@pytest.mark.parametrize(
    ("limit", "rows_per_key", "probed"), [(400, 0, True), (2, 0, False), (400, 10, False)]
)
def test_many_messages_or_a_short_history_are_read_whole(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch, limit: int, rows_per_key: int, probed: bool
) -> None:
    monkeypatch.setattr(q, "PROBE_MAX", limit)
    monkeypatch.setattr(
        q, "PROBE_ROWS_PER_KEY", rows_per_key
    )  # 7 messages x 10 > the 8 events before
    calls: list[int] = []
    real = q._probe_rows
    monkeypatch.setattr(q, "_probe_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    v = view(seeded, monkeypatch, probe=True)
    assert bool(calls) == probed and group(v, "Disk full")["regressed"]


def test_by_default_only_sqlite_probes(seeded: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(q, "PROBE_DIALECTS", ("sqlite",))
    calls: list[int] = []
    real = q._probe_rows
    monkeypatch.setattr(q, "_probe_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    v = view(seeded, monkeypatch, probe=True)
    assert bool(calls) == (seeded.dialect.name == "sqlite") and group(v, "Price feed down")["new"]
