"""The Sandbox page through app.py with AppTest: editing, validation, conflicts, double click, roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.auth import local_identity
from db.commands import sandbox as cmd
from db.engine import make_engine
from db.models import SandboxHistoricalCache, SandboxStrategyConfig
from db.own_models import AuditLog
from db.settings import EXAMPLE_ROLE_GROUPS
from tests.sandbox.sandbox_rows import (
    DAY,
    REAL_CONFIG,
    T0,
    add_cache,
    add_chat,
    add_config,
    add_run,
)

APP = "app.py"
USERS = {
    "analyst": {"is_logged_in": True, "email": "ann@example.com", "groups": ["analysts"]},
    "developer": {
        "is_logged_in": True,
        "email": "dev@example.com",
        "groups": ["strategy-developers"],
    },
    "ops": {"is_logged_in": True, "email": "ops@example.com", "groups": ["ops"]},
    "admin": {"is_logged_in": True, "email": "root@example.com", "groups": ["admins", "analysts"]},
    "nobody": {"is_logged_in": True, "email": "x@example.com", "groups": ["marketing"]},
}


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no secrets.toml here: no [auth], default role groups
    yield


def open_page(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *,
    user: str = "developer",
    page: str = "pages/sandbox.py",
    **params: str,
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / APP), default_timeout=60)
    if user:
        at.user = USERS[user]  # type: ignore[assignment]
        at.secrets["roles"] = dict(EXAMPLE_ROLE_GROUPS)  # roles come only from [roles]
    at.run()
    at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def widget(at: AppTest, kind: str, label: str) -> Any:
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[0]


def texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def config_row(url: str, cid: str) -> SandboxStrategyConfig | None:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            return s.get(SandboxStrategyConfig, cid)
    finally:
        eng.dispose()


def count(url: str, model: Any) -> int:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        eng.dispose()


def seeded(url: str, **kw: Any) -> str:
    eng = make_engine(url)
    try:
        return add_config(eng, **kw)
    finally:
        eng.dispose()


def test_edit_a_field_and_save_makes_version_2(monkeypatch, db_url):  # type: ignore[no-untyped-def]
    cid = seeded(db_url)
    at = open_page(monkeypatch, db_url, config=cid)
    assert not at.exception
    widget(at, "text_input", "Max positions").set_value("5")
    widget(at, "text_input", "Note (why this change)").set_value("more room")
    widget(at, "button", "Save new version").click().run()
    assert not at.exception
    assert "Saved as version 2." in texts(at, "success")
    row = config_row(db_url, cid)
    assert row.version == 2 and row.config_data["trading"]["max_positions"] == 5
    assert row.config_data["universe"] == REAL_CONFIG["universe"]  # untouched keys kept
    assert count(db_url, AuditLog) == 1


def test_fields_and_json_stay_in_sync(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Delta target (0–1)").set_value("0.2")
    widget(at, "button", "Check").click().run()
    assert (
        json.loads(widget(at, "text_area", "config_data (JSON)").value)["trading"]["delta_target"]
        == 0.2
    )
    raw = json.loads(widget(at, "text_area", "config_data (JSON)").value)
    raw["universe"]["universe_name"] = "thetacrop"
    widget(at, "text_area", "config_data (JSON)").set_value(json.dumps(raw))
    widget(at, "button", "Check").click().run()
    assert widget(at, "text_input", "Universe name").value == "thetacrop"
    assert widget(at, "text_input", "Delta target (0–1)").value == "0.2"
    assert config_row(sqlite_url, cid).version == 1  # Check never writes


def test_invalid_json_is_refused_and_the_draft_kept(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    broken = '{"trading": {"delta_target": 0.3},\n "risk": }'
    widget(at, "text_area", "config_data (JSON)").set_value(broken)
    widget(at, "text_input", "Name").set_value("   ")
    widget(at, "button", "Save new version").click().run()
    shown = texts(at, "code")
    assert "JSON syntax error at line 2, column 10" in shown and "name: is required" in shown
    assert "Your draft is kept" in texts(at, "error")
    assert widget(at, "text_area", "config_data (JSON)").value == broken
    # Valid JSON, bad value: the message names the key; then a fix saves.
    widget(at, "text_area", "config_data (JSON)").set_value('{"trading": {"delta_target": 3}}')
    widget(at, "text_input", "Name").set_value("Fine name")
    widget(at, "button", "Save new version").click().run()
    assert "trading.delta_target: must be between 0 and 1" in texts(at, "code")
    assert config_row(sqlite_url, cid).version == 1
    widget(at, "text_input", "Delta target (0–1)").set_value("0.3")
    widget(at, "button", "Save new version").click().run()
    assert config_row(sqlite_url, cid).config_data == {"trading": {"delta_target": 0.3}}


def test_dotted_keys_fix_offered(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(
        sqlite_url,
        data={"trading": {"target_dte_range": [7, 21]}, "trading.target_dte_range": [7, 28]},
    )
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Save new version").click().run()
    assert '"trading.target_dte_range": is a dotted top-level key' in texts(at, "code")
    widget(at, "button", "Fix dotted keys").click().run()
    assert json.loads(widget(at, "text_area", "config_data (JSON)").value) == {
        "trading": {"target_dte_range": [7, 28]}
    }
    widget(at, "button", "Save new version").click().run()
    assert config_row(sqlite_url, cid).config_data == {"trading": {"target_dte_range": [7, 28]}}


def test_concurrent_sessions_conflict_then_save_on_top(monkeypatch, db_url):  # type: ignore[no-untyped-def]
    cid = seeded(db_url)
    first = open_page(monkeypatch, db_url, config=cid)
    second = open_page(monkeypatch, db_url, user="admin", config=cid)
    widget(first, "text_input", "Max positions").set_value("4")
    widget(first, "button", "Save new version").click().run()
    widget(second, "text_input", "Max positions").set_value("9")
    widget(second, "button", "Save new version").click().run()
    assert "Someone saved version 2 after you loaded version 1" in texts(second, "warning")
    assert widget(second, "text_input", "Max positions").value == "9"  # draft kept
    assert config_row(db_url, cid).config_data["trading"]["max_positions"] == 4
    shown = [df.value for df in second.dataframe]
    assert any("dev@example.com" in df.to_string() for df in shown)  # who
    assert any("trading.max_positions" in df.to_string() for df in shown)  # what
    widget(second, "button", "Save my draft on top of version 2").click().run()
    row = config_row(db_url, cid)
    assert row.version == 3 and row.config_data["trading"]["max_positions"] == 9


def test_double_click_on_save_makes_one_version(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Max positions").set_value("6")
    widget(at, "button", "Save new version").click().run()
    widget(at, "button", "Save new version").click().run()  # the second click: same content
    assert config_row(sqlite_url, cid).version == 2
    assert "no new version was made" in texts(at, "success")
    assert count(sqlite_url, AuditLog) == 1


def test_create_and_clone(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Clone").click().run()
    assert widget(at, "text_input", "Name").value == "Copy of ThetaCrop Weekly Test"
    widget(at, "button", "Create config").click().run()
    assert "Config created (version 1, inactive)." in texts(at, "success")
    assert count(sqlite_url, SandboxStrategyConfig) == 2


def test_activate_with_confirmation(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    old = seeded(sqlite_url, active=True)
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Activate").click().run()
    assert "Any other active config of the same strategy is deactivated" in texts(at, "warning")
    assert not config_row(sqlite_url, cid).is_active  # nothing before the confirmation
    widget(at, "button", "Yes, activate").click().run()
    assert "1 other config(s) of the strategy deactivated" in texts(at, "success")
    assert config_row(sqlite_url, cid).is_active and not config_row(sqlite_url, old).is_active
    assert config_row(sqlite_url, cid).deployed_at is not None


def test_delete_blocked_by_runs_offers_deactivation(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url, active=True)
    eng = make_engine(sqlite_url)
    add_run(eng, cid, at=T0)
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Delete").click().run()
    assert "cannot be deleted" in texts(at, "warning")
    widget(at, "button", "Yes, deactivate").click().run()
    assert config_row(sqlite_url, cid) is not None and not config_row(sqlite_url, cid).is_active


def test_delete_with_confirmation(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Delete").click().run()
    widget(at, "button", "Yes, delete").click().run()
    assert config_row(sqlite_url, cid) is None and "Config deleted." in texts(at, "success")


def test_views_render_runs_chats_history_and_outcomes(monkeypatch, db_url):  # type: ignore[no-untyped-def]
    cid = seeded(db_url)
    eng = make_engine(db_url)
    add_run(eng, cid, at=T0)
    add_run(eng, cid, at=T0 + DAY, legacy=True)
    add_chat(
        eng, cid, at=T0, user_message="# Big **bold** <b>x</b>", reply="![img](http://evil/x.png)"
    )
    eng.dispose()
    at = open_page(monkeypatch, db_url, config=cid, view="ai")
    assert not at.exception
    plain = [t.value for t in at.text]
    assert "# Big **bold** <b>x</b>" in plain and "![img](http://evil/x.png)" in plain
    assert "evil" not in texts(at, "markdown") and "bold" not in texts(at, "markdown")
    assert any("$0.0003" in t for t in plain)
    for view in ("runs", "history", "outcomes", "ai_totals", "usage", "cache"):
        at = open_page(monkeypatch, db_url, config=cid, view=view)
        assert not at.exception, view
        assert not at.error, (view, texts(at, "error"))
    at = open_page(monkeypatch, db_url, config=cid, view="runs")
    assert len(at.get("plotly_chart")) == 1


def test_unknown_view_is_rejected_with_a_message(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, sqlite_url, view="<script>")
    assert not at.exception and "Ignored the URL parameter `view`" in texts(at, "warning")


@pytest.mark.parametrize(
    ("role", "save", "activate", "purge"),
    [
        ("analyst", False, False, False),
        ("developer", True, True, False),
        ("ops", False, False, True),
        ("admin", True, True, True),
    ],
)
def test_each_role_sees_what_it_may_do(monkeypatch, sqlite_url, role, save, activate, purge):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    eng = make_engine(sqlite_url)
    add_cache(eng, key="AAPL_market_data_20250731", expires=T0)
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, user=role, config=cid)
    assert not at.exception
    assert widget(at, "button", "Save new version").disabled is not save
    assert widget(at, "button", "Activate").disabled is not activate
    assert ("Your roles allow viewing only" in texts(at, "info")) is not save
    sidebar = "\n".join(str(t.value) for t in at.sidebar.text) + "\n".join(
        str(c.value) for c in at.sidebar.caption
    )
    assert USERS[role]["email"] in sidebar
    at = open_page(monkeypatch, sqlite_url, user=role, view="cache")
    assert widget(at, "button", "Purge 1 expired entry").disabled is not purge


def test_ops_purges_expired_cache_with_confirmation(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    eng = make_engine(sqlite_url)
    add_cache(eng, key="AAPL_market_data_20250731", expires=T0)
    add_cache(eng, key="AAPL_market_data_29990101", expires=T0.replace(year=2999))
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, user="ops", view="cache")
    widget(at, "button", "Purge 1 expired entry").click().run()
    assert count(sqlite_url, SandboxHistoricalCache) == 2
    widget(at, "button", "Yes, purge").click().run()
    assert count(sqlite_url, SandboxHistoricalCache) == 1
    assert "Purged 1 expired cache entries." in texts(at, "success")
    assert count(sqlite_url, AuditLog) == 1


def test_user_without_a_role_sees_nothing(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, user="nobody")
    assert "no role in this console" in texts(at, "warning")
    assert not at.dataframe and not [w for w in at.text_input if w.label == "Name"]


def _versions(url: str, cid: str) -> None:
    eng = make_engine(url)
    for v, dte in ((1, [7, 28]), (2, [5, 10])):
        data = {**REAL_CONFIG, "trading": {**REAL_CONFIG["trading"], "target_dte_range": dte}}
        cmd.save_config(
            eng,
            identity=local_identity(),
            config_id=cid,
            loaded_version=v,
            name="ThetaCrop Weekly Test",
            strategy_id="ThetaCropWeekly",
            user_id="default_user",
            config_data=data,
            note=f"step {v}",
        )
    eng.dispose()


def test_history_compare_and_rollback(monkeypatch, db_url):  # type: ignore[no-untyped-def]
    cid = seeded(db_url)
    _versions(db_url, cid)
    at = open_page(monkeypatch, db_url, config=cid, view="history")
    assert not at.exception
    hist = at.dataframe[1].value  # [0] is the config list
    assert hist["version"].tolist() == [3, 2, 1] and hist["note"].tolist()[:2] == [
        "step 2",
        "step 1",
    ]
    widget(at, "selectbox", "Version a").set_value(1).run()
    changed = at.dataframe[2].value
    assert changed["key"].tolist() == ["trading.target_dte_range"]
    assert changed[["a", "b"]].values.tolist() == [["[7, 21]", "[5, 10]"]]
    widget(at, "toggle", "Changed keys only").set_value(False).run()
    assert len(at.dataframe[2].value) > 5
    widget(at, "selectbox", "Restore the content of version").set_value(1).run()
    widget(at, "button", "Roll back to version 1 (makes version 4)").click().run()
    assert "version 4 has the content of version 1" in texts(at, "success")
    row = config_row(db_url, cid)
    assert row.version == 4 and row.config_data == REAL_CONFIG


def test_outcomes_say_when_the_error_table_is_missing(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    eng = make_engine(sqlite_url)
    add_run(eng, cid, at=T0)
    with eng.begin() as conn:
        conn.execute(sql("DROP TABLE critical_error_logs"))
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, config=cid, view="outcomes")
    assert "critical_error_logs" in texts(at, "warning") and not at.exception
    outcome = at.dataframe[1].value
    assert outcome["test_runs"].tolist() == [1] and outcome["errors_logged"].isna().all()
    at = open_page(monkeypatch, sqlite_url, config=cid, view="runs")
    assert "critical_error_logs" not in texts(at, "warning")  # only that panel says so


def test_compare_two_runs(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    eng = make_engine(sqlite_url)
    add_run(eng, cid, at=T0, ev=10.0, params={"symbols": None, "max_opportunities": 5})
    add_run(eng, cid, at=T0 + DAY, ev=20.0, params={"symbols": ["SPY"], "max_opportunities": 5})
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, config=cid, view="runs")
    frames = [d.value for d in at.dataframe]
    params = next(f for f in frames if list(f.columns) == ["key", "a", "b", "changed"])
    assert params["key"].tolist() == ["symbols"]
    side = next(f for f in frames if "metric" in f.columns).set_index("metric")
    assert (
        side.loc["avg_expected_value", "a"] == 10.0 and side.loc["avg_expected_value", "b"] == 20.0
    )


@pytest.mark.parametrize(
    ("address", "mode_text", "can_save"),
    [
        ("localhost", "Local mode", True),
        ("0.0.0.0", "Read-only", False),
    ],
)
def test_without_login_local_or_read_only(monkeypatch, sqlite_url, address, mode_text, can_save):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    original = st.get_option
    monkeypatch.setattr(
        st, "get_option", lambda name: address if name == "server.address" else original(name)
    )
    at = open_page(monkeypatch, sqlite_url, user="", config=cid)
    assert mode_text in "\n".join(str(c.value) for c in at.sidebar.caption)
    assert widget(at, "button", "Save new version").disabled is not can_save


def test_stored_text_that_is_not_json_is_shown_to_be_fixed(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    eng = make_engine(sqlite_url)
    with eng.begin() as conn:
        conn.execute(
            sql("UPDATE sandbox_strategy_configs SET config_data = :t WHERE id = :i"),
            {"t": "{'trading': broken", "i": cid},
        )
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, config=cid)
    assert not at.exception
    assert widget(at, "text_area", "config_data (JSON)").value == "{'trading': broken"
    widget(at, "button", "Save new version").click().run()
    assert "JSON syntax error at line 1, column 2" in texts(at, "code")
    assert config_row(sqlite_url, cid).version == 1


def test_cache_pages_by_key_with_the_position_in_the_url(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    from db.queries.common import PAGE_SIZE

    eng = make_engine(sqlite_url)
    for i in range(PAGE_SIZE + 3):
        add_cache(eng, key=f"K{i:04d}", expires=T0, symbol="SPY" if i % 2 else "QQQ")
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, user="analyst", view="cache")
    first = next(d.value for d in at.dataframe if "cache_key" in d.value.columns)
    assert len(first) == PAGE_SIZE and first["expired"].all()
    widget(at, "button", "Next page").click().run()
    second = next(d.value for d in at.dataframe if "cache_key" in d.value.columns)
    assert second["cache_key"].tolist() == ["K0100", "K0101", "K0102"]
    assert at.query_params["after"] in ("K0099", ["K0099"])
    widget(at, "selectbox", "Symbol").set_value(
        "SPY"
    ).run()  # another filter: back to the first page
    spy = next(d.value for d in at.dataframe if "cache_key" in d.value.columns)
    assert spy["cache_key"].iloc[0] == "K0001" and set(spy["symbol"]) == {"SPY"}


def test_table_row_selects_a_config_once(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    first = seeded(sqlite_url, name="First", at=T0 + DAY)
    second = seeded(sqlite_url, name="Second")
    at = open_page(monkeypatch, sqlite_url)
    # Click-selection is not simulated by AppTest: inject it (STREAMLIT_NOTES.md).
    at.session_state["sandbox_config_table"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert at.query_params["config"] in (second, [second])
    assert any(str(t.value).startswith("Second ·") for t in at.text)
    widget(at, "selectbox", "Config").set_value(
        first
    ).run()  # the row stays ticked; the picker wins
    assert at.query_params["config"] in (first, [first])
    assert any(str(t.value).startswith("First ·") for t in at.text)
