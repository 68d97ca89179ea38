"""Tables reach the page as the frames themselves (the pre-built Arrow tables are gone): read times
kept in attrs, display timezones, microseconds and strange mixed columns all show."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from streamlit.testing.v1 import AppTest


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "at": pd.to_datetime(
                ["2026-11-25 10:00:00", "2026-11-25 11:30:00.123456"], utc=True, format="ISO8601"
            ),
            "message": ["<b>bold</b> **not markdown**", None],
            "events": [3, 0],
            "ratio": [0.25, float("nan")],
            "trend": [[1, 2, 3], [0, 0, 0]],
        }
    )
    df.attrs["as_of"] = datetime(2026, 11, 25, tzinfo=UTC).isoformat()  # as data.fetch sets it
    return df


def _shown() -> None:
    from zoneinfo import ZoneInfo

    import streamlit as st

    from tests.foundation.test_grid import _frame
    from ui.kit.widgets import to_tz

    st.dataframe(to_tz(_frame(), ZoneInfo("Europe/Berlin")), hide_index=True)


def test_a_fetched_frame_shows_in_the_display_zone_with_its_text_literal() -> None:
    at = AppTest.from_function(_shown).run()
    assert not at.exception
    shown = at.dataframe[0].value.reset_index(drop=True)
    assert list(shown.columns) == ["at", "message", "events", "ratio", "trend"]
    assert shown["message"].iloc[0] == "<b>bold</b> **not markdown**"
    assert str(shown["at"].dt.tz) == "Europe/Berlin" and shown["at"].iloc[1].microsecond == 123456
    assert shown["at"].iloc[0].hour == 11  # 10:00 UTC in Berlin (winter time)


def _mixed() -> None:
    import pandas as pd
    import streamlit as st

    st.dataframe(pd.DataFrame({"value": [1, "one", {"n": 1}, None]}), hide_index=True)


def test_a_column_of_mixed_types_still_shows() -> None:
    at = AppTest.from_function(_mixed).run()
    assert not at.exception
    assert list(at.dataframe[0].value["value"].astype(str))[:2] == ["1", "one"]
