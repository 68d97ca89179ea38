"""The main interactions of a page, found on its rendered AppTest tree: open, change a filter,
select a row, switch tab. Generic over the pages: whatever widgets a page draws, the first
suitable one of each kind is used, and the report says which (by widget key).

A page may name its own interactions in `SCENARIOS` (url_path -> list of Interaction) where
the generic choice would pick the wrong widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamlit.testing.v1 import AppTest

# Widget keys that are actions or paging, never filters.
SKIP_WORDS = ("refresh", "export", "download", "confirm", "note", "resolve", "delete", "activate", "save",
              "purge", "rollback", "page", "cursor", "next", "prev", "chat", "edit", "json", "login", "logout")
TAB_WORDS = ("tab", "view", "section", "mode")
FILTER_TYPES = ("selectbox", "multiselect", "button_group", "radio", "toggle", "checkbox", "select_slider",
                "text_input", "number_input")


@dataclass(frozen=True)
class Interaction:
    """One interaction: its kind, a description for the report, and how to apply it to an AppTest."""

    kind: str  # "open", "filter", "select", "tab"
    label: str
    apply: Callable[[AppTest], None] = field(repr=False, compare=False)


def _noop(_at: AppTest) -> None:
    return None


OPEN = Interaction("open", "open", _noop)


def _in_form(node: Any) -> bool:
    return bool(getattr(getattr(node, "proto", None), "form_id", ""))


def _main_nodes(at: AppTest) -> list[Any]:
    return [n for n in at.main if n is not at.main]


def _usable_key(key: str | None) -> bool:
    return bool(key) and not any(w in key.lower() for w in SKIP_WORDS)  # type: ignore[union-attr]


def _new_value(node: Any) -> Any | None:
    """A value for a filter widget that differs from its current one (None when there is none)."""
    t = node.type
    if t in ("selectbox", "radio"):
        options = list(node.options)
        current = node.index
        for i in range(len(options)):
            if i != current:
                return ("index", i)
        return None
    if t == "multiselect":
        options = [o for o in node.options if o not in list(node.value or [])]
        return ("value", [*list(node.value or []), options[0]]) if options else None
    if t == "button_group":
        options = list(node.options)
        current = list(node.formatted_values)
        other = [o for o in options if o not in current]
        if not other:
            return None
        single = node._is_single_select()
        return ("value", other[0] if single else [*node.value, other[0]])
    if t in ("toggle", "checkbox"):
        return ("value", not bool(node.value))
    if t == "select_slider":
        options = list(node.options)
        return ("value", options[0]) if options and node.value != options[0] else None
    if t == "text_input":
        return ("value", "a")
    if t == "number_input":
        return ("value", (node.value or 0) + 1)
    return None


def _set(at: AppTest, key: str, how: tuple[str, Any]) -> None:
    node = at.get_by_key(key)
    mode, value = how
    if mode == "index":
        node.select_index(value)  # type: ignore[union-attr]
    else:
        node.set_value(value)  # type: ignore[union-attr]


def _widget_interaction(kind: str, node: Any) -> Interaction | None:
    how = _new_value(node)
    if how is None:
        return None
    key = node.key
    return Interaction(kind, f"{kind}: {key} = {how[1]!r}"[:90], lambda at, k=key, h=how: _set(at, k, h))


def find_filter(at: AppTest) -> Interaction | None:
    """The first filter widget in the main area (not the sidebar, not in a form, not an action)."""
    for node in _main_nodes(at):
        if node.type in FILTER_TYPES and _usable_key(node.key) and not _in_form(node):
            if any(w in node.key.lower() for w in TAB_WORDS):
                continue
            found = _widget_interaction("filter", node)
            if found:
                return found
    return None


def find_tab(at: AppTest) -> Interaction | None:
    """A keyed st.tabs container (switched through session state) or a tab-like widget."""
    for node in _main_nodes(at):
        if node.type == "tab_container" and getattr(node, "key", None):
            labels = [c.label for c in node.children.values() if getattr(c, "type", "") == "tab"]
            if len(labels) > 1:
                key = node.key
                return Interaction("tab", f"tab: {key} = {labels[1]!r}",
                                   lambda at, k=key, v=labels[1]: at.session_state.__setitem__(k, v))
    for node in _main_nodes(at):
        key = getattr(node, "key", None) or ""
        if node.type in ("button_group", "radio", "selectbox") and any(w in key.lower() for w in TAB_WORDS):
            found = _widget_interaction("tab", node)
            if found:
                return found
    return None


def find_select(at: AppTest) -> Interaction | None:
    """A keyed dataframe with row selection and at least one row: select its first row."""
    for node in _main_nodes(at):
        if node.type != "arrow_data_frame" or not getattr(node, "key", None):
            continue
        if not list(node.proto.selection_mode):
            continue
        try:
            if len(node.value) == 0:
                continue
        except Exception:  # noqa: BLE001, S112 - an unreadable frame is simply not selectable
            continue
        key = node.key
        state = {"selection": {"rows": [0], "columns": [], "cells": []}}
        return Interaction("select", f"select: {key} row 0", lambda at, k=key, s=state: at.session_state.__setitem__(k, s))
    return None


# Page-specific interactions (url_path -> interactions), used instead of the generic ones.
SCENARIOS: dict[str, list[Interaction]] = {}


def discover(at: AppTest, url_path: str) -> list[Interaction]:
    """Open plus the page's filter, select and tab interactions (those it has)."""
    if url_path in SCENARIOS:
        return [OPEN, *SCENARIOS[url_path]]
    found = [OPEN]
    for finder in (find_filter, find_select, find_tab):
        try:
            item = finder(at)
        except Exception:  # noqa: BLE001, S112 - a widget AppTest cannot drive is left out
            item = None
        if item:
            found.append(item)
    return found
