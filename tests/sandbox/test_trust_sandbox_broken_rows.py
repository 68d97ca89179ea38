"""Configs the backend stored broken (issue 12): config_data nested 10,000 deep (SQLite text), the JSON string
"not-a-dict", version 'v2-not-an-int'. Every command works or refuses clearly; every view renders.

Real rows: a copy of ../shared/fixtures/origin-head.db (written by the backend's own code), migrated."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from db.auth import local_identity
from db.commands import sandbox as cmd
from db.engine import make_engine
from db.errors import ConflictError, ValidationFailed
from db.models import SandboxStrategyConfig
from db.own_models import AuditLog
from db.queries import sandbox as q
from db.schema.migrate import upgrade
from db.types import InvalidJSON
from tests.conftest import FIXTURES
from tests.sandbox.sandbox_rows import REAL_CONFIG, add_run
from tests.sandbox.test_sandbox_page import _clean_caches, open_page, texts, widget  # noqa: F401

BROKEN = "9159c577-d7f8-4e2c-b4b3-fdf367ebafde"  # version 'v2-not-an-int', config_data "not-a-dict"
DEEP_LIST, DEEP_OBJECT = "deep-list", "deep-object"
LEVELS = 10_000
DEEP_TEXT = {
    DEEP_LIST: "[" * LEVELS + "]" * LEVELS,
    DEEP_OBJECT: '{"trading": ' + '{"a": ' * LEVELS + "1" + "}" * LEVELS + "}",
}
ME = local_identity()


@pytest.fixture
def head_url(tmp_path: Path) -> str:
    """A migrated copy of origin-head.db with two configs nested 10,000 deep (as SQLite text)."""
    src = FIXTURES / "origin-head.db"
    if not src.exists():
        pytest.skip("origin-head.db not found")
    dst = tmp_path / "head.db"
    shutil.copy(src, dst)
    dst.chmod(0o644)
    url = f"sqlite:///{dst}"
    eng = make_engine(url, read_timeout=False)
    upgrade(eng)
    with eng.begin() as conn:
        for cid, text in DEEP_TEXT.items():
            conn.execute(
                sql(
                    "INSERT INTO sandbox_strategy_configs (id, user_id, strategy_id, name, config_data, "
                    "version, is_active, created_at, updated_at) VALUES (:i, 'default_user', :s, :n, :t, 1, "
                    "0, '2026-12-07 19:00:00', '2026-12-07 19:00:00')"
                ),
                {"i": cid, "s": f"DEEP_{cid}", "n": f"Deep {cid}", "t": text},
            )
    eng.dispose()
    return url


@pytest.fixture
def head(head_url: str) -> Engine:
    eng = make_engine(head_url, read_timeout=False)
    yield eng
    eng.dispose()


def stored(eng: Engine, cid: str) -> tuple[object, object, object] | None:
    with eng.connect() as conn:
        row = conn.execute(
            sql(
                "SELECT version, config_data, is_active FROM sandbox_strategy_configs WHERE id = :i"
            ),
            {"i": cid},
        ).first()
    return None if row is None else tuple(row)


def test_the_fixture_holds_the_broken_row(head):  # type: ignore[no-untyped-def]
    assert stored(head, BROKEN)[:2] == ("v2-not-an-int", '"not-a-dict"')


@pytest.mark.parametrize("cid", [DEEP_LIST, DEEP_OBJECT, BROKEN])
def test_activate_deactivate_and_delete_work(head, cid):  # type: ignore[no-untyped-def]
    before = stored(head, cid)
    cmd.set_active(head, identity=ME, config_id=cid, active=True)
    assert stored(head, cid)[2] == 1
    cmd.set_active(head, identity=ME, config_id=cid, active=False)
    assert stored(head, cid)[:2] == before[:2]  # the stored text is kept as it was, byte for byte
    cmd.delete_config(head, identity=ME, config_id=cid)
    assert stored(head, cid) is None
    with Session(head) as s:
        actions = s.execute(
            select(AuditLog.action).where(AuditLog.target_id == cid).order_by(AuditLog.at)
        ).scalars()
        assert list(actions) == ["config.activate", "config.deactivate", "config.delete"]


@pytest.mark.parametrize("cid", [DEEP_LIST, DEEP_OBJECT])
def test_a_deep_config_can_be_saved_over_and_its_text_is_kept_in_the_history(head, cid):  # type: ignore[no-untyped-def]
    res = cmd.save_config(
        head,
        identity=ME,
        config_id=cid,
        loaded_version=1,
        name="Fixed",
        strategy_id="DEEP",
        user_id="default_user",
        config_data=REAL_CONFIG,
        note="replace the deep value",
    )
    assert res.version == 2
    with Session(head) as s:
        hist = q.config_history(s, config_id=cid)
        assert hist["version"].tolist() == [2, 1]
        old = hist["config_data"].iloc[1]
        assert (
            isinstance(old, InvalidJSON) and str(old) == DEEP_TEXT[cid]
        )  # the backend's text, not re-quoted
        assert s.get(SandboxStrategyConfig, cid).config_data == REAL_CONFIG
    with pytest.raises(
        ValidationFailed, match="version 1: cannot be restored"
    ):  # no save would accept it
        cmd.rollback_config(head, identity=ME, config_id=cid, loaded_version=2, to_version=1)
    assert stored(head, cid)[0] == 2


def test_a_version_that_is_no_number_refuses_a_save_clearly(head):  # type: ignore[no-untyped-def]
    with pytest.raises(ConflictError, match="stored version is not a whole number") as refused:
        cmd.save_config(
            head,
            identity=ME,
            config_id=BROKEN,
            loaded_version=1,
            name="x",
            strategy_id="x",
            user_id="default_user",
            config_data=REAL_CONFIG,
        )
    assert isinstance(refused.value, cmd.UnreadableVersion)
    with pytest.raises(cmd.UnreadableVersion):
        cmd.rollback_config(head, identity=ME, config_id=BROKEN, loaded_version=1, to_version=1)
    assert stored(head, BROKEN)[:2] == ("v2-not-an-int", '"not-a-dict"')


@pytest.mark.parametrize("cid", [DEEP_LIST, DEEP_OBJECT, BROKEN])
def test_queries_read_the_broken_rows(head, cid):  # type: ignore[no-untyped-def]
    add_run(head, cid, at=datetime(2026, 12, 7, 19, 30))
    with Session(head) as s:
        detail = q.config_detail(s, config_id=cid)
        hist = q.config_history(s, config_id=cid)
        out = q.outcomes(s, config_id=cid)
    assert len(detail) == 1 and len(hist) == 1 and out["test_runs"].sum() == 1
    if cid == BROKEN:
        assert (
            detail["version"].isna().all() and hist["version"].isna().all()
        )  # unknown, never a made-up 1
    else:
        assert isinstance(detail["config_data"].iloc[0], InvalidJSON)


VIEWS = ("edit", "history", "runs", "outcomes", "ai")


@pytest.mark.parametrize("cid", [DEEP_LIST, DEEP_OBJECT, BROKEN])
def test_every_view_of_a_broken_config_renders(monkeypatch, head_url, cid):  # type: ignore[no-untyped-def]
    for view in VIEWS:
        at = open_page(monkeypatch, head_url, config=cid, view=view)
        assert not at.exception, (view, [e.value for e in at.exception])
        assert not at.error, (view, texts(at, "error"))


def test_the_broken_version_is_shown_as_unknown_and_save_is_off(monkeypatch, head_url):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, head_url, config=BROKEN)
    assert any("version ? (not a whole number)" in str(t.value) for t in at.text), [
        t.value for t in at.text
    ]
    assert "stored version is not a whole number" in texts(at, "warning")
    assert widget(at, "button", "Save new version").disabled
    assert widget(at, "text_area", "config_data (JSON)").value == '"not-a-dict"'
    widget(at, "button", "Clone").click().run()  # the way out: a copy, fixed, saved as a new config
    widget(at, "text_area", "config_data (JSON)").set_value('{"risk": {"profit_target": 0.5}}')
    widget(at, "button", "Create config").click().run()
    assert "Config created (version 1, inactive)." in texts(at, "success")


@pytest.mark.parametrize("cid", [DEEP_LIST, DEEP_OBJECT])
def test_a_deep_config_is_deleted_from_the_page(monkeypatch, head, head_url, cid):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, head_url, config=cid)
    raw = widget(at, "text_area", "config_data (JSON)").value
    assert raw == DEEP_TEXT[cid] or raw == ""  # shown to be fixed, or (too long to edit) not loaded
    widget(at, "button", "Activate").click().run()
    widget(at, "button", "Yes, activate").click().run()
    assert stored(head, cid)[2] == 1
    widget(at, "button", "Deactivate").click().run()
    widget(at, "button", "Yes, deactivate").click().run()
    widget(at, "button", "Delete").click().run()
    widget(at, "button", "Yes, delete").click().run()
    assert not at.exception and "Config deleted." in texts(at, "success")
    assert stored(head, cid) is None
