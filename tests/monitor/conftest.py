"""Fixtures of the monitor tests: small hand-made health checks and error rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from db.auth import ALL_PERMISSIONS, MODE_OIDC, Identity
from db.models import CriticalErrorLog, SystemHealthStatus, new_uuid

# A fixed "now" for query tests (naive UTC like the backend writes); pages use the real clock.
NOW = datetime(2026, 3, 2, 12, 0, 0)
NOW_UTC = NOW.replace(tzinfo=UTC)

OPS = Identity(
    user="ops@example.com", mode=MODE_OIDC, roles=frozenset({"ops"}), permissions=ALL_PERMISSIONS
)
OPS2 = Identity(
    user="other@example.com", mode=MODE_OIDC, roles=frozenset({"ops"}), permissions=ALL_PERMISSIONS
)
ANALYST = Identity(
    user="analyst@example.com",
    mode=MODE_OIDC,
    roles=frozenset({"analyst"}),
    permissions=frozenset({"view"}),
)


def add_errors(engine: Engine, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Insert error rows (defaults: HIGH, service 'svc', details {}); returns their ids."""
    full = []
    for r in rows:
        full.append(
            {
                "id": new_uuid(),
                "severity": "HIGH",
                "service": "svc",
                "details": {},
                "error_type": "t",
                "message": "m",
                "resolved_at": None,
                "resolution_notes": None,
                "user_id": None,
                **r,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(CriticalErrorLog), full)
    return [r["id"] for r in full]


def add_checks(engine: Engine, rows: Iterable[dict[str, Any]]) -> None:
    """Insert health checks (defaults: details {}, response_time_ms NULL)."""
    full = [
        {"id": new_uuid(), "details": {}, "response_time_ms": None, "error_count_24h": None, **r}
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(insert(SystemHealthStatus), full)


def ago(**kw: float) -> datetime:
    """NOW minus a timedelta (naive UTC)."""
    return NOW - timedelta(**kw)


@pytest.fixture
def clear_caches(fresh_caches: None) -> Iterator[None]:
    yield
