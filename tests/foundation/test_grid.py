"""Tables sent as ready Arrow tables (ui.kit.widgets.grid) show what the frame itself would show, and
strange values Arrow refuses still reach the page through st.dataframe's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "at": pd.to_datetime(
                ["2026-11-25 10:00:00", "2026-11-25 11:30:00.123456"], utc=True, format="ISO8601"
            ).tz_convert("Europe/Berlin"),
            "message": ["<b>bold</b> **not markdown**", None],
            "events": [3, 0],
            "ratio": [0.25, float("nan")],
            "trend": [[1, 2, 3], [0, 0, 0]],
        }
    )
    df.attrs["as_of"] = datetime(
        2026, 11, 25, tzinfo=UTC
    )  # read times travel in attrs; Arrow must not see them
    return df


def _both_ways() -> None:
    import streamlit as st

    from tests.foundation.test_grid import _frame
    from ui.kit.widgets import grid

    direct = _frame()
    direct.attrs = {}
    st.dataframe(direct, hide_index=True)
    st.dataframe(grid(_frame()), hide_index=True)


def test_a_grid_shows_the_same_table_as_the_frame() -> None:
    from ui.kit.widgets import grid

    assert isinstance(grid(_frame()), pa.Table)
    at = AppTest.from_function(_both_ways).run()
    assert not at.exception
    direct, ready = (d.value.reset_index(drop=True) for d in at.dataframe)
    pd.testing.assert_frame_equal(direct, ready)
    assert ready["message"].iloc[0] == "<b>bold</b> **not markdown**"
    assert str(ready["at"].dt.tz) == "Europe/Berlin" and ready["at"].iloc[1].microsecond == 123456


def _mixed() -> None:
    import pandas as pd
    import streamlit as st

    from ui.kit.widgets import grid

    st.dataframe(grid(pd.DataFrame({"value": [1, "one", {"n": 1}, None]})), hide_index=True)


def test_a_column_arrow_refuses_stays_a_frame_and_still_shows() -> None:
    import pandas as pd

    from ui.kit.widgets import grid

    out = grid(pd.DataFrame({"value": [1, "one", {"n": 1}, None]}))
    assert isinstance(out, pd.DataFrame)
    at = AppTest.from_function(_mixed).run()
    assert not at.exception
    assert list(at.dataframe[0].value["value"].astype(str))[:2] == ["1", "one"]
