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
SKIP_WORDS = (
    "refresh",
    "export",
    "download",
    "confirm",
    "note",
    "resolve",
    "delete",
    "activate",
    "save",
    "purge",
    "rollback",
    "page",
    "cursor",
    "next",
    "prev",
    "chat",
    "edit",
    "json",
    "login",
    "logout",
    "sort",
    "every",
)
TAB_WORDS = ("tab", "view", "section", "mode")
# In order of preference: choices first, then switches, then free input.
FILTER_TYPES = (
    "selectbox",
    "multiselect",
    "button_group",
    "radio",
    "select_slider",
    "toggle",
    "checkbox",
    "text_input",
    "number_input",
)


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


def _raw(node: Any, shown: str) -> Any | None:
    """The option value behind a formatted option label (labels often add counts: 'HIGH (2,789)')."""
    try:
        fmt = node.format_func
    except Exception:  # noqa: BLE001 - no format function registered: labels are the values
        return shown
    base = shown.split(" (")[0]
    low = base.lower()
    candidates = (
        shown,
        base,
        shown.rsplit(" ", 1)[0],
        low,
        low.replace(" ", "_"),
        low.replace(" ", "-"),
        low.split(" ")[0],
        low.replace(" ", ""),
    )
    for cand in candidates:
        try:
            if str(fmt(cand)) == shown:
                return cand
        except Exception:  # noqa: BLE001, S112 - a format function that rejects the candidate
            continue
    return None


def _new_value(node: Any) -> Any | None:
    """A value for a filter widget that differs from its current one (None when there is none)."""
    t = node.type
    if t in ("selectbox", "radio"):
        options = list(node.options)
        current = node.index
        for i in range(len(options)):
            if i != current:
                return ("index", i, options[i])
        return None
    if t == "multiselect":
        current = list(node.value or [])
        shown = list(node.values)
        for label in node.options:
            raw = _raw(node, label) if label not in shown else None
            if raw is not None:
                return ("value", [*current, raw], label)
        return None
    if t == "button_group":
        options = list(node.options)
        current = list(node.formatted_values)
        for label in (o for o in options if o not in current):
            raw = _raw(node, label)
            if raw is not None:
                return ("value", raw if node._is_single_select else [*node.value, raw], label)
        return None
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


def _set(at: AppTest, key: str, how: tuple[Any, ...]) -> None:
    node = at.get_by_key(key)
    mode, value = how[0], how[1]
    if mode == "index":
        node.select_index(value)  # type: ignore[union-attr]
    else:
        node.set_value(value)  # type: ignore[union-attr]


def _widget_interaction(kind: str, node: Any) -> Interaction | None:
    how = _new_value(node)
    if how is None:
        return None
    key = node.key
    shown = how[2] if len(how) > 2 else how[1]
    return Interaction(
        kind, f"{kind}: {key} = {shown!r}"[:70], lambda at, k=key, h=how: _set(at, k, h)
    )


def find_filter(at: AppTest) -> Interaction | None:
    """The first filter widget in the main area (not the sidebar, not in a form, not an action)."""
    nodes = [
        n
        for n in _main_nodes(at)
        if n.type in FILTER_TYPES
        and _usable_key(n.key)
        and not _in_form(n)
        and not any(w in n.key.lower() for w in TAB_WORDS)
    ]
    for node in sorted(nodes, key=lambda n: FILTER_TYPES.index(n.type)):
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
                return Interaction(
                    "tab",
                    f"tab: {key} = {labels[1]!r}",
                    lambda at, k=key, v=labels[1]: at.session_state.__setitem__(k, v),
                )
    for node in _main_nodes(at):
        key = getattr(node, "key", None) or ""
        if node.type in ("button_group", "radio", "selectbox") and any(
            w in key.lower() for w in TAB_WORDS
        ):
            found = _widget_interaction("tab", node)
            if found:
                return found
    return None


def find_select(at: AppTest) -> Interaction | None:
    """A keyed dataframe with row selection and at least one row: select its first row."""
    for node in _main_nodes(at):
        if node.type != "dataframe" or not getattr(node, "key", None):
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
        return Interaction(
            "select",
            f"select: {key} row 0",
            lambda at, k=key, s=state: at.session_state.__setitem__(k, s),
        )
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
