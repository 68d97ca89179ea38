"""Comparing JSON documents nested far deeper than Python's recursion allows (issue 12): no RecursionError,
a bounded table, and two different deep documents still compare as different."""

from __future__ import annotations

import json
from typing import Any

from domain.jsondiff import MAX_FLAT_DEPTH, canonical, flatten
from ui.kit.diff import MAX_CELL_CHARS, diff

LEVELS = 10_000


def nested_objects(levels: int, leaf: Any) -> dict[str, Any]:
    doc: Any = leaf
    for _ in range(levels):
        doc = {"a": doc}
    return doc


def nested_lists(levels: int) -> list[Any]:
    doc: list[Any] = []
    for _ in range(levels - 1):
        doc = [doc]
    return doc


def test_flatten_stops_spelling_out_keys_at_its_depth():
    flat = flatten({"trading": nested_objects(LEVELS, 1)})
    assert len(flat) == 1
    (key,) = flat
    assert key == ".".join(["trading"] + ["a"] * (MAX_FLAT_DEPTH - 1))
    shallow = {"trading": {"delta_target": 0.15, "wing_widths": [5, 10]}, "risk": {}}
    assert flatten(shallow) == {
        "trading.delta_target": 0.15,
        "trading.wing_widths": [5, 10],
        "risk": {},
    }


def test_canonical_text_is_json_dumps_sorted_and_works_at_any_depth():
    doc = {"b": [1, {"y": None, "x": "é"}], "a": True}
    assert canonical(doc) == json.dumps(doc, sort_keys=True, ensure_ascii=False)
    deep = nested_lists(LEVELS)
    assert canonical(deep) == "[" * LEVELS + "]" * LEVELS


def test_diff_of_two_deep_documents_shows_the_change_cut():
    a, b = {"trading": nested_objects(LEVELS, 1)}, {"trading": nested_objects(LEVELS, 2)}
    table = diff(a, b)
    assert len(table) == 1 and bool(table["changed"].iloc[0])
    cell = table["a"].iloc[0]
    assert len(cell) < MAX_CELL_CHARS + 40 and cell.endswith("characters)")
    assert diff(a, {"trading": nested_objects(LEVELS, 1)}).empty  # equal deep documents: no change


def test_a_run_opportunity_with_deep_legs_is_tabled():
    from ui.sections.sandbox.runs import opportunity_table

    table = opportunity_table([{"symbol": "SPY", "legs": nested_lists(LEVELS)}, "odd"])
    assert table["symbol"].tolist()[0] == "SPY"
    assert (
        table["legs"].iloc[0] == "[" * LEVELS + "]" * LEVELS and table["value"].iloc[1] == '"odd"'
    )
