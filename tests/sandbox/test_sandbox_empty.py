"""The Sandbox page without configs: the configs table is still drawn with its headers, under a message
that says how to create the first config (or that the filters hide them)."""

from __future__ import annotations

from tests.sandbox.test_sandbox_page import _clean_caches, open_page, seeded, texts, widget  # noqa: F401
from ui.sections.sandbox.configs import LIST_COLUMNS


def _config_table(at):  # type: ignore[no-untyped-def]
    found = [d.value for d in at.dataframe if list(d.value.columns) == LIST_COLUMNS]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_empty_database_shows_the_table_and_how_to_create_a_config(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, sqlite_url)
    assert not at.exception and not at.error
    assert len(_config_table(at)) == 0  # headers only
    assert "No configs yet. Create one" in texts(at, "info") and "New config" in texts(at, "info")
    assert not at.get("download_button")  # nothing to export
    widget(at, "selectbox", "Config").set_value("new").run()  # the way the message points to
    assert "New config" in [str(h.value) for h in at.subheader]


def test_empty_database_for_a_user_who_cannot_create(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    at = open_page(monkeypatch, sqlite_url, user="analyst")
    assert len(_config_table(at)) == 0
    assert "A strategy developer" in texts(at, "info") and "Create one" not in texts(at, "info")


def test_filters_that_hide_every_config_say_so(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    seeded(sqlite_url)  # inactive
    at = open_page(monkeypatch, sqlite_url, active="active")
    assert len(_config_table(at)) == 0
    assert "No configs match the filters" in texts(at, "info") and "No configs yet" not in texts(
        at, "info"
    )
    widget(at, "selectbox", "Active").set_value("all").run()
    assert len(_config_table(at)) == 1 and "No configs" not in texts(at, "info")
