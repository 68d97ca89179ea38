"""The history before the window decides New, Regressed, first seen and last resolution per exact
message, on every engine (messages longer than any index prefix, differing only in case or in their
trailing text, without a service, a capped history)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.queries import errors as q
from tests.monitor.conftest import NOW, add_errors, ago

SINCE, UNTIL = NOW.replace(tzinfo=UTC) - timedelta(hours=24), NOW.replace(tzinfo=UTC)
STEM = "Strategy-specific scan failed for THETA_HARVESTING: upstream returned " + "x" * 300
LONG_A, LONG_B = STEM + " (tail one)", STEM + " (tail two)"  # equal far beyond any index prefix


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


def view(engine: Engine, **filters: Any) -> q.ErrorView:
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
    return engine


def test_statuses_follow_each_exact_message(seeded: Engine) -> None:
    v = view(seeded)
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


def test_long_messages_sharing_a_prefix_keep_their_own_life(seeded: Engine) -> None:
    # Fingerprints cut messages short, so both long messages may land in one group: check each alone.
    for message, first in ((LONG_A, ago(hours=5)), (LONG_B, ago(days=26))):
        v = view(seeded, text=message[-10:])
        g = group(v, message)
        assert g["messages"] == (message,) and g["first_seen"].tz_localize(None) == first
        assert g["regressed"] == (message == LONG_B)


def test_a_capped_history_counts_only_its_newest_events(
    seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(q, "MAX_HISTORY_EVENTS", 3)
    capped = view(seeded)
    assert capped.history_from is not None
    # Only the newest 3 events before the window count: 'Disk full' lost its resolution 19 days ago.
    assert group(capped, "Disk full")["first_seen"].tz_localize(None) > ago(days=20)
