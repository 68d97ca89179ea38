"""The cached data-access module: the only place that caches, and the pages' one door to data.

Pages call `fetch(query_fn, **kwargs)`: the query function (from `db.queries.*`, a session in
and a DataFrame or small value out) runs on the read engine, its result is cached per domain
with a short TTL, keyed on the function's name, its arguments and the database URL. Writes go
through `db.commands.*` on `write_engine()` and then call `invalidate(domain)`.

The cache holds one live result per key, shared by every session of the process
(`st.cache_resource`, not `st.cache_data`, which pickles on write and unpickles a copy on every
hit: on a warm rerun that was most of the Errors page's time). Each caller gets its own view
(`_fresh`): DataFrames as shallow copies, which pandas' copy-on-write copies before any change,
containers and dataclasses rebuilt around them. What one caller changes never reaches the cache.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.settings import Settings, load_settings

T = TypeVar("T")

# Seconds a cached read stays fresh, per domain (the tables it reads).
TTL_S: dict[str, int] = {
    "health": 15,
    "errors": 30,
    "scans": 30,
    "opportunities": 30,
    "sandbox": 60,
    "audit": 30,
    "timeline": 30,
    "meta": 30,
}
# Every write of ours adds an audit row, so these are stale after any write.
ALWAYS_STALE_AFTER_WRITE = ("audit", "timeline")
MAX_ENTRIES = 256


@dataclass(frozen=True)
class Engines:
    """The read engine (replica if configured) and the write engine (main URL)."""

    read: Engine
    write: Engine
    settings: Settings


@st.cache_resource(show_spinner=False)
def _engines(url: str, read_url: str) -> Engines:
    settings = load_settings()
    write = make_engine(url, settings, read_timeout=False)
    read = make_engine(read_url, settings, read_timeout=True)
    return Engines(read=read, write=write, settings=settings)


def engines() -> Engines:
    """The engines for the configured URLs (one pool per process)."""
    s = load_settings()
    return _engines(s.database_url, s.read_url)


def read_engine() -> Engine:
    """The engine read paths use (the replica when `DATABASE_READ_URL` is set)."""
    return engines().read


def write_engine() -> Engine:
    """The engine commands use (always the main URL)."""
    return engines().write


def _domain(fn: Callable[..., Any]) -> str:
    mod = fn.__module__.rsplit(".", 1)[-1]
    return mod if mod in TTL_S else "meta"


def _run(fn: Callable[..., T], kwargs: dict[str, Any]) -> tuple[datetime, T]:
    with Session(read_engine()) as session:
        result = fn(session, **kwargs)
    return datetime.now(UTC), result


def _make_cache(domain: str) -> Callable[..., tuple[datetime, Any]]:
    # One text key (function, URL, arguments): Streamlit hashes a tuple of arguments element by
    # element (~1 ms a call for a query with eight arguments), a string in one go.
    def cached(key: str, _fn: Callable[..., Any]) -> Any:
        return _run(_fn, {})

    cached.__name__ = f"cached_{domain}"
    cached.__qualname__ = f"cached_{domain}"
    return st.cache_resource(ttl=TTL_S[domain], max_entries=MAX_ENTRIES, show_spinner=False)(cached)


_CACHES: dict[str, Any] = {domain: _make_cache(domain) for domain in TTL_S}


def _freeze(value: Any) -> Any:
    if isinstance(value, list | set | frozenset):
        return tuple(_freeze(v) for v in (sorted(value, key=repr) if isinstance(value, set | frozenset) else value))
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


_IMMUTABLE = (str, bytes, int, float, bool, date, datetime, timedelta, Decimal, frozenset, type(None))


def _fresh(value: Any) -> Any:
    """A caller's own view of a cached result (see the module's docstring)."""
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        return value.copy(deep=False)
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, tuple):
        items = [_fresh(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, set):
        return set(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _fresh(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **fields)
    return copy.deepcopy(value)


def fetch(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a query function through its domain's cache; DataFrames get `attrs['as_of']`."""
    s = load_settings()
    params = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()))
    name = f"{fn.__module__}.{fn.__qualname__}"
    key = repr((name, s.read_url, params))  # plain values: their repr names them exactly
    as_of, cached = _CACHES[_domain(fn)](key, _fn=lambda session: fn(session, **kwargs))
    result = _fresh(cached)
    if hasattr(result, "attrs"):
        # ISO text, not a datetime: Arrow serialises attrs as JSON when a frame is shown.
        result.attrs["as_of"] = as_of.isoformat()
    return result  # type: ignore[no-any-return]


def fetch_uncached(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a query function without the cache (exports of whole filtered sets)."""
    return _run(fn, kwargs)[1]


def as_of(result: Any) -> datetime | None:
    """When a fetched DataFrame was read from the database."""
    raw = getattr(result, "attrs", {}).get("as_of")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, datetime) else None


def invalidate(*domains: str) -> None:
    """Drop cached reads of the given domains (all when none given), right after our own writes.

    The audit log and the service timeline (which shows config activations) are dropped too:
    every write adds an audit row.
    """
    for domain in set(domains + ALWAYS_STALE_AFTER_WRITE) if domains else tuple(_CACHES):
        _CACHES[domain].clear()


def timed(fn: Callable[..., T], /, **kwargs: Any) -> tuple[T, float]:
    """`fetch` plus the seconds it took (for the page's own diagnostics)."""
    t0 = time.perf_counter()
    result = fetch(fn, **kwargs)
    return result, time.perf_counter() - t0
