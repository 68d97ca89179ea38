"""The config editor never loses what a user typed, shows the config it holds in both tabs, says when a
config is valid, warns per unknown key, shows each error at its field, bounds what it keeps (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from db.own_models import ConfigHistory
from domain import config_schema as cs
from tests.sandbox.sandbox_rows import REAL_CONFIG
from tests.sandbox.test_sandbox_page import (  # noqa: F401 - _clean_caches is an autouse fixture
    _clean_caches,
    config_row,
    open_page,
    seeded,
    texts,
    widget,
)

NOTE = "Note (why this change)"
RAW = "config_data (JSON)"


def in_order(node: Any) -> Iterator[Any]:
    """The page's elements in the order they are drawn (blocks opened)."""
    for child in node.children.values():
        if getattr(child, "children", None) is not None and child.type not in (
            "text_input",
            "text_area",
        ):
            yield from in_order(child)
        else:
            yield child


def next_after(at: AppTest, kind: str, label: str) -> Any:
    """The element drawn right after the widget `label`."""
    items = list(in_order(at.main))
    i = next(
        i for i, e in enumerate(items) if e.type == kind and getattr(e, "label", None) == label
    )
    return items[i + 1]


def history_notes(url: str, cid: str) -> dict[int, str | None]:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            rows = s.execute(
                select(ConfigHistory.version, ConfigHistory.note).where(
                    ConfigHistory.config_id == cid
                )
            )
            return {int(v): n for v, n in rows}
    finally:
        eng.dispose()


def test_check_keeps_the_note_and_the_save_stores_it(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Max positions").set_value("5")
    widget(at, "text_input", NOTE).set_value("room for one more")
    widget(at, "button", "Check").click().run()
    assert widget(at, "text_input", NOTE).value == "room for one more"
    widget(at, "button", "Save new version").click().run()
    assert "Saved as version 2." in texts(at, "success")
    assert history_notes(sqlite_url, cid)[2] == "room for one more"


def test_a_refused_save_keeps_every_input(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Delta target (0–1)").set_value("3")
    widget(at, "text_input", "Name").set_value("Wider delta")
    widget(at, "text_input", NOTE).set_value("try a wide delta")
    widget(at, "button", "Save new version").click().run()
    assert "Not saved" in texts(at, "error") and config_row(sqlite_url, cid).version == 1
    assert widget(at, "text_input", NOTE).value == "try a wide delta"
    assert widget(at, "text_input", "Name").value == "Wider delta"
    assert widget(at, "text_input", "Delta target (0–1)").value == "3"
    widget(at, "text_input", "Delta target (0–1)").set_value("0.3")
    widget(at, "button", "Save new version").click().run()
    assert config_row(sqlite_url, cid).config_data["trading"]["delta_target"] == 0.3
    assert history_notes(sqlite_url, cid)[2] == "try a wide delta"


def test_raw_json_shows_what_the_fields_hold_without_check(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, sqlite_url, config="new")
    assert json.loads(widget(at, "text_area", RAW).value) == {}
    widget(at, "text_input", "Max positions").set_value("5").run()
    widget(at, "text_input", "Target DTE range (min, max days)").set_value("7, 21").run()
    assert json.loads(widget(at, "text_area", RAW).value) == {
        "trading": {"max_positions": 5, "target_dte_range": [7, 21]}
    }
    # ... and the other way: the raw JSON flows back into the fields, again without Check.
    widget(at, "text_area", RAW).set_value(
        '{"risk": {"profit_target": 0.4}, "trading": {"max_positions": 2}}'
    ).run()
    assert widget(at, "text_input", "Profit target (fraction of credit)").value == "0.4"
    assert widget(at, "text_input", "Max positions").value == "2"
    assert widget(at, "text_input", "Target DTE range (min, max days)").value == ""


def test_fields_wait_while_the_raw_json_does_not_parse(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_area", RAW).set_value('{"trading": ').run()
    assert widget(
        at, "text_input", "Max positions"
    ).disabled  # one or the other: no edit can be dropped
    assert widget(at, "text_area", RAW).value == '{"trading": '
    widget(at, "text_area", RAW).set_value("").run()  # emptied: the fields start a config again
    widget(at, "text_input", "Max positions").set_value("2").run()
    assert json.loads(widget(at, "text_area", RAW).value) == {"trading": {"max_positions": 2}}


def test_switching_views_keeps_the_draft(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Max positions").set_value("9")
    widget(at, "text_input", NOTE).set_value("nine")
    at.button_group[0].set_value("history").run()
    assert not [w for w in at.text_input if w.label == "Max positions"]
    at.button_group[0].set_value("edit").run()
    assert widget(at, "text_input", "Max positions").value == "9"
    assert widget(at, "text_input", NOTE).value == "nine"
    assert json.loads(widget(at, "text_area", RAW).value)["trading"]["max_positions"] == 9


def test_check_on_a_valid_config_says_so(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "button", "Check").click().run()
    # REAL_CONFIG: trading has 4 keys, risk 2, universe 1.
    assert "Valid: 7 keys checked" in texts(at, "success"), texts(at, "success")
    assert not at.error and config_row(sqlite_url, cid).version == 1
    widget(at, "text_input", "Delta target (0–1)").set_value(
        "2"
    ).run()  # the bad value: no longer valid
    assert "Valid" not in texts(at, "success") and "Not saved" not in texts(at, "error")
    assert "trading.delta_target: must be between 0 and 1" in texts(at, "code")


def test_unknown_keys_are_warned_one_by_one_and_kept(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    data = {
        **REAL_CONFIG,
        "trading": {**REAL_CONFIG["trading"], "foo": 1},
        "strategy": {"id": "THETA_HARVESTING"},
    }
    cid = seeded(sqlite_url, data=data)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    shown = [str(t.value) for t in at.text]
    assert sum("unknown key trading.foo" in t for t in shown) == 1, shown
    assert sum("unknown key strategy" in t for t in shown) == 1, shown
    assert not any(
        "trading.foo" in t and "unknown key strategy" in t for t in shown
    )  # one message per key
    widget(at, "button", "Check").click().run()
    assert "Valid: 9 keys checked" in texts(at, "success")  # 7 known, 2 unknown
    widget(at, "text_input", "Max positions").set_value("4")
    widget(at, "button", "Save new version").click().run()
    saved = config_row(sqlite_url, cid).config_data
    assert saved["trading"]["foo"] == 1 and saved["strategy"] == {"id": "THETA_HARVESTING"}


def test_each_error_is_shown_right_below_its_field(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    widget(at, "text_input", "Delta target (0–1)").set_value("3")
    widget(at, "text_input", "Name").set_value(" ")
    widget(at, "text_input", "Max positions").set_value("0")
    widget(at, "button", "Save new version").click().run()
    assert next_after(at, "text_input", "Name").value == "name: is required"
    assert (
        "trading.delta_target: must be between 0 and 1"
        in next_after(at, "text_input", "Delta target (0–1)").value
    )
    assert (
        "trading.max_positions: must be between 1 and 1000"
        in next_after(at, "text_input", "Max positions").value
    )
    assert (
        next_after(at, "text_input", "Wing widths (comma separated)").type != "code"
    )  # no error, nothing below
    summary = texts(at, "error")
    assert "Not saved: 3 problems" in summary and "Name" in summary and "Delta target" in summary
    # A JSON syntax error goes below the raw JSON.
    widget(at, "text_area", RAW).set_value("{oops")
    widget(at, "button", "Save new version").click().run()
    assert (
        "config_data: JSON syntax error at line 1, column 2"
        in next_after(at, "text_area", RAW).value
    )


def test_new_config_is_a_visible_primary_action(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url)
    button = widget(at, "button", "New config")
    assert button.proto.type == "primary"
    button.click().run()
    assert "New config" in [str(h.value) for h in at.subheader]
    assert widget(at, "text_input", "Name").value == "" and widget(at, "button", "Create config")
    at = open_page(monkeypatch, sqlite_url, user="analyst")  # viewers cannot create: no button
    assert not [b for b in at.button if b.label == "New config"]


def _sizes(value: Any) -> Iterator[int]:
    """Lengths of the texts in `value` (session state: plain values, widget values, their protobufs)."""
    if isinstance(value, str | bytes):
        yield len(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _sizes(k)
            yield from _sizes(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _sizes(v)
    elif hasattr(value, "ByteSize"):
        yield value.ByteSize()
    elif hasattr(value, "value"):
        yield from _sizes(value.value)


def _largest_kept(at: AppTest) -> int:
    """The longest text the session keeps: its own values and every widget's (raw or deserialised)."""
    inner = object.__getattribute__(
        at._session_state, "_state"
    )  # AppTest's SafeSessionState -> SessionState
    kept = [inner._old_state, inner._new_session_state, inner._new_widget_state.states]
    return max(_sizes(kept), default=0)


def test_an_oversized_paste_is_bounded_and_not_kept(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    cid = seeded(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, config=cid)
    assert widget(at, "text_area", RAW).proto.max_chars == cs.MAX_JSON_CHARS
    for label, limit in (
        ("Name", cs.NAME_MAX),
        ("Strategy id", cs.STRATEGY_MAX),
        ("User", cs.USER_MAX),
        (NOTE, cs.NOTE_MAX),
        ("Max positions", cs.FIELD_MAX_CHARS),
    ):
        assert widget(at, "text_input", label).proto.max_chars == limit, label
    paste = (
        '{"a": "' + "x" * (10 * 1024 * 1024) + '"}'
    )  # 10 MB: the browser stops at max_chars, a client may not
    widget(at, "text_area", RAW).set_value(paste)
    widget(at, "button", "Check").click().run()
    assert not at.exception
    assert _largest_kept(at) <= cs.MAX_JSON_CHARS + 1024  # a widget protobuf adds a few bytes
    widget(at, "button", "Check").click().run()  # later reruns do not carry it either
    assert _largest_kept(at) <= cs.MAX_JSON_CHARS + 1024  # a widget protobuf adds a few bytes
    assert config_row(sqlite_url, cid).version == 1


def test_a_conflict_keeps_every_input_and_shows_the_other_version(monkeypatch, db_url):  # type: ignore[no-untyped-def]
    cid = seeded(db_url)
    first = open_page(monkeypatch, db_url, config=cid)
    second = open_page(monkeypatch, db_url, user="admin", config=cid)
    widget(first, "text_input", "Max positions").set_value("4")
    widget(first, "button", "Save new version").click().run()
    raw = json.loads(widget(second, "text_area", RAW).value)
    raw["risk"]["profit_target"] = 0.4
    widget(second, "text_area", RAW).set_value(json.dumps(raw))
    widget(second, "text_input", NOTE).set_value("lower profit target")
    widget(second, "button", "Save new version").click().run()
    assert "Someone saved version 2 after you loaded version 1" in texts(second, "warning")
    assert widget(second, "text_input", NOTE).value == "lower profit target"
    assert json.loads(widget(second, "text_area", RAW).value) == raw
    assert widget(second, "text_input", "Profit target (fraction of credit)").value == "0.4"
    theirs = [j.value for j in second.json]  # the other version, whole
    assert any(json.loads(v)["trading"]["max_positions"] == 4 for v in theirs), theirs
    widget(second, "button", "Save my draft on top of version 2").click().run()
    row = config_row(db_url, cid)
    assert row.version == 3 and row.config_data["risk"]["profit_target"] == 0.4
    assert (
        row.config_data["trading"]["max_positions"] == 3
    )  # the draft as typed: the user saw version 2 first
    assert history_notes(db_url, cid)[3].startswith("lower profit target")
