"""The audit trail: one row per write, in the same transaction as the write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.auth import Identity, require
from db.engine import write_session
from db.models import utcnow
from db.own_models import AuditLog


def _jsonable(value: Any) -> Any:
    """Values as JSON-safe data (datetimes as ISO text)."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def record(
    session: Session,
    *,
    identity: Identity,
    action: str,
    target_type: str,
    target_id: str,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
) -> AuditLog:
    """Add an audit row to the session's transaction (flushed, not committed)."""
    row = AuditLog(
        at=utcnow(),
        actor=identity.user,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
    )
    session.add(row)
    session.flush()
    return row


@contextmanager
def audited_write(engine: Engine, *, identity: Identity, permission: str) -> Iterator[Session]:
    """A write transaction for a permitted identity: checks first, commits all or nothing."""
    require(identity, permission)
    with write_session(engine) as session:
        yield session
