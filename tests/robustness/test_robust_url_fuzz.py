"""URL query parameters are attacker-controlled: fuzz them on every page registered in app.py.

Random values for the parameters each page reads (found in its source) and random keys: no
exception, no error details, no URL text rendered as Markdown; a bad value of a validated
parameter (choice, integer, flag: sort columns and directions included) is rejected with a
message that names it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_
from robust_support import (
    PAGE_IDS,
    PAGES,
    PageSpec,
    all_texts,
    exceptions,
    leaks,
    markdown_texts,
    prepare_database,
)
from streamlit.testing.v1 import AppTest

EXAMPLES_PER_PAGE = 25
URL_MARKER = "MSYURL"

_hostile_values = st_.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "999999999999999999999",
        "1e309",
        "NaN",
        "true",
        "null",
        "[]",
        "{}",
        "../../etc/passwd",
        "' OR 1=1 --",
        "id; DROP TABLE scan_sessions",
        "%00",
        "\x00",
        "a" * 300,
        f"[x](javascript:alert('{URL_MARKER}'))",
        f"<script>{URL_MARKER}</script>",
        f"![i](http://127.0.0.1:9/{URL_MARKER})",
        "desc",
        "asc",
        "DESC;--",
        "created_at DESC",
        "custom",
        "1h,24h",
        "UTC",
        "Mars/Olympus",
        "2099-13-45",
        "1970-01-01",
        "9999-12-31",
        ",,,",
        "a,b,c",
        "🔥",
        "\u202e",
        "__proto__",
        "constructor",
    ]
)
_random_text = st_.text(st_.characters(blacklist_categories=("Cs",)), max_size=40)


def _value() -> st_.SearchStrategy[str]:
    return st_.one_of(_hostile_values, _random_text, st_.integers(-(10**12), 10**12).map(str))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'demo.db'}"
    prepare_database(url, demo=True)
    return url


def _run(url: str, page: PageSpec, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page.path)
    return at.run()


def _assert_clean(at: AppTest, page: PageSpec, params: dict[str, str]) -> None:
    assert not exceptions(at), f"{page.name} {params!r}: {exceptions(at)}"
    echoes = tuple(params) + tuple(params.values())
    assert not leaks(all_texts(at), ignore=echoes), (
        f"{page.name} {params!r}: {leaks(all_texts(at), ignore=echoes)}"
    )
    md = [s for _, s in markdown_texts(at) if URL_MARKER in s]
    assert not md, f"{page.name} {params!r}: URL text rendered as Markdown: {md}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_fuzzed_query_params(
    page: PageSpec, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from robust_support import url_params

    from db import data

    monkeypatch.setenv("DATABASE_URL", demo_url)
    known = sorted(url_params(page))
    keys = st_.one_of(
        st_.sampled_from(known),
        st_.sampled_from(["sort", "dir", "page", "id", "sel", "q", "tab"]),
        _random_text.filter(bool),
    )

    @settings(
        max_examples=EXAMPLES_PER_PAGE,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(params=st_.dictionaries(keys, _value(), min_size=1, max_size=5))
    def check(params: dict[str, str]) -> None:
        data.invalidate()
        _assert_clean(_run(demo_url, page, params), page, params)

    check()


def _validated(page: PageSpec) -> list[str]:
    from robust_support import url_params

    return [
        name for name, kind in url_params(page).items() if kind in ("choice", "integer", "flag")
    ]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_bad_values_of_validated_params_are_rejected_with_a_message(
    page: PageSpec, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each validated parameter (sort column and direction included) that the page reads on this
    view: a bad value shows a warning naming it and leaves the URL. Reads are recorded through
    ui.kit.urlstate, so parameters of views not shown by default are not expected to answer."""
    from ui.kit import urlstate

    monkeypatch.setenv("DATABASE_URL", demo_url)
    read: set[str] = set()
    original = urlstate._raw

    def recording(name: str) -> str | None:
        read.add(name)
        return original(name)

    monkeypatch.setattr(urlstate, "_raw", recording)
    checked = []
    for name in _validated(page):
        bogus = "zz_not_a_column;DROP"
        read.clear()
        at = _run(demo_url, page, {name: bogus})
        _assert_clean(at, page, {name: bogus})
        if name not in read:
            continue
        warnings = [str(w.value) for w in at.warning]
        assert any(f"`{name}`" in w for w in warnings), (
            f"{page.name}: ?{name}={bogus} accepted silently; warnings: {warnings}"
        )
        assert bogus not in str(at.query_params.get(name, "")), (
            f"{page.name}: the rejected value stays in the URL"
        )
        checked.append(name)
    assert "range" in checked and "tz" in checked, checked
    for sort_param in (
        "sort",
        "dir",
    ):  # a page with a sortable table reads these on its default view
        if sort_param in _validated(page):
            assert sort_param in checked, (
                f"{page.name}: ?{sort_param} is not validated on the default view"
            )
