"""URL query parameters as validated view state: bad values are rejected with a message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import streamlit as st

MAX_PARAM_LEN = 200
# A record's key kept in the URL: the backend's string ids have no length limit; browsers keep URLs of several KB.
MAX_ID_LEN = 1000


def _raw(name: str) -> str | None:
    value = st.query_params.get(name)
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= MAX_PARAM_LEN and "\x00" not in value else ""


def _reject(name: str, value: str, allowed: str, *, why: str | None = None) -> None:
    # The rejected value is shown as code text, never as Markdown.
    st.warning(
        f"Ignored the URL parameter `{name}`: {why or f'the value is not one of {allowed}.'}",
        icon="⚠️",
    )
    st.code(value[:80] or "(empty)", language=None)
    remove(name)


def choice(name: str, allowed: Sequence[str], default: str) -> str:
    """A parameter that must be one of `allowed`; otherwise the default, with a message."""
    value = _raw(name)
    if value is None:
        return default
    if value in allowed:
        return value
    _reject(name, value, ", ".join(allowed[:12]) + ("…" if len(allowed) > 12 else ""))
    return default


def integer(name: str, default: int, *, lo: int, hi: int) -> int:
    """An integer parameter within [lo, hi]; otherwise the default, with a message."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = lo - 1
    if lo <= number <= hi:
        return number
    _reject(name, value, f"whole numbers from {lo} to {hi}")
    return default


def day(name: str, default: date, *, lo: date, hi: date) -> date:
    """A YYYY-MM-DD parameter: malformed gives the default, out of [lo, hi] the nearest bound, with a message."""
    value = _raw(name)
    if value is None:
        return default
    try:
        parsed = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is not None and lo <= parsed <= hi:
        return parsed
    used = default if parsed is None else min(max(parsed, lo), hi)
    _reject(
        name,
        value,
        "",
        why=f"the value is not a date (YYYY-MM-DD) from {lo.isoformat()} to {hi.isoformat()}; "
        f"showing {used.isoformat()}.",
    )
    return used


def text(name: str, default: str = "", *, max_len: int = MAX_PARAM_LEN) -> str:
    """A free-text parameter of at most `max_len` characters and no NUL; otherwise the default, with a message."""
    value = st.query_params.get(name)
    if value is None:
        return default
    value = str(value)
    if len(value) > max_len or "\x00" in value:
        _reject(
            name,
            value,
            "",
            why=f"the value is longer than {max_len:,} characters or holds a NUL character.",
        )
        return default
    return value


def many(name: str, allowed: Iterable[str] | None = None) -> list[str]:
    """A comma-separated list; unknown values (when `allowed` is given) are dropped with a message."""
    value = _raw(name)
    if not value:
        return []
    items = [v for v in value.split(",") if v]
    if allowed is None:
        return items
    allowed_set = set(allowed)
    good = [v for v in items if v in allowed_set]
    if len(good) != len(items):
        st.warning(
            f"Ignored {len(items) - len(good)} unknown value(s) in the URL parameter `{name}`.",
            icon="⚠️",
        )
    return good


def flag(name: str, default: bool = False) -> bool:
    """A boolean parameter: 1/0, true/false."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    _reject(name, value, "1, 0, true, false")
    return default


def put(**values: object) -> None:
    """Write view state to the URL; None, empty and False values are removed."""
    for key, value in values.items():
        if value is None or value == "" or value is False or value == []:
            remove(key)
        elif isinstance(value, list | tuple | set):
            st.query_params[key] = ",".join(str(v) for v in value)
        elif value is True:
            st.query_params[key] = "1"
        else:
            st.query_params[key] = str(value)


def remove(*names: str) -> None:
    """Remove parameters from the URL."""
    for name in names:
        if name in st.query_params:
            del st.query_params[name]
