"""Write flows in Chromium, on a server of their own (demo data plus one known config): resolving
errors (validation, success, a second browser resolving the same error), and editing a config
with a conflict between two browser contexts (draft kept, then saved on top)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    click_grid_row,
    error_elements,
    grids,
    open_page,
    prepare_database,
    query_of,
    screenshot,
    wait_for_rerun,
    wait_for_run,
)
from sqlalchemy import select

from db.auth import local_identity
from db.commands.sandbox import create_config
from db.engine import make_engine
from db.models import CriticalErrorLog, SandboxStrategyConfig
from db.own_models import AuditLog
from harness.server import Server, running_server

CONFIG = {
    "trading": {
        "target_dte_range": [7, 21],
        "delta_target": 0.15,
        "max_positions": 3,
        "wing_widths": [5, 10, 15],
    },
    "risk": {"profit_target": 0.5, "loss_limit": 2.0},
    "universe": {"primary_symbols": ["AAPL", "MSFT", "GOOGL"]},
}


class App:
    """The write server and its database."""

    def __init__(self, server: Server, url: str, config_id: str):
        self.server, self.url, self.config_id = server, url, config_id

    def query(self, stmt: Any) -> list[Any]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(stmt).all())
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def app(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    path = tmp_path_factory.mktemp("flows") / "flows.db"
    url = f"sqlite:///{path}"
    prepare_database(url, demo=True)
    engine = make_engine(url, read_timeout=False)
    config_id = create_config(
        engine,
        identity=local_identity(),
        name="Browser flow config",
        strategy_id="ThetaCropWeekly",
        user_id="default_user",
        config_data=CONFIG,
    )
    engine.dispose()
    with running_server(url, path.parent / "streamlit.log") as srv:
        yield App(srv, url, config_id)


def _context_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    return context, pg


def _alerts(page: Any) -> str:
    return " | ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


def _alert_with(page: Any, words: str, timeout_ms: int = 30_000) -> str:
    """Wait for an alert containing `words` (a submit reruns the script, then shows the outcome)."""
    try:
        page.locator('[data-testid="stAlert"]', has_text=words).first.wait_for(timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - the assertion below names what was shown instead
        pass
    wait_for_run(page)
    return _alerts(page)


def _submit(page: Any, label_start: str) -> None:
    page.get_by_role("button", name=label_start).first.click()
    wait_for_rerun(page)


def _note(page: Any, label: str, text: str) -> None:
    box = page.locator('[data-testid="stTextArea"], [data-testid="stTextInput"]').filter(
        has_text=label
    )
    field = box.locator("textarea, input").first
    field.fill(text)


def _open_group_with_first_occurrence_selected(page: Any, base: str) -> str:
    open_page(page, f"{base}/errors?range=30d")
    if not grids(page).count():
        screenshot(page, "flow-errors-no-table")
    click_grid_row(page, grids(page).first, 0)
    assert query_of(page).get("group"), "selecting a group did not put it in the URL"
    occurrences = grids(page).nth(1)
    click_grid_row(page, occurrences, 0)
    assert page.get_by_role("button", name="Resolve selected (1)").count(), (
        "the occurrence was not selected"
    )
    return query_of(page)["group"]


def test_resolve_flow(app: App, browser: Any) -> None:
    context, page = _context_page(browser)
    try:
        _open_group_with_first_occurrence_selected(page, app.server.base_url)
        _submit(page, "Resolve selected (1)")  # no note yet
        assert "A note is required" in _alert_with(page, "A note is required"), _alerts(page)
        _note(page, "Note (required)", "restarted the market data feed (browser test)")
        _submit(page, "Resolve selected (1)")
        assert "Resolved 1 error(s)" in _alert_with(page, "Resolved 1 error(s)"), _alerts(page)
        assert not [e for e in error_elements(page) if "note is required" not in e]
        screenshot(page, "flow-errors-resolved")
    finally:
        context.close()
    resolved = app.query(
        select(CriticalErrorLog.id).where(
            CriticalErrorLog.resolution_notes == "restarted the market data feed (browser test)"
        )
    )
    assert len(resolved) == 1
    audit = app.query(
        select(AuditLog.actor, AuditLog.action).where(AuditLog.target_id == resolved[0].id)
    )
    assert [(a.actor, a.action) for a in audit] == [("local", "resolve_error")]


def test_resolve_race_between_two_browsers(app: App, browser: Any) -> None:
    ctx_a, a = _context_page(browser)
    ctx_b, b = _context_page(browser)
    try:
        group = _open_group_with_first_occurrence_selected(a, app.server.base_url)
        group_b = _open_group_with_first_occurrence_selected(b, app.server.base_url)
        assert group == group_b
        _note(a, "Note (required)", "fixed by A")
        _submit(a, "Resolve selected (1)")
        assert "Resolved 1 error(s)" in _alert_with(a, "Resolved 1 error(s)"), _alerts(a)
        _note(b, "Note (required)", "fixed by B")
        _submit(b, "Resolve selected (1)")
        assert "already resolved by someone else" in _alert_with(
            b, "already resolved by someone else"
        ), _alerts(b)
        screenshot(b, "flow-errors-race-second-browser")
        assert not error_elements(b)
    finally:
        ctx_a.close()
        ctx_b.close()
    assert (
        len(
            app.query(
                select(CriticalErrorLog.id).where(CriticalErrorLog.resolution_notes == "fixed by A")
            )
        )
        == 1
    )
    assert not app.query(
        select(CriticalErrorLog.id).where(CriticalErrorLog.resolution_notes == "fixed by B")
    )


def _set_name(page: Any, name: str) -> None:
    field = (
        page.locator('[data-testid="stTextInput"]').filter(has_text="Name").locator("input").first
    )
    field.fill(name)


def _config_row(app: App) -> tuple[int, str]:
    row = app.query(
        select(SandboxStrategyConfig.version, SandboxStrategyConfig.name).where(
            SandboxStrategyConfig.id == app.config_id
        )
    )[0]
    return int(row.version), str(row.name)


def test_config_stays_open_after_someone_else_saves(app: App, browser: Any) -> None:
    """Regression: the picker once lost the open config when another session saved a new version."""
    ctx_a, a = _context_page(browser)
    ctx_b, b = _context_page(browser)
    try:
        for pg in (a, b):
            open_page(pg, f"{app.server.base_url}/sandbox?config={app.config_id}")
        version = _config_row(app)[0]
        _set_name(a, f"Saved by A at v{version}")
        _submit(a, "Save new version")
        assert f"Saved as version {version + 1}" in _alert_with(
            a, f"Saved as version {version + 1}"
        ), _alerts(a)
        for key in ("7d", "24h"):  # B keeps working: any two reruns
            b.locator(
                '[data-testid="stSidebar"] [data-testid="stButtonGroup"] button', has_text=key
            ).first.click()
            wait_for_rerun(b)
            assert "does not exist" not in _alerts(b), _alerts(b)
            assert query_of(b).get("config") == app.config_id, b.url
    finally:
        ctx_a.close()
        ctx_b.close()


def test_config_edit_with_conflict_between_two_browsers(app: App, browser: Any) -> None:
    ctx_a, a = _context_page(browser)
    ctx_b, b = _context_page(browser)
    try:
        for pg in (a, b):
            open_page(pg, f"{app.server.base_url}/sandbox?config={app.config_id}")
            assert pg.get_by_role("button", name="Save new version").count(), _alerts(pg)
        start_version = _config_row(app)[0]

        # Validation: a JSON syntax error is reported and nothing is written.
        a.get_by_role("tab", name="Raw JSON").click()
        a.locator('[data-testid="stTextArea"]').filter(has_text="config_data").locator(
            "textarea"
        ).fill("{not json")
        _submit(a, "Save new version")
        assert (
            "Not saved" in _alert_with(a, "Not saved")
            and "JSON syntax error" in a.locator('[data-testid="stMain"]').inner_text()
        )
        assert _config_row(app)[0] == start_version
        open_page(a, f"{app.server.base_url}/sandbox?config={app.config_id}")
        if a.get_by_role("button", name="Reload version").count():
            a.get_by_role("button", name="Reload version").first.click()
            wait_for_rerun(a)

        _set_name(a, "Edited in browser A")
        _submit(a, "Save new version")
        assert f"Saved as version {start_version + 1}" in _alert_with(
            a, f"Saved as version {start_version + 1}"
        ), _alerts(a)
        assert _config_row(app) == (start_version + 1, "Edited in browser A")

        _set_name(b, "Edited in browser B")
        _submit(b, "Save new version")
        assert "Nothing was saved; your draft is kept" in _alert_with(
            b, "Nothing was saved; your draft is kept"
        ), _alerts(b)
        assert _config_row(app) == (start_version + 1, "Edited in browser A")
        screenshot(b, "flow-sandbox-conflict")
        name_b = (
            b.locator('[data-testid="stTextInput"]')
            .filter(has_text="Name")
            .locator("input")
            .first.input_value()
        )
        assert name_b == "Edited in browser B", "the draft was lost"

        b.get_by_role("button", name=f"Save my draft on top of version {start_version + 1}").click()
        wait_for_rerun(b)
        assert f"Saved as version {start_version + 2}" in _alert_with(
            b, f"Saved as version {start_version + 2}"
        ), _alerts(b)
        assert _config_row(app) == (start_version + 2, "Edited in browser B")
        assert not error_elements(a) and not error_elements(b)
    finally:
        ctx_a.close()
        ctx_b.close()
    saves = app.query(
        select(AuditLog.after).where(
            AuditLog.target_id == app.config_id, AuditLog.action == "config.save"
        )
    )
    versions = sorted(int(a.after["version"]) for a in saves)
    assert versions[-2:] == [start_version + 1, start_version + 2], (
        versions
    )  # one audit row per save, none for B's refused one
