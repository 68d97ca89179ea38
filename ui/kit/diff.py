"""Field-by-field comparison of two JSON documents (config versions, run parameters, audit before/after)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from domain.jsondiff import canonical, flatten

MISSING = "(absent)"
MAX_CELL_CHARS = 500  # a value longer than this is shown cut, with its length (compared whole)


def _text(value: Any) -> str:
    return canonical(value)


def _cell(text: str) -> str:
    if len(text) <= MAX_CELL_CHARS:
        return text
    return f"{text[:MAX_CELL_CHARS]}… ({len(text):,} characters)"


def diff(a: Any, b: Any, *, changed_only: bool = True) -> pd.DataFrame:
    """Rows key, a, b, changed: every leaf of either side, values as JSON text (plain cells)."""
    fa, fb = flatten(a if a is not None else {}), flatten(b if b is not None else {})
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va = _text(fa[key]) if key in fa else MISSING
        vb = _text(fb[key]) if key in fb else MISSING
        if va != vb or not changed_only:
            rows.append({"key": key, "a": _cell(va), "b": _cell(vb), "changed": va != vb})
    return pd.DataFrame(rows, columns=["key", "a", "b", "changed"])
