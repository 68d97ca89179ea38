"""The screener's 'time to expiry' column reads forward for live rows and backward for expired ones."""

import pandas as pd

from ui.sections.opportunities import expiry_label

NOW = pd.Timestamp("2026-11-25 09:00:00", tz="UTC")


def test_future_expiry_reads_in() -> None:
    assert expiry_label(NOW + pd.Timedelta(hours=16, minutes=18), NOW) == "in 16.3 h"


def test_past_expiry_reads_expired_ago() -> None:
    assert expiry_label(NOW - pd.Timedelta(minutes=5), NOW) == "expired 5 min ago"


def test_unknown_expiry_is_a_dash() -> None:
    assert expiry_label(pd.NaT, NOW) == "–"
