"""SQLite index range probes for the Health page's counts (perf/README.md, "probes").

A window holding more than PROBE_ABOVE checks (and every uptime count) is counted by index range
probes, one per (service, time range) through the (service_name, check_timestamp) index: each
groups only its own rows by the raw status, with no per-row expression and no sort of the whole
window. At most MAX_PROBES probes; beyond, and on other engines, and switched off, the query
function's one grouped statement (PostgreSQL and MariaDB hash-aggregate it faster).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, and_, bindparam, func, select
from sqlalchemy.orm import Session

import perf
from db.models import SystemHealthStatus as H
from db.sqlfuncs import exact_eq

PROBE_ABOVE = 50_000
MAX_PROBES = 2_000
PROBE_DIALECTS = ("sqlite",)


def dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def probing(session: Session) -> bool:
    """Whether this session's counts may be probed (switched on, an engine of PROBE_DIALECTS)."""
    return perf.enabled() and dialect(session) in PROBE_DIALECTS


def more_checks_than(
    session: Session, lo: datetime, hi: datetime, n: int, *, service: str | None = None
) -> bool:
    """True when more than `n` checks lie in [lo, hi] (reads at most n + 1 index entries)."""
    sub = (
        select(H.check_timestamp)
        .where(
            H.check_timestamp >= lo,
            H.check_timestamp <= hi,
            *([] if service is None else [exact_eq(H.service_name, service)]),
        )
        .limit(n + 1)
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(sub)).scalar_one()) > n


def _sqlite_time(ts: datetime, *, fraction: bool) -> str:
    return ts.strftime(
        "%Y-%m-%d %H:%M:%S.%f" if fraction or ts.microsecond else "%Y-%m-%d %H:%M:%S"
    )


def probe_counts(
    session: Session,
    names: Sequence[str],
    ranges: Sequence[tuple[datetime, datetime]],
    *,
    left_open: bool,
) -> list[tuple[str, int, str, int]]:
    """(service, range index, status as written, checks) per service and time range, by one index range
    probe each: [lo, hi) or, with left_open, (lo, hi]."""
    sqlite = dialect(session) == "sqlite"
    # SQLite compares times as text, and a check may be stored as '12:00:00' or '12:00:00.000000'.
    # '>= lo' and '< hi' are right for both when a whole second binds without the fraction;
    # '> lo' and '<= hi' when it binds with it (the bucket arithmetic puts both at 12:00).
    bound = String() if sqlite else None
    lo, hi = bindparam("lo", type_=bound), bindparam("hi", type_=bound)
    name = bindparam("name", type_=String())
    ts = H.check_timestamp
    in_range = and_(ts > lo, ts <= hi) if left_open else and_(ts >= lo, ts < hi)
    stmt = (
        select(H.status, func.count().label("n"))
        .where(exact_eq(H.service_name, name), in_range)
        .group_by(H.status)
    )
    out = []
    for svc in names:
        for i, (a, b) in enumerate(ranges):
            params = {
                "name": svc,
                "lo": _sqlite_time(a, fraction=left_open) if sqlite else a,
                "hi": _sqlite_time(b, fraction=left_open) if sqlite else b,
            }
            out += [(svc, i, r.status, r.n) for r in session.execute(stmt, params)]
    return out
