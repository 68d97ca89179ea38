"""Shared widgets a user sees on every page: the "dated in the future" notice, long text and deep
or huge JSON (cut, with their size and a download of the whole, never sent whole on a rerun)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT_S = 30
BIG = 5 * 1024 * 1024  # a 5 MB error message, as the backend once wrote


def _sent_bytes(at: AppTest) -> int:
    """Bytes of every element the run sent (its protobuf size)."""
    total, todo = 0, [at._tree]
    while todo:
        node = todo.pop()
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ByteSize"):
            total += proto.ByteSize()
        todo.extend(getattr(node, "children", {}).values())
    return total


def _notice_script() -> None:
    import streamlit as st

    from ui.kit.frame import future_notice

    count, noun = int(st.query_params.get("n", "0")), st.query_params.get("noun", "error")
    future_notice(count, noun=noun, page="pages/errors.py")
    st.text("end")


def _notice(n: int, noun: str = "error", **params: str) -> AppTest:
    at = AppTest.from_function(_notice_script, default_timeout=TIMEOUT_S)
    at.query_params.update({"n": str(n), "noun": noun, **params})
    return at.run()


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "error", "1 error dated in the future is not in this window."),
        (2, "error", "2 errors dated in the future are not in this window."),
        (1_234, "opportunity", "1,234 opportunities dated in the future are not in this window."),
        (3, "scan", "3 scans dated in the future are not in this window."),
    ],
)
def test_future_notice_counts_with_the_right_plural(n: int, noun: str, expected: str) -> None:
    at = _notice(n, noun)
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [expected]


@pytest.mark.parametrize("n", [0, -1])
def test_future_notice_says_nothing_without_future_rows(n: int) -> None:
    at = _notice(n)
    assert not at.exception and not at.warning
    assert [t.value for t in at.text] == ["end"]


def test_future_notice_is_silent_when_the_window_is_already_the_future() -> None:
    at = AppTest.from_function(_notice_script, default_timeout=TIMEOUT_S)
    at.session_state["shell_range_value"] = "future"
    at.query_params.update({"n": "5", "range": "future"})
    at.run()
    assert not at.exception and not at.warning


APP = """
import streamlit as st
st.navigation([st.Page("pages/errors.py", url_path="errors", default=True)], position="hidden").run()
"""
PAGE = """
from ui.kit.frame import future_notice
future_notice(7, noun="error", page="pages/errors.py")
"""


def test_future_notice_links_to_the_same_view_dated_in_the_future(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "pages" / "errors.py").write_text(PAGE)
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=TIMEOUT_S)
    at.query_params.update({"service": "api&x=1", "range": "7d", "group": "abc"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["7 errors dated in the future are not in this window."]
    links = [el.proto for el in at.get("page_link")]
    assert [p.label for p in links] == ["Show them"] and links[
        0
    ].page_script_hash  # the errors page itself
    assert parse_qs(links[0].query_string) == {
        "service": ["api&x=1"],
        "range": ["future"],
        "group": ["abc"],
    }


def _text_script() -> None:
    import streamlit as st

    from ui.kit.widgets import show_text

    size = int(st.query_params.get("size", "10"))
    show_text("x" * (size - 1) + "!")


def test_short_text_is_shown_whole() -> None:
    at = AppTest.from_function(_text_script, default_timeout=TIMEOUT_S)
    at.query_params["size"] = "20000"
    at.run()
    assert not at.exception
    assert [len(c.value) for c in at.code] == [20_000] and at.code[0].value.endswith("!")
    assert not at.get("download_button")


def test_long_text_is_cut_with_its_size_and_a_download_and_is_not_sent_whole() -> None:
    at = AppTest.from_function(_text_script, default_timeout=TIMEOUT_S)
    at.query_params["size"] = str(BIG)
    at.run()
    assert not at.exception
    assert [len(c.value) for c in at.code] == [20_000]
    assert "Showing the first 20,000 of 5,242,880 characters." in [c.value for c in at.caption]
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "whole" in downloads[0].proto.label
    assert _sent_bytes(at) < 100_000, _sent_bytes(at)
    at.run()  # a rerun sends no more than the first run
    assert _sent_bytes(at) < 100_000


def _json_script() -> None:
    import streamlit as st

    from db.types import InvalidJSON
    from ui.kit.widgets import show_json

    kind = st.query_params.get("kind")
    if kind == "deep":
        value: object = []
        for _ in range(10_000):
            value = [value]
        show_json(value)
    elif kind == "huge":
        show_json({"rows": [{"i": i, "text": "y" * 100} for i in range(50_000)]})
    elif kind == "invalid":
        show_json(InvalidJSON("[" * 10_000 + "oops" * 10_000))
        show_json(InvalidJSON("[" * 10_000 + "oops" * 10_000))  # the same value twice on one page
    else:
        show_json({"a": [1, 2]})


@pytest.mark.parametrize("kind", ["deep", "huge", "invalid"])
def test_deep_or_huge_json_is_shown_as_cut_text(kind: str) -> None:
    at = AppTest.from_function(_json_script, default_timeout=TIMEOUT_S)
    at.query_params["kind"] = kind
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.json
    assert at.code and all(len(c.value) <= 20_000 for c in at.code)
    assert at.get("download_button")
    assert _sent_bytes(at) < 100_000 * len(at.code)


def test_small_json_is_still_the_json_viewer() -> None:
    at = AppTest.from_function(_json_script, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert [json.loads(j.proto.body) for j in at.json] == [{"a": [1, 2]}]
