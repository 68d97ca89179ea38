"""Field-by-field comparison of two JSON documents (config versions, run parameters, audit before/after)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from db.jsondiff import flatten

MISSING = "(absent)"


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def diff(a: Any, b: Any, *, changed_only: bool = True) -> pd.DataFrame:
    """Rows key, a, b, changed: every leaf of either side, values as JSON text (plain cells)."""
    fa, fb = flatten(a if a is not None else {}), flatten(b if b is not None else {})
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va = _text(fa[key]) if key in fa else MISSING
        vb = _text(fb[key]) if key in fb else MISSING
        if va != vb or not changed_only:
            rows.append({"key": key, "a": va, "b": vb, "changed": va != vb})
    return pd.DataFrame(rows, columns=["key", "a", "b", "changed"])
