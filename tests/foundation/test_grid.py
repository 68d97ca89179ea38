"""Tables reach the page as frames or as ready Arrow tables (perf/derived.py), alike: read times
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


# --- ready tables (perf/derived.py): what st.dataframe shows is the same as from the frame ---------


def _ready_and_plain() -> None:
    from zoneinfo import ZoneInfo

    import pandas as pd
    import streamlit as st

    from perf.derived import ready_table
    from tests.foundation.test_grid import _frame
    from ui.kit.widgets import to_tz

    df = to_tz(_frame(), ZoneInfo("Europe/Berlin"))
    st.dataframe(df, hide_index=True)
    st.dataframe(ready_table(df), hide_index=True)
    mixed = pd.DataFrame({"value": [1, "one", {"n": 1}, None]})
    st.dataframe(mixed, hide_index=True)
    st.dataframe(ready_table(mixed), hide_index=True)


def test_a_ready_table_shows_what_its_frame_shows() -> None:
    at = AppTest.from_function(_ready_and_plain).run()
    assert not at.exception
    plain, ready = (at.dataframe[i].value.reset_index(drop=True) for i in (0, 1))
    pd.testing.assert_frame_equal(plain, ready)
    assert ready["message"].iloc[0] == "<b>bold</b> **not markdown**"
    assert ready["at"].iloc[1].microsecond == 123456 and list(ready["trend"].iloc[0]) == [1, 2, 3]
    mixed_plain, mixed_ready = (at.dataframe[i].value["value"].astype(str) for i in (2, 3))
    assert list(mixed_ready) == list(mixed_plain) and list(mixed_ready)[:2] == ["1", "one"]


def test_a_frame_arrow_refuses_stays_a_frame() -> None:
    from perf.derived import ready_table

    mixed = pd.DataFrame({"value": [1, "one", {"n": 1}, None]})
    assert isinstance(ready_table(mixed), pd.DataFrame)
    assert ready_table(_frame()).num_rows == 2
