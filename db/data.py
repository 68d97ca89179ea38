"""The cached data-access module: the only place that caches reads, and the pages' one door to data
(values built from reads may be shared too: perf.derived).

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
import hashlib
import threading
import time
from collections import OrderedDict
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


# The engines (and their pools) live here, not in st.cache_resource: any websocket client may send
# Streamlit's `clear_cache`, and each clear would have built new pools (new server connections).
# Keyed by the URLs and the settings make_engine uses; an engine is never disposed here (one in use
# by another session stays valid). Past MAX_ENGINE_SETS (only tests meet it: a server has one
# configuration) the oldest set is forgotten, to be closed when no one holds it any more.
MAX_ENGINE_SETS = 8
_ENGINES: dict[tuple[object, ...], Engines] = {}
_ENGINES_LOCK = threading.Lock()


def _engine_key(s: Settings) -> tuple[object, ...]:
    return (
        s.database_url,
        s.read_url,
        s.statement_timeout_s,
        s.connect_timeout_s,
        s.sqlite_busy_timeout_s,
        s.pool_recycle_s,
    )


def engines() -> Engines:
    """The engines for the configured URLs (one pool per process and setting)."""
    s = load_settings()
    key = _engine_key(s)
    found = _ENGINES.get(key)
    if found is not None:
        return found
    with _ENGINES_LOCK:
        found = _ENGINES.get(key)
        if found is None:
            write = make_engine(s.database_url, s, read_timeout=False)
            read = make_engine(s.read_url, s, read_timeout=True)
            found = _ENGINES[key] = Engines(read=read, write=write, settings=s)
            while len(_ENGINES) > MAX_ENGINE_SETS:
                del _ENGINES[next(iter(_ENGINES))]
    return found


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
    # One text key (function, URL, arguments): Streamlit hashes a string in one go, a tuple of
    # arguments element by element.
    def cached(key: str, _fn: Callable[..., Any]) -> Any:
        return _run(_fn, {})

    cached.__name__ = f"cached_{domain}"
    cached.__qualname__ = f"cached_{domain}"
    return st.cache_resource(ttl=TTL_S[domain], max_entries=MAX_ENTRIES, show_spinner=False)(cached)


_CACHES: dict[str, Any] = {domain: _make_cache(domain) for domain in TTL_S}


def _freeze(value: Any) -> Any:
    if isinstance(value, list | set | frozenset):
        return tuple(
            _freeze(v)
            for v in (sorted(value, key=repr) if isinstance(value, set | frozenset) else value)
        )
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


_IMMUTABLE = (
    str,
    bytes,
    int,
    float,
    bool,
    date,
    datetime,
    timedelta,
    Decimal,
    frozenset,
    type(None),
)


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
        fields = {
            f.name: _fresh(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **fields)
    return copy.deepcopy(value)


def fetch(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a query function through its domain's cache; DataFrames get `attrs['as_of']`."""
    s = load_settings()
    params = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()))
    name = f"{fn.__module__}.{fn.__qualname__}"
    key = repr((name, s.read_url, params))  # plain values: their repr names them exactly
    domain = _domain(fn)
    as_of, cached = _CACHES[domain](key, _fn=lambda session: fn(session, **kwargs))
    result = _fresh(cached)
    ref = _remember(domain, key)
    if hasattr(result, "attrs"):
        # ISO text, not a datetime: Arrow serialises attrs as JSON when a frame is shown.
        result.attrs["as_of"] = as_of.isoformat()
        result.attrs[CACHE_REF] = ref  # a digest: the key itself names the database URL
    return result


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


# Which cached read a result came from: attrs[CACHE_REF] names an entry of _ORIGINS (domain, key),
# so that a panel's Refresh drops exactly that read (not every domain, for every user).
CACHE_REF = "cache_ref"
MAX_ORIGINS = 4096
_ORIGINS: OrderedDict[str, tuple[str, str]] = OrderedDict()
_ORIGINS_LOCK = threading.Lock()
_this_run = threading.local()  # the reads of this thread's current script run (see begin_run)


def _remember(domain: str, key: str) -> str:
    ref = hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:20]
    with _ORIGINS_LOCK:
        _ORIGINS[ref] = (domain, key)
        _ORIGINS.move_to_end(ref)
        while len(_ORIGINS) > MAX_ORIGINS:
            _ORIGINS.popitem(last=False)
    reads = getattr(_this_run, "reads", None)
    if reads is not None:
        reads[ref] = (domain, key)
    return ref


def begin_run() -> None:
    """Start recording the reads of this script run (the frame calls it at the top of every run)."""
    _this_run.reads = {}


def refresh(result: Any) -> int:
    """Drop the cached read `result` came from (its domain and key only), so the next run reads it again.

    A result without its origin (derived from a fetched frame without keeping its attrs) drops
    every read this script run has made so far instead. Returns how many reads were dropped.
    """
    ref = getattr(result, "attrs", {}).get(CACHE_REF)
    with _ORIGINS_LOCK:
        origin = _ORIGINS.get(ref) if isinstance(ref, str) else None
    targets = [origin] if origin is not None else list(getattr(_this_run, "reads", {}).values())
    for domain, key in targets:
        _CACHES[domain].clear(key)
    return len(targets)


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
