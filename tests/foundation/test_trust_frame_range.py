"""The frame's time range from the URL: "future" (rows dated after now) and custom dates that are
out of range or malformed. Every page renders; a bad value is named, never an exception."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from tests.foundation.conftest import ROOT
from tests.foundation.test_pages_smoke import PAGES

TIMEOUT_S = 60


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if importlib.util.find_spec("demo.generate") is None:
        pytest.skip("demo/generate.py does not exist yet")
    from db.schema import migrate
    from demo import generate as demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    eng = make_engine(url, read_timeout=False)
    demo.generate(eng, rows=1_000, seed=5)
    migrate.upgrade(eng)
    eng.dispose()
    return url


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> None:
    return None


def _open(monkeypatch: pytest.MonkeyPatch, url: str, page: str, **params: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _warnings(at: AppTest) -> str:
    return "\n".join(str(w.value) for w in [*at.warning, *at.sidebar.warning])


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_the_future_window(
    monkeypatch: pytest.MonkeyPatch, demo_url: str, page: str
) -> None:
    at = _open(monkeypatch, demo_url, page, range="future")
    assert not at.exception, [e.value for e in at.exception]
    assert "Ignored the URL parameter" not in _warnings(at)
    assert _param(at, "range") == "future"
    picked = [s.value for s in at.sidebar.segmented_control if s.label == "Time range"]
    assert picked == ["future"]


def _frame_script() -> None:
    import streamlit as st

    from ui.kit.frame import frame

    f = frame()
    st.text(f"{f.range_key}|{f.since.isoformat()}|{f.until.isoformat()}|{f.label}")


def _frame_of(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, **params: str
) -> tuple[AppTest, list[str]]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    at = AppTest.from_function(_frame_script, default_timeout=TIMEOUT_S)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, str(at.main.text[-1].value).split("|")


def test_future_window_starts_where_the_past_windows_end(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from ui.kit.frame import rounded_now

    before = rounded_now()
    _, (key, since, until, label) = _frame_of(monkeypatch, sqlite_url, range="future")
    assert key == "future" and label == "dated in the future"
    assert before <= datetime.fromisoformat(since) <= rounded_now()
    assert datetime.fromisoformat(until) == datetime(2200, 1, 1, tzinfo=UTC)
    _, (_, _, until_24h, _) = _frame_of(monkeypatch, sqlite_url)
    assert until_24h <= since or datetime.fromisoformat(until_24h) - datetime.fromisoformat(
        since
    ) < timedelta(seconds=30)


@pytest.mark.parametrize(
    ("frm", "to", "name"),
    [
        ("2026-12-01", "2126-01-01", "to"),
        ("0001-01-01", None, "from"),
        ("2026-13-45", None, "from"),
        ("9999-12-31", None, "from"),
        ("1969-12-31", "2026-01-01", "from"),
        (None, "yesterday", "to"),
        ("2026-01-01", "2026-01-01T00:00", "to"),
    ],
)
def test_a_bad_custom_date_is_named_and_clamped(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, frm: str | None, to: str | None, name: str
) -> None:
    params = {"range": "custom", **({"from": frm} if frm else {}), **({"to": to} if to else {})}
    at, (key, since, until, _) = _frame_of(monkeypatch, sqlite_url, **params)
    assert key == "custom"
    assert f"Ignored the URL parameter `{name}`" in _warnings(at)
    today = datetime.now(UTC).date()
    s, u = datetime.fromisoformat(since), datetime.fromisoformat(until)
    assert date(1970, 1, 1) <= s.date() <= today and s < u <= datetime.now(UTC) + timedelta(
        seconds=30
    )
    kept = _param(at, name)
    assert kept and date(1970, 1, 1) <= date.fromisoformat(kept) <= today


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_survives_a_custom_end_after_today(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, page: str
) -> None:
    at = _open(
        monkeypatch, sqlite_url, page, range="custom", **{"from": "2026-12-01", "to": "2126-01-01"}
    )
    assert not at.exception, [e.value for e in at.exception]
    assert "Ignored the URL parameter `to`" in _warnings(at)


_DAYS = st_.one_of(
    st_.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st_.sampled_from(
        [
            "",
            "0001-01-01",
            "9999-12-31",
            "2026-02-30",
            "2026-1-1",
            "20261201",
            "yesterday",
            "NaN",
            "1969-12-31",
            "1970-01-01",
            "2200-01-01",
            "2262-04-12",
            "-2026-01-01",
            "2026-12-01T00:00",
            "2026-12-01 ",
            "\x00",
            "a" * 300,
        ]
    ),
    st_.text(max_size=12),
)
_PARAMS = st_.fixed_dictionaries(
    {},
    optional={
        "range": st_.one_of(
            st_.sampled_from(["1h", "24h", "7d", "30d", "custom", "future", "FUTURE", "", "365d"]),
            st_.text(max_size=8),
        ),
        "tz": st_.one_of(
            st_.sampled_from(
                [
                    "UTC",
                    "Asia/Tokyo",
                    "Pacific/Kiritimati",
                    "Etc/GMT+12",
                    "Mars/Olympus",
                    "",
                    "utc",
                    "../../etc/passwd",
                ]
            ),
            st_.text(max_size=8),
        ),
        "from": _DAYS,
        "to": _DAYS,
    },
)


def test_fuzzed_frame_params_never_raise_and_keep_a_sane_window(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(params=_PARAMS)
    def check(params: dict[str, str]) -> None:
        at = AppTest.from_function(_frame_script, default_timeout=TIMEOUT_S)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, (params, [e.value for e in at.exception])
        key, since, until, _ = str(at.main.text[-1].value).split("|")
        s, u = datetime.fromisoformat(since), datetime.fromisoformat(until)
        assert datetime(1969, 12, 31, tzinfo=UTC) <= s < u <= datetime(2200, 1, 1, tzinfo=UTC), (
            params
        )
        warned = _warnings(at)
        if key == "custom":
            for name in ("from", "to"):
                raw = params.get(name)
                if raw is None:
                    continue
                try:
                    ok = (
                        len(raw) == 10
                        and date(1970, 1, 1) <= date.fromisoformat(raw) <= datetime.now(UTC).date()
                    )
                except ValueError:
                    ok = False
                assert ok or f"Ignored the URL parameter `{name}`" in warned, (params, warned)

    check()


@pytest.mark.parametrize(
    ("param", "first", "then", "shown"),
    [
        ("range", "24h", "future", "future"),
        ("range", "future", "7d", "7d"),
        ("tz", "UTC", "Asia/Tokyo", "Asia/Tokyo"),
    ],
)
def test_a_url_changed_in_the_same_session_wins_over_the_widgets(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, param: str, first: str, then: str, shown: str
) -> None:
    """A "Show them" link to the same page, or back/forward, changes the URL of a running session:
    the frame follows it (the widgets' own state used to win, and the URL was rewritten back)."""
    at, _ = _frame_of(monkeypatch, sqlite_url, **{param: first})
    at.query_params[param] = then
    at.run()
    assert not at.exception
    key = str(at.main.text[-1].value).split("|")[0]
    if param == "range":
        assert key == shown
        assert [s.value for s in at.sidebar.segmented_control if s.label == "Time range"] == [shown]
    else:
        assert [s.value for s in at.sidebar.selectbox if s.label == "Timezone"] == [shown]
    assert _param(at, param) in (shown, None if shown in ("24h", "UTC") else shown)
    assert not _warnings(at)


def test_custom_dates_changed_in_the_url_win_over_the_date_widget(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at, (_, since, _, _) = _frame_of(
        monkeypatch, sqlite_url, range="custom", **{"from": "2026-11-01", "to": "2026-11-05"}
    )
    assert since.startswith("2026-11-01")
    at.query_params["from"], at.query_params["to"] = "2026-10-01", "2026-10-03"
    at.run()
    _, since, until, _ = str(at.main.text[-1].value).split("|")
    assert since.startswith("2026-10-01") and until.startswith("2026-10-04")


def test_the_sidebar_controls_still_change_the_window_and_the_url(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at, _ = _frame_of(monkeypatch, sqlite_url, range="future", tz="Asia/Tokyo")
    next(s for s in at.sidebar.segmented_control if s.label == "Time range").set_value("7d").run()
    assert str(at.main.text[-1].value).split("|")[0] == "7d" and _param(at, "range") == "7d"
    next(s for s in at.sidebar.selectbox if s.label == "Timezone").set_value("UTC").run()
    assert _param(at, "tz") is None and _param(at, "range") == "7d"
    next(s for s in at.sidebar.segmented_control if s.label == "Time range").set_value(
        "custom"
    ).run()
    next(d for d in at.sidebar.date_input if d.label == "Dates").set_value(
        (date(2026, 11, 2), date(2026, 11, 3))
    ).run()
    _, since, until, _ = str(at.main.text[-1].value).split("|")
    assert since.startswith("2026-11-02") and until.startswith("2026-11-04")
    assert (_param(at, "from"), _param(at, "to")) == ("2026-11-02", "2026-11-03")
    next(s for s in at.sidebar.segmented_control if s.label == "Time range").set_value(
        "future"
    ).run()
    assert str(at.main.text[-1].value).split("|")[0] == "future" and _param(at, "from") is None
    assert not at.exception and not _warnings(at)
