"""The custom window's label names the days it shows (its end is exclusive), in the chosen zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from db.auth import local_identity
from ui.kit.frame import Frame

NY = ZoneInfo("America/New_York")


def _frame(since: datetime, until: datetime) -> Frame:
    return Frame(
        since=since,
        until=until,
        range_key="custom",
        tz=NY,
        tz_name="America/New_York",
        identity=local_identity(),
    )


def test_one_day_reads_as_that_day() -> None:
    # 2025-08-01 00:00 to 2025-08-02 00:00 in New York (EDT, UTC-4)
    f = _frame(datetime(2025, 8, 1, 4, tzinfo=UTC), datetime(2025, 8, 2, 4, tzinfo=UTC))
    assert f.label == "2025-08-01"


def test_several_days_end_on_the_last_day_shown() -> None:
    f = _frame(datetime(2025, 8, 1, 4, tzinfo=UTC), datetime(2025, 8, 8, 4, tzinfo=UTC))
    assert f.label == "2025-08-01 – 2025-08-07"


def test_a_window_cut_at_now_ends_today() -> None:
    f = _frame(datetime(2025, 8, 1, 4, tzinfo=UTC), datetime(2025, 8, 3, 15, 30, tzinfo=UTC))
    assert f.label == "2025-08-01 – 2025-08-03"
