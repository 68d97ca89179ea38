"""Flattening JSON documents for key-by-key comparison (scan parameters, config versions, audit).

Everything here works without recursion: a stored document may be nested thousands of levels deep
(the backend writes what it is sent, and SQLite keeps it as text), and Python's recursion stops near
1,000 levels. Keys deeper than MAX_FLAT_DEPTH are not spelled out: the subtree below is one leaf.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_FLAT_DEPTH = 32  # levels of keys spelled out in a flattened document; a config has 2 or 3


def depth(value: Any, *, stop_at: int | None = None) -> int:
    """How deeply objects and arrays nest in `value` (0 for a scalar); counting stops at `stop_at`."""
    deepest, todo = 0, [(value, 1)]
    while todo and (stop_at is None or deepest < stop_at):
        item, level = todo.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        todo.extend(
            (child, level + 1) for child in children if isinstance(child, Mapping | list | tuple)
        )
    return deepest


def _scalar(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))  # NaN/Infinity as text: the result stays valid JSON
    return json.dumps(value, ensure_ascii=False, default=str)


def canonical(value: Any) -> str:
    """JSON text of `value` with sorted keys, as json.dumps(sort_keys=True) writes it, however deep."""
    out: list[str] = []
    todo: list[tuple[bool, Any]] = [(False, value)]  # (is literal text, item)
    while todo:
        literal, item = todo.pop()
        if literal:
            out.append(item)
        elif isinstance(item, Mapping):
            keys = sorted(item, key=str)
            todo.append((True, "}"))
            for i, key in reversed(list(enumerate(keys))):
                todo.append((False, item[key]))
                todo.append(
                    (True, (", " if i else "") + json.dumps(str(key), ensure_ascii=False) + ": ")
                )
            todo.append((True, "{"))
        elif isinstance(item, list | tuple):
            todo.append((True, "]"))
            for i, sub in reversed(list(enumerate(item))):
                todo.append((False, sub))
                if i:
                    todo.append((True, ", "))
            todo.append((True, "["))
        else:
            out.append(_scalar(item))
    return "".join(out)


def flatten(value: Any, prefix: str = "", *, max_depth: int = MAX_FLAT_DEPTH) -> dict[str, Any]:
    """Nested objects as {"a.b": leaf}; lists and scalars are leaves, and so is whatever lies more
    than `max_depth` objects deep."""
    out: dict[str, Any] = {}
    todo: list[tuple[str, Any, int]] = [(prefix, value, 0)]
    while todo:
        path, item, level = todo.pop()
        if isinstance(item, Mapping) and item and level < max_depth:
            todo.extend(
                (f"{path}.{key}" if path else str(key), sub, level + 1)
                for key, sub in reversed(list(item.items()))
            )
        else:
            out[path or "(value)"] = item
    return out
