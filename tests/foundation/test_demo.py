"""The demo data generator (demo.generate): filled tables, determinism, cross-table story, oddities, profiles, CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from db.engine import make_engine
from db.models import (
    Base,
    CriticalErrorLog,
    OpportunitySnapshot,
    SandboxStrategyConfig,
    SandboxTestRun,
    ScanSession,
    SystemHealthStatus,
)
from demo import generate as demo

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, 0)
ROWS = 300
UNHEALTHY = ("DEGRADED", "DOWN")
NEAR = timedelta(minutes=3)


def _all(engine: Engine, stmt: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(stmt).all())


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _digest(engine: Engine) -> str:
    """A digest of selected columns of every big table (sorted in Python: collations differ)."""
    h = hashlib.sha256()
    stmts = [
        select(
            SystemHealthStatus.id,
            SystemHealthStatus.check_timestamp,
            SystemHealthStatus.status,
            SystemHealthStatus.response_time_ms,
        ),
        select(
            CriticalErrorLog.id,
            CriticalErrorLog.error_type,
            CriticalErrorLog.created_at,
            CriticalErrorLog.severity,
            CriticalErrorLog.resolved_at,
        ),
        select(
            ScanSession.id,
            ScanSession.strategy,
            ScanSession.status,
            ScanSession.started_at,
            ScanSession.opportunities_found,
        ),
        select(
            OpportunitySnapshot.opportunity_id,
            OpportunitySnapshot.symbol,
            OpportunitySnapshot.premium,
            OpportunitySnapshot.expires_at,
        ),
        select(SandboxStrategyConfig.name, SandboxStrategyConfig.config_data),
    ]
    for stmt in stmts:
        rows = [
            json.dumps(
                [str(v) if isinstance(v, datetime) else v for v in row], sort_keys=True, default=str
            )
            for row in _all(engine, stmt)
        ]
        for row in sorted(rows):
            h.update(row.encode())
    return h.hexdigest()


def _sqlite_engine(tmp_path: Path, name: str) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / name}", read_timeout=False)
    Base.metadata.create_all(eng)
    return eng


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    """The `engine` fixture (each engine kind) filled with ROWS demo rows at a fixed clock."""
    demo.generate(engine, rows=ROWS, seed=7, now=NOW)
    return engine


def test_fills_every_table_and_reports_counts(engine: Engine) -> None:
    written = demo.generate(engine, rows=ROWS, seed=7, now=NOW)
    assert set(written) == set(Base.metadata.tables)
    for table in demo.BIG_TABLES:
        assert written[table] == ROWS
    for name, table in Base.metadata.tables.items():
        assert _count(engine, table) == written[name] > 0, name
    assert 8 <= written["sandbox_strategy_configs"] <= 12


def test_same_seed_same_content_on_every_engine(demo_engine: Engine, tmp_path: Path) -> None:
    ref = _sqlite_engine(tmp_path, "ref.db")
    other = _sqlite_engine(tmp_path, "other.db")
    try:
        demo.generate(ref, rows=ROWS, seed=7, now=NOW)
        demo.generate(other, rows=ROWS, seed=8, now=NOW)
        assert _digest(demo_engine) == _digest(ref)
        assert _digest(other) != _digest(ref)
    finally:
        ref.dispose()
        other.dispose()


def test_recent_windows_have_data(demo_engine: Engine) -> None:
    hour_ago = NOW - timedelta(hours=1)
    assert (
        _count(demo_engine, SystemHealthStatus, SystemHealthStatus.check_timestamp >= hour_ago) > 0
    )
    assert _count(demo_engine, CriticalErrorLog, CriticalErrorLog.created_at >= hour_ago) > 0
    assert _count(demo_engine, ScanSession, ScanSession.started_at >= hour_ago) > 0
    assert (
        _count(
            demo_engine,
            OpportunitySnapshot,
            OpportunitySnapshot.expires_at > NOW,
            OpportunitySnapshot.is_active.is_(True),
        )
        > 0
    )
    latest = _all(demo_engine, select(func.max(SystemHealthStatus.check_timestamp)))[0][0]
    assert NOW - timedelta(minutes=5) < latest <= NOW


def test_snapshots_belong_to_completed_scans(demo_engine: Engine) -> None:
    scans = {
        i: (status, found)
        for i, status, found in _all(
            demo_engine, select(ScanSession.id, ScanSession.status, ScanSession.opportunities_found)
        )
    }
    links = [s for (s,) in _all(demo_engine, select(OpportunitySnapshot.scan_session_id))]
    linked = [s for s in links if s is not None]
    existing = [s for s in linked if s in scans]
    assert len(linked) > ROWS / 2
    assert len(existing) >= 0.9 * len(linked)
    assert all(scans[s][0] == "COMPLETED" for s in existing)
    per_scan: dict[str, int] = defaultdict(int)
    for s in existing:
        per_scan[s] += 1
    assert all(found == per_scan.get(i, 0) for i, (_, found) in scans.items())


def _unhealthy_checks(engine: Engine) -> dict[str, list[datetime]]:
    out: dict[str, list[datetime]] = defaultdict(list)
    for service, ts in _all(
        engine,
        select(SystemHealthStatus.service_name, SystemHealthStatus.check_timestamp).where(
            SystemHealthStatus.status.in_(UNHEALTHY)
        ),
    ):
        out[service].append(ts)
    return out


def _near(ts: datetime, marks: list[datetime]) -> bool:
    return any(abs(ts - m) <= NEAR for m in marks)


def test_error_bursts_coincide_with_unhealthy_service(demo_engine: Engine) -> None:
    health_from = _all(demo_engine, select(func.min(SystemHealthStatus.check_timestamp)))[0][0]
    bad = _unhealthy_checks(demo_engine)
    errors = [
        (s, t)
        for s, t in _all(
            demo_engine,
            select(CriticalErrorLog.service, CriticalErrorLog.created_at).where(
                CriticalErrorLog.created_at >= health_from
            ),
        )
        if s in demo.vocab.HEALTH_SERVICES
    ]
    unhealthy_share = sum(map(len, bad.values())) / _count(demo_engine, SystemHealthStatus)
    in_burst = sum(_near(t, bad.get(s, [])) for s, t in errors) / len(errors)
    assert len(errors) > 50
    assert unhealthy_share < 0.35
    assert in_burst > 0.6 > unhealthy_share + 0.2


def test_failed_scans_fall_in_dependency_outages(demo_engine: Engine) -> None:
    health_from = _all(demo_engine, select(func.min(SystemHealthStatus.check_timestamp)))[0][0]
    bad = _unhealthy_checks(demo_engine)
    marks = [t for s in demo.vocab.SCAN_DEPENDENCIES for t in bad.get(s, [])]
    failed = [
        t
        for (t,) in _all(
            demo_engine,
            select(ScanSession.started_at).where(
                ScanSession.status == "FAILED", ScanSession.started_at >= health_from
            ),
        )
    ]
    completed = [
        t
        for (t,) in _all(
            demo_engine,
            select(ScanSession.started_at).where(
                ScanSession.status == "COMPLETED", ScanSession.started_at >= health_from
            ),
        )
    ]
    assert len(failed) >= 5
    failed_share = sum(_near(t, marks) for t in failed) / len(failed)
    completed_share = sum(_near(t, marks) for t in completed) / len(completed)
    assert failed_share > 0.8
    assert failed_share > completed_share + 0.3


def test_activation_precedes_better_test_runs(demo_engine: Engine) -> None:
    active = _all(
        demo_engine,
        select(SandboxStrategyConfig.id, SandboxStrategyConfig.deployed_at).where(
            SandboxStrategyConfig.is_active.is_(True)
        ),
    )
    assert active
    compared = 0
    for config_id, at in active:
        runs = _all(
            demo_engine,
            select(SandboxTestRun.created_at, SandboxTestRun.opportunities_found).where(
                SandboxTestRun.config_id == config_id
            ),
        )
        before = [n for t, n in runs if t < at]
        after = [n for t, n in runs if t > at]
        if before and after:
            compared += 1
            assert sum(after) / len(after) > sum(before) / len(before) + 2
    assert compared >= 1


def test_oddities_exist(demo_engine: Engine) -> None:
    texts = [v for (v,) in _all(demo_engine, select(SystemHealthStatus.response_time_ms))]
    assert any(v is None or not v.strip().isdigit() for v in texts)
    assert any(v is not None and v.isdigit() for v in texts)
    statuses = {s for (s,) in _all(demo_engine, select(SystemHealthStatus.status).distinct())}
    assert {"HEALTHY", "DEGRADED", "DOWN"} <= statuses
    assert statuses - {"HEALTHY", "DEGRADED", "DOWN"}, "odd statuses (lowercase, UNKNOWN, ...)"
    stale = _count(
        demo_engine,
        ScanSession,
        ScanSession.status == "RUNNING",
        ScanSession.started_at < NOW - timedelta(hours=1),
    )
    assert stale >= 1
    assert _count(demo_engine, ScanSession, ScanSession.completed_at < ScanSession.started_at) >= 1
    datas = [d for (d,) in _all(demo_engine, select(OpportunitySnapshot.data))]
    assert any(d.get("max_profit") == "Unlimited" for d in datas)
    assert any("legs" in d for d in datas) and any("stock_price" in d for d in datas)
    assert (
        _count(demo_engine, CriticalErrorLog, CriticalErrorLog.resolution_notes.is_not(None)) >= 1
    )
    severities = {s for (s,) in _all(demo_engine, select(CriticalErrorLog.severity).distinct())}
    assert severities == {"HIGH", "MEDIUM", "LOW"}
    configs = [c for (c,) in _all(demo_engine, select(SandboxStrategyConfig.config_data))]
    assert any("universe.primary_symbols" in c for c in configs)
    assert any(c.get("risk", {}).get("loss_limit", 0) < 0 for c in configs)


def test_stale_metric_columns_disagree_with_data(demo_engine: Engine) -> None:
    rows = _all(demo_engine, select(OpportunitySnapshot.premium, OpportunitySnapshot.data))
    assert any(
        isinstance(d.get("premium"), float) and abs(d["premium"] - p) > 1e-9 for p, d in rows
    )


def test_sqlite_keeps_backend_dangling_references_and_mixed_precision(tmp_path: Path) -> None:
    eng = _sqlite_engine(tmp_path, "odd.db")
    try:
        demo.generate(eng, rows=2000, seed=7, now=NOW)
        with eng.connect() as conn:
            batch = conn.execute(
                text(
                    "SELECT count(*) FROM sandbox_test_runs WHERE config_id LIKE '%\\_batch\\_%' "
                    "ESCAPE '\\'"
                )
            ).scalar_one()
            dangling = conn.execute(
                text(
                    "SELECT count(*) FROM opportunity_snapshots WHERE scan_session_id IS NOT "
                    "NULL AND scan_session_id NOT IN (SELECT id FROM scan_sessions)"
                )
            ).scalar_one()
            lengths = {
                n
                for (n,) in conn.execute(
                    text("SELECT DISTINCT length(check_timestamp) FROM system_health_status")
                )
            }
        assert batch >= 1
        assert dangling >= 1
        assert {19, 26} <= lengths  # with and without microseconds
    finally:
        eng.dispose()


def _last_day_counts(eng: Engine, now: datetime) -> dict[str, int]:
    day = now - timedelta(hours=24)
    return {
        "health": _count(eng, SystemHealthStatus, SystemHealthStatus.check_timestamp >= day),
        "errors": _count(eng, CriticalErrorLog, CriticalErrorLog.created_at >= day),
        "scans": _count(eng, ScanSession, ScanSession.started_at >= day),
        "snapshots": _count(eng, OpportunitySnapshot, OpportunitySnapshot.created_at >= day),
        "unexpired": _count(eng, OpportunitySnapshot, OpportunitySnapshot.expires_at > now),
    }


def test_history_profile_keeps_the_last_day_constant(tmp_path: Path) -> None:
    small, big = _sqlite_engine(tmp_path, "small.db"), _sqlite_engine(tmp_path, "big.db")
    try:
        demo.generate(small, rows=6000, seed=7, now=NOW)
        demo.generate(big, rows=12000, seed=7, now=NOW)
        a, b = _last_day_counts(small, NOW), _last_day_counts(big, NOW)
        for key in a:
            assert 0 < a[key] < 6000, key
            assert abs(a[key] - b[key]) <= 0.1 * a[key], (key, a, b)
        assert a["unexpired"] < 5000
        oldest = [
            _all(e, select(func.min(SystemHealthStatus.check_timestamp)))[0][0]
            for e in (small, big)
        ]
        assert oldest[1] < oldest[0] - timedelta(hours=12)
    finally:
        small.dispose()
        big.dispose()


def test_window_profile_puts_everything_in_the_last_day(tmp_path: Path) -> None:
    eng = _sqlite_engine(tmp_path, "window.db")
    try:
        demo.generate(eng, rows=3000, seed=7, profile="window", now=NOW)
        counts = _last_day_counts(eng, NOW)
        assert counts == {
            "health": 3000,
            "errors": 3000,
            "scans": 3000,
            "snapshots": 3000,
            "unexpired": 3000,
        }
    finally:
        eng.dispose()


def test_history_grows_back_in_time_with_partial_old_snapshots(tmp_path: Path) -> None:
    eng = _sqlite_engine(tmp_path, "long.db")
    try:
        demo.generate(eng, rows=20000, seed=7, now=NOW)
        old = _all(
            eng,
            select(OpportunitySnapshot.data).where(
                OpportunitySnapshot.created_at < NOW - timedelta(days=7)
            ),
        )
        recent = _all(
            eng,
            select(OpportunitySnapshot.data).where(
                OpportunitySnapshot.created_at > NOW - timedelta(days=1)
            ),
        )
        assert old and any(set(d) == set(demo.snaps.PARTIAL_KEYS) for (d,) in old)
        assert not any(set(d) == set(demo.snaps.PARTIAL_KEYS) for (d,) in recent)
    finally:
        eng.dispose()


def test_rejects_unknown_profile(tmp_path: Path) -> None:
    eng = _sqlite_engine(tmp_path, "bad.db")
    try:
        with pytest.raises(ValueError, match="profile"):
            demo.generate(eng, rows=10, profile="everything", now=NOW)
    finally:
        eng.dispose()


def test_progress_reaches_one(tmp_path: Path) -> None:
    eng = _sqlite_engine(tmp_path, "progress.db")
    seen: list[float] = []
    try:
        demo.generate(eng, rows=500, now=NOW, progress=lambda frac, _what: seen.append(frac))
    finally:
        eng.dispose()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5


def test_cli_fills_a_new_sqlite_file(tmp_path: Path) -> None:
    target = tmp_path / "cli.db"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo.generate",
            "--url",
            f"sqlite:///{target}",
            "--rows",
            "200",
            "--seed",
            "3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "scan_sessions" in proc.stdout and "200" in proc.stdout
    assert "%" in proc.stderr  # the progress bar
    eng = make_engine(f"sqlite:///{target}", read_timeout=False)
    try:
        assert _count(eng, ScanSession) == 200
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM console_audit_log")).scalar_one() == 0
    finally:
        eng.dispose()


METRIC_KEYS = ("premium", "max_loss", "probability_profit", "expected_value", "days_to_expiration")


@pytest.mark.parametrize(
    "builder", [b for _, b in demo.snaps.FREE_SHAPES] + list(demo.snaps.BY_SCAN_STRATEGY.values())
)
def test_snapshot_shapes_are_valid_json_matching_their_columns(builder: Any) -> None:
    from random import Random

    r = Random(1).random
    for i in range(200):
        oid, stype, data, metrics = builder(
            r, i, "AAPL", 202.3, "2026-11-20T11:59:59.123456", 20412, 1795000000 + i
        )
        doc = json.loads(data)
        assert doc["id"] == oid and doc["symbol"] == "AAPL" and doc["strategy_type"] == stype
        assert doc["created_at"] == "2026-11-20T11:59:59.123456"
        for key, value in zip(METRIC_KEYS, metrics, strict=False):
            if isinstance(doc.get(key), (int, float)):
                assert doc[key] == pytest.approx(value), (key, doc)
        price = doc.get("underlying_price", doc.get("stock_price"))
        assert price == pytest.approx(metrics[5]) or builder is demo.snaps.fallback


def test_import_is_cheap() -> None:
    code = "import sys, demo.generate; print(sorted(m for m in ('streamlit', 'pandas', 'alembic') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_sqlite_load_keeps_existing_rows_and_every_index(tmp_path: Path) -> None:
    from sqlalchemy import insert, inspect

    eng = _sqlite_engine(tmp_path, "keep.db")
    try:
        with eng.begin() as conn:
            conn.execute(
                insert(ScanSession).values(
                    id="backend-own-scan",
                    strategy="quick_scalp",
                    started_at=NOW - timedelta(days=3),
                    status="COMPLETED",
                )
            )
        demo.generate(eng, rows=500, now=NOW)
        assert _count(eng, ScanSession) == 501
        assert _count(eng, ScanSession, ScanSession.id == "backend-own-scan") == 1
        insp = inspect(eng)
        for name, table in Base.metadata.tables.items():
            have = {ix["name"] for ix in insp.get_indexes(name)}
            assert {ix.name for ix in table.indexes} <= have, name
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() != 0  # not left OFF
    finally:
        eng.dispose()


@pytest.mark.parametrize("profile", demo.PROFILES)
@pytest.mark.parametrize("rows", [0, 1, 7])
def test_tiny_sizes_are_exact(tmp_path: Path, rows: int, profile: str) -> None:
    eng = _sqlite_engine(tmp_path, "tiny.db")
    try:
        written = demo.generate(eng, rows=rows, profile=profile, now=NOW)
        for table in demo.BIG_TABLES:
            assert written[table] == _count(eng, Base.metadata.tables[table]) == rows
    finally:
        eng.dispose()


def test_nothing_happens_after_now(demo_engine: Engine) -> None:
    columns = [
        SystemHealthStatus.check_timestamp,
        CriticalErrorLog.created_at,
        CriticalErrorLog.resolved_at,
        ScanSession.started_at,
        ScanSession.completed_at,
        OpportunitySnapshot.created_at,
        OpportunitySnapshot.last_updated,
        SandboxTestRun.created_at,
        SandboxStrategyConfig.updated_at,
    ]
    for col in columns:
        latest = _all(demo_engine, select(func.max(col)))[0][0]
        assert latest is not None and latest <= NOW, col
