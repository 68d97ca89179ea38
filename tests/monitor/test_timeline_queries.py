"""The service timeline on three engines: scan problems per bucket, activations, what changed before a moment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from db.models import SandboxStrategyConfig, ScanSession
from db.own_models import AuditLog
from db.queries import timeline as q
from tests.monitor.conftest import NOW, add_checks, add_errors, ago


def _seed(engine: Engine) -> None:
    add_checks(
        engine,
        [
            {"service_name": "api", "status": s, "check_timestamp": ago(minutes=m)}
            for s, m in [("HEALTHY", 100), ("HEALTHY", 50), ("DOWN", 20), ("DOWN", 10)]
        ],
    )
    add_errors(
        engine,
        [
            {"message": "old", "created_at": ago(days=3)},
            {"message": "old", "created_at": ago(minutes=15)},
            {"message": "brand new 5", "created_at": ago(minutes=25)},
        ],
    )
    with engine.begin() as c:
        c.execute(
            insert(ScanSession),
            [
                {
                    "id": "s1",
                    "strategy": "theta_crop",
                    "status": "FAILED",
                    "started_at": ago(minutes=30),
                    "completed_at": ago(minutes=29),
                    "error_message": "timeout",
                },
                {
                    "id": "s2",
                    "strategy": "theta_crop",
                    "status": "COMPLETED",
                    "started_at": ago(minutes=40),
                    "completed_at": ago(minutes=39),
                    "error_message": None,
                },
                {
                    "id": "s3",
                    "strategy": "quick_scalp",
                    "status": "FAILED",
                    "started_at": ago(hours=5),
                    "completed_at": None,
                    "error_message": None,
                },
            ],
        )
        c.execute(
            insert(SandboxStrategyConfig),
            [
                {
                    "id": "c1",
                    "user_id": "u",
                    "strategy_id": "x",
                    "name": "Theta v2",
                    "config_data": {},
                    "deployed_at": ago(minutes=45),
                    "created_at": ago(days=1),
                    "updated_at": ago(days=1),
                }
            ],
        )
        c.execute(
            insert(AuditLog),
            [
                {
                    "id": "a1",
                    "at": ago(minutes=35),
                    "actor": "dev@example.com",
                    "action": "config.activate",
                    "target_type": "sandbox_config",
                    "target_id": "c1",
                }
            ],
        )


def test_what_changed_before_a_moment(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        df = q.changes_before(s, at=NOW, minutes=60)
    got = [
        (r.kind, r.what, round((NOW - r.at.tz_localize(None)).total_seconds() / 60))
        for r in df.itertuples()
    ]
    assert got == [
        ("status", "HEALTHY → DOWN", 20),
        ("new error group", "t: brand new 5", 25),
        ("failed scan", "theta_crop: timeout", 30),
        ("config activated", "Theta v2 (by dev@example.com)", 35),
        ("config deployed (backend)", "Theta v2 (by u)", 45),
    ]


def test_a_shorter_lookback_and_one_service(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        df = q.changes_before(s, at=NOW, minutes=22, service="api")
        none = q.changes_before(s, at=NOW, minutes=22, service="other")
    assert df["kind"].tolist() == ["status"]
    assert none.empty


def test_scan_problems_per_bucket_and_activations(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        scans = q.scan_problems(
            s, since=NOW - timedelta(hours=24), until=NOW, now=NOW, bucket_s=3600
        )
        acts = q.config_activations(s, since=NOW - timedelta(hours=24), until=NOW)
    assert int(scans["failed"].sum()) == 2 and int(scans["runs"].sum()) == 3
    assert acts["what"].tolist() == ["deployed (backend)", "activated"]


def test_new_error_groups_compare_fingerprints_with_30_days_of_history(engine: Engine) -> None:
    add_errors(
        engine,
        [
            # Seen 2 days ago with another number: the same group (fingerprint), not new.
            {"message": "quote 7 failed", "created_at": ago(days=2)},
            {"message": "quote 9 failed", "created_at": ago(minutes=5)},
            # Seen 40 days ago only: older than the history horizon, so new again.
            {"message": "disk full", "created_at": ago(days=40)},
            {"message": "disk full", "created_at": ago(minutes=10)},
            {"message": "disk full", "created_at": ago(minutes=8)},
            # Never seen before; two spellings of one group (the more frequent one names it).
            {"message": "lost 1 peer", "created_at": ago(minutes=30)},
            {"message": "lost 2 peer", "created_at": ago(minutes=20)},
            {"message": "lost 2 peer", "created_at": ago(minutes=15)},
            # Same message, another service without a service: its own group, and new.
            {"message": "quote 9 failed", "service": None, "created_at": ago(minutes=3)},
            # Exactly the same message earlier (an exact twin): not new.
            {"message": "boom", "created_at": ago(hours=3)},
            {"message": "boom", "created_at": ago(minutes=1)},
        ],
    )
    with Session(engine) as s:
        df = q.new_error_groups(s, since=NOW - timedelta(hours=1), until=NOW)
        svc_only = q.new_error_groups(s, since=NOW - timedelta(hours=1), until=NOW, service="svc")
    got = [
        (r.service, r.message, round((NOW - r.first_seen.tz_localize(None)).total_seconds() / 60))
        for r in df.itertuples()
    ]
    assert got == [
        (None, "quote 9 failed", 3),
        ("svc", "disk full", 10),
        ("svc", "lost 2 peer", 30),
    ]
    assert svc_only["message"].tolist() == ["disk full", "lost 2 peer"]
