"""The Sandbox config list is built from a cached read once: reruns reuse it, a refresh builds it again."""

from __future__ import annotations

from tests.sandbox.sandbox_rows import DAY, T0
from tests.sandbox.test_sandbox_page import _clean_caches, open_page, seeded  # noqa: F401


def test_config_table_is_built_once_per_read(monkeypatch, sqlite_url):  # type: ignore[no-untyped-def]
    import ui.sections.sandbox.configs as sb

    built: list[int] = []
    original = sb.config_table

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sb, "config_table", counted)
    seeded(sqlite_url, name="First", at=T0 + DAY)
    seeded(sqlite_url, name="Second")
    at = open_page(monkeypatch, sqlite_url)
    names = list(
        next(d.value for d in at.dataframe if "ai_conversations" in d.value.columns)["name"]
    )
    assert names == ["First", "Second"] and len(built) == 1
    at.run()
    at.run()
    assert len(built) == 1
    at.button(key="sandbox_configs_refresh").click().run()
    assert len(built) == 2
    assert (
        list(next(d.value for d in at.dataframe if "ai_conversations" in d.value.columns)["name"])
        == names
    )
