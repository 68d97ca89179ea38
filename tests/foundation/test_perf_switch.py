"""The speed mechanisms (perf/, switched off by CONSOLE_PERF=off) never change what a page shows:
every page registered in ui.kit.nav, on demo data, shows the same elements (types, values, table
data, chart data) with them on and off, when opened and after one interaction."""

from __future__ import annotations

import ast
import base64
import importlib
import json
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

import perf
import ui.sections
from tests.foundation.conftest import ROOT
from ui.kit.nav import SECTIONS

for _mod in pkgutil.walk_packages(ui.sections.__path__, "ui.sections."):
    importlib.import_module(_mod.name)  # imported before still_clock patches their rounded_now

TIMEOUT_S = 60
PAGES = [p.path for specs in SECTIONS.values() for p in specs]
FIGURE_PAGES = ("pages/health.py", "pages/errors.py", "pages/scans.py", "pages/opportunities.py")
# Proto fields that name an element rather than show something: ids (hashes of key and
# arguments), the raw Arrow bytes and plotly spec (compared decoded, below).
NOT_SHOWN = {"id", "data", "spec", "formId", "deferredFileId", "url"}
# When a read was made, and ages against the wall clock: two runs seconds apart differ there.
READ_TIME = re.compile(r"\b\d\d:\d\d:\d\d\b")
AGE = re.compile(r"\b\d+ (s|min|h|d) ago\b")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from db.engine import make_engine
    from db.schema import migrate
    from demo import generate as demo

    url = f"sqlite:///{tmp_path_factory.mktemp('perf') / 'demo.db'}"
    eng = make_engine(url)
    demo.generate(eng, rows=2_000, seed=3)
    migrate.upgrade(eng)  # the console's own tables (the audit log)
    eng.dispose()
    return url


@pytest.fixture(autouse=True)
def _clean(fresh_caches: None, still_clock: object) -> Iterator[None]:
    yield


def _decoded(value: Any) -> Any:
    """Plotly's typed arrays ({'dtype', 'bdata'}) as plain lists, so an array and a list compare."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            if shape:
                arr = arr.reshape([int(n) for n in str(shape).split(",")])
            return _decoded(arr.tolist())
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, float) and value != value:
        return "NaN"  # NaN != NaN: compare it as text
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | dict | tuple):
        return json.dumps(_decoded(value), default=str)
    return "" if value is None or pd.isna(value) else str(value)


def _table(df: pd.DataFrame) -> dict[str, Any]:
    """What a table shows: its column names and its cells as text, row by row."""
    plain = df.reset_index(drop=True)
    cells = [[_cell(v) for v in r] for r in plain.astype(object).itertuples(index=False)]
    return {"columns": [str(c) for c in plain.columns], "cells": cells}


def _shown(proto_dict: Any) -> Any:
    if isinstance(proto_dict, dict):
        return {k: _shown(v) for k, v in proto_dict.items() if k not in NOT_SHOWN}
    if isinstance(proto_dict, list):
        return [_shown(v) for v in proto_dict]
    if isinstance(proto_dict, str):
        return AGE.sub("N ago", READ_TIME.sub("hh:mm:ss", proto_dict))
    return proto_dict


def _element(node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": node.type}
    proto = getattr(node, "proto", None)
    if proto is not None:
        out["proto"] = _shown(MessageToDict(proto))
    if node.type in ("dataframe", "arrow_data_frame", "table"):
        out["table"] = _table(node.value)
    spec = getattr(proto, "spec", "") or getattr(getattr(proto, "figure", None), "spec", "")
    if spec:
        out["figure"] = _decoded(json.loads(spec))
    return out


def snapshot(at: AppTest) -> list[dict[str, Any]]:
    """Every element of the page (sidebar and main area) in order, as a user would see it."""
    assert not at.exception, [e.value for e in at.exception]
    return [_element(n) for area in (at.sidebar, at.main) for n in area if n is not area]


def _select_first_row(at: AppTest) -> Callable[[AppTest], None] | None:
    for node in at.main:
        if (
            node.type == "dataframe"
            and getattr(node, "key", None)
            and list(node.proto.selection_mode)
        ):
            if len(node.value):
                state = {"selection": {"rows": [0], "columns": [], "cells": []}}
                return lambda a, k=node.key: a.session_state.__setitem__(k, state)
    return None


def _other_choice(at: AppTest) -> Callable[[AppTest], None] | None:
    for node in at.main:
        if (
            node.type in ("selectbox", "radio")
            and getattr(node, "key", None)
            and len(node.options) > 1
        ):
            i = 1 if node.index != 1 else 0
            return lambda a, k=node.key, i=i: a.get_by_key(k).select_index(i)  # type: ignore[union-attr]
    return None


def _type_a_letter(at: AppTest) -> Callable[[AppTest], None] | None:
    for node in at.main:
        if node.type == "text_input" and getattr(node, "key", None):
            return lambda a, k=node.key: a.get_by_key(k).set_value("a")  # type: ignore[union-attr]
    return None


def interaction(at: AppTest) -> Callable[[AppTest], None]:
    """One interaction of the opened page: select the first row of its first selectable table,
    or else pick another option of its first choice, or else type into its first text box."""
    found = _select_first_row(at) or _other_choice(at) or _type_a_letter(at)
    assert found is not None, "the page offers no interaction to compare"
    return found


def _dict_keys(path: Path, name: str) -> list[object]:
    """The keys of the dict literals a page script assigns to `name` (directly or by ** unpacking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, list[object]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys: list[object] = []
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                if k is None and isinstance(v, ast.Name):
                    keys += found.get(v.id, [])
                elif isinstance(k, ast.Constant):
                    keys.append(k.value)
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = keys
    return found[name]


def _every_view(page: str) -> list[tuple[str, object]]:
    """(widget key, value) of each view of the page's view switcher (charts live in some views)."""
    from ui.sections import errors, health, scans

    views: dict[str, tuple[str, list[object]]] = {
        "pages/health.py": ("health_view", list(health.VIEWS)),
        "pages/errors.py": ("errors_tab", list(errors.TABS)),
        "pages/scans.py": ("scans_sview", list(scans.VIEWS)),
        "pages/sandbox.py": ("sandbox_view", _dict_keys(ROOT / "pages/sandbox.py", "VIEWS")),
    }
    key, values = views.get(page, ("", []))
    return [(key, v) for v in values]


def _open(monkeypatch: pytest.MonkeyPatch, url: str, page: str, mode: str) -> AppTest:
    monkeypatch.setenv(perf.SWITCH, mode)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page(page).run()
    return at


def _views(monkeypatch: pytest.MonkeyPatch, url: str, page: str, mode: str) -> list[Any]:
    """The page as opened, after a rerun (warm caches), after one interaction, then in each view."""
    at = _open(monkeypatch, url, page, mode)
    opened = snapshot(at)
    warm = snapshot(at.run())
    interaction(at)(at)
    views = [opened, warm, snapshot(at.run())]
    for key, value in _every_view(page):
        at.session_state[key] = value
        views.append(snapshot(at.run()))
    return views


def _where(a: Any, b: Any, path: str = "") -> str:
    """The first place two snapshots of an element differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k) != b.get(k):
                return _where(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _where(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:300]!r} != {str(b)[:300]!r}"


def test_the_switch_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(perf.SWITCH, raising=False)
    assert perf.enabled()
    for off in ("off", "OFF", "0", "false", "no"):
        monkeypatch.setenv(perf.SWITCH, off)
        assert not perf.enabled()
    monkeypatch.setenv(perf.SWITCH, "on")
    assert perf.enabled()


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_the_same_with_the_speed_mechanisms_on_and_off(
    monkeypatch: pytest.MonkeyPatch, demo_url: str, page: str
) -> None:
    on = _views(monkeypatch, demo_url, page, "on")
    off = _views(monkeypatch, demo_url, page, "off")
    steps = ["opened", "rerun", "after one interaction"] + [
        f"view {v}" for _, v in _every_view(page)
    ]
    for when, a, b in zip(steps, on, off, strict=True):
        assert len(a) == len(b), f"{page} {when}: {len(a)} elements on, {len(b)} off"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert x == y, f"{page} {when}: element {i} ({x['type']}) differs: {_where(x, y)}"
    assert any("table" in e for view in on for e in view) or page.endswith("audit.py")
    if page in FIGURE_PAGES:
        assert any("figure" in e for view in on for e in view), f"{page}: no chart compared"
