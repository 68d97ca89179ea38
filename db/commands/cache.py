"""Writes on the sandbox historical cache: purge the expired entries (audited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, func, select

from db.auth import PURGE_CACHE, Identity, require
from db.commands import audit
from db.commands.audit import audited_write
from db.models import SandboxHistoricalCache, utcnow

C = SandboxHistoricalCache
KEYS_IN_AUDIT = 50  # the audit row names at most this many purged keys


def purge_expired(
    engine: Engine, *, identity: Identity, now: datetime | None = None, note: str | None = None
) -> int:
    """Delete cache entries whose expires_at is before `now` (naive UTC); returns how many."""
    require(identity, PURGE_CACHE)
    cutoff = now or utcnow()
    with audited_write(engine, identity=identity, permission=PURGE_CACHE) as s:
        expired = C.expires_at < cutoff
        count = int(s.execute(select(func.count()).select_from(C).where(expired)).scalar_one())
        keys = s.execute(
            select(C.cache_key).where(expired).order_by(C.expires_at).limit(KEYS_IN_AUDIT)
        ).scalars()
        before = {"expired_entries": count, "first_keys": list(keys), "expired_before": cutoff}
        s.execute(delete(C).where(expired))
        audit.record(
            s,
            identity=identity,
            action="cache.purge_expired",
            target_type="sandbox_historical_cache",
            target_id="*",
            before=before,
            after={"deleted": count},
            note=note,
        )
    return count
