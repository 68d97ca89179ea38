"""The Audit log page through app.py with AppTest: entries of real writes, filters, paging, detail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from db.commands import audit as audit_cmd
from db.commands import sandbox as cmd
from db.engine import make_engine, write_session
from db.queries.common import PAGE_SIZE, read_time_cursor
from tests.sandbox.sandbox_rows import REAL_CONFIG, add_config
from tests.sandbox.test_sandbox_page import open_page, texts, widget


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    yield


def _writes(url: str, dev, admin) -> str:  # type: ignore[no-untyped-def]
    eng = make_engine(url)
    try:
        cid = add_config(eng)
        cmd.save_config(
            eng,
            identity=dev,
            config_id=cid,
            loaded_version=1,
            name="Renamed",
            strategy_id="S",
            user_id="u",
            config_data={**REAL_CONFIG, "risk": {"profit_target": 0.4}},
            note="<b>why</b>",
        )
        cmd.set_active(eng, identity=admin, config_id=cid, active=True)
    finally:
        eng.dispose()
    return cid


def test_audit_page_lists_filters_and_details(monkeypatch, db_url, dev, admin):  # type: ignore[no-untyped-def]
    cid = _writes(db_url, dev, admin)
    at = open_page(monkeypatch, db_url, user="analyst", page="pages/audit.py")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table["action"].tolist() == ["config.activate", "config.save"]
    assert table["actor"].tolist() == ["local", "dev@example.com"]
    assert set(table["target_id"]) == {cid}
    at = open_page(monkeypatch, db_url, user="analyst", page="pages/audit.py", act="config.save")
    assert at.dataframe[0].value["action"].tolist() == ["config.save"]
    plain = [t.value for t in at.text]
    assert "note: <b>why</b>" in plain  # notes are plain text
    assert any(j.value for j in at.json)  # before and after as JSON
    changed = at.dataframe[1].value
    assert {"name", "version", "config_data.risk.profit_target"} <= set(changed["key"])
    at = open_page(monkeypatch, db_url, user="analyst", page="pages/audit.py", act="nope")
    assert "Ignored 1 unknown value(s) in the URL parameter `act`" in texts(at, "warning")


def test_audit_page_pages_older_and_newer(monkeypatch, sqlite_url, dev):  # type: ignore[no-untyped-def]
    eng = make_engine(sqlite_url)
    with write_session(eng) as s:
        for i in range(PAGE_SIZE + 5):
            audit_cmd.record(
                s,
                identity=dev,
                action="config.save",
                target_type="sandbox_config",
                target_id=f"c{i}",
            )
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, user="analyst", page="pages/audit.py")
    first = at.dataframe[0].value
    assert len(first) == PAGE_SIZE
    widget(at, "button", "Older").click().run()
    second = at.dataframe[0].value
    assert len(second) == 5 and not set(second["target_id"]) & set(first["target_id"])
    position = at.query_params["before"]
    position = position[0] if isinstance(position, list) else position
    read_time_cursor(position)  # the one page-position format of every list (raises if not)
    shared = open_page(
        monkeypatch, sqlite_url, user="analyst", page="pages/audit.py", before=position
    )  # the position travels in the URL
    assert shared.dataframe[0].value["target_id"].tolist() == second["target_id"].tolist()
    bad = open_page(
        monkeypatch, sqlite_url, user="analyst", page="pages/audit.py", before="yesterday|x"
    )
    assert (
        "Ignored the URL parameter `before`" in texts(bad, "warning")
        and len(bad.dataframe[0].value) == PAGE_SIZE
    )
    widget(at, "button", "Newer").click().run()
    assert at.dataframe[0].value["target_id"].tolist() == first["target_id"].tolist()


def test_changing_a_filter_goes_back_to_the_newest_page(monkeypatch, sqlite_url, dev, ops):  # type: ignore[no-untyped-def]
    eng = make_engine(sqlite_url)
    with write_session(eng) as s:
        for i in range(PAGE_SIZE + 5):
            audit_cmd.record(
                s,
                identity=dev if i % 2 else ops,
                action="config.save",
                target_type="sandbox_config",
                target_id=f"c{i}",
            )
    eng.dispose()
    at = open_page(monkeypatch, sqlite_url, user="analyst", page="pages/audit.py")
    widget(at, "button", "Older").click().run()
    assert len(at.dataframe[0].value) == 5
    widget(at, "multiselect", "Who").set_value(["ops@example.com"]).run()
    shown = at.dataframe[0].value
    assert len(shown) == (PAGE_SIZE + 5) // 2 + 1 and set(shown["actor"]) == {"ops@example.com"}
    assert "before" not in at.query_params
