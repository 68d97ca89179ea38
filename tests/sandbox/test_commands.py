"""Config writes on all three engines: versions, conflicts, double click, activation, rollback, delete."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.commands import audit as audit_mod
from db.commands import sandbox as cmd
from db.errors import PermissionDenied, ValidationFailed
from db.models import SandboxStrategyConfig
from db.own_models import AuditLog, ConfigHistory
from tests.sandbox.sandbox_rows import REAL_CONFIG, T0, add_chat, add_config, add_run


def _row(engine, cid):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get(SandboxStrategyConfig, cid)


def _count(engine, model, **where):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.execute(stmt).scalar_one()


def _edit(data, dte):  # type: ignore[no-untyped-def]
    return {**data, "trading": {**data["trading"], "target_dte_range": dte}}


def test_save_makes_a_new_version_and_keeps_the_previous(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    res = cmd.save_config(
        engine,
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="  Weekly v2 ",
        strategy_id="ThetaCropWeekly",
        user_id="default_user",
        config_data=_edit(REAL_CONFIG, [7, 28]),
        note="wider range",
    )
    assert res.version == 2 and not res.repeated
    row = _row(engine, cid)
    assert row.version == 2 and row.name == "Weekly v2"
    assert row.config_data["trading"]["target_dte_range"] == [7, 28]
    assert (
        row.updated_at is not None
        and abs((row.updated_at - audit_mod.utcnow()).total_seconds()) < 3600
    )
    with Session(engine) as s:
        hist = (
            s.execute(
                select(ConfigHistory)
                .where(ConfigHistory.config_id == cid)
                .order_by(ConfigHistory.version)
            )
            .scalars()
            .all()
        )
        assert [h.version for h in hist] == [1, 2]
        assert hist[0].config_data == REAL_CONFIG and hist[0].changed_by == cmd.BEFORE_CONSOLE
        assert hist[1].changed_by == "dev@example.com" and hist[1].note == "wider range"
        log = s.execute(select(AuditLog)).scalars().all()
        assert [(a.action, a.actor, a.target_id) for a in log] == [
            ("config.save", "dev@example.com", cid)
        ]
        assert log[0].before["version"] == 1 and log[0].after["version"] == 2


def test_concurrent_save_conflicts_and_writes_nothing(engine, dev, dev2):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    # Both sessions loaded version 1; the first one saves.
    cmd.save_config(
        engine,
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="A",
        strategy_id="S",
        user_id="u",
        config_data=_edit(REAL_CONFIG, [1, 2]),
    )
    with pytest.raises(cmd.SaveConflict) as info:
        cmd.save_config(
            engine,
            identity=dev2,
            config_id=cid,
            loaded_version=1,
            name="B",
            strategy_id="S",
            user_id="u",
            config_data=_edit(REAL_CONFIG, [3, 4]),
        )
    assert info.value.current_version == 2 and info.value.loaded_version == 1
    row = _row(engine, cid)
    assert row.name == "A" and row.version == 2
    assert _count(engine, ConfigHistory, config_id=cid) == 2
    assert _count(engine, AuditLog) == 1
    # "Save on top": the second user saves over the version they were shown.
    res = cmd.save_config(
        engine,
        identity=dev2,
        config_id=cid,
        loaded_version=2,
        name="B",
        strategy_id="S",
        user_id="u",
        config_data=_edit(REAL_CONFIG, [3, 4]),
    )
    assert res.version == 3 and _row(engine, cid).name == "B"


def test_double_click_makes_one_version(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    kwargs = dict(
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="Once",
        strategy_id="S",
        user_id="u",
        config_data=_edit(REAL_CONFIG, [5, 9]),
    )
    first = cmd.save_config(engine, **kwargs)
    second = cmd.save_config(engine, **kwargs)
    assert (first.version, first.repeated) == (2, False)
    assert (second.version, second.repeated) == (2, True)
    assert _row(engine, cid).version == 2
    assert _count(engine, ConfigHistory, config_id=cid) == 2
    assert _count(engine, AuditLog) == 1


def test_save_to_deleted_config_is_a_conflict(engine, dev):  # type: ignore[no-untyped-def]
    with pytest.raises(cmd.SaveConflict) as info:
        cmd.save_config(
            engine,
            identity=dev,
            config_id="missing",
            loaded_version=1,
            name="x",
            strategy_id="S",
            user_id="u",
            config_data={},
        )
    assert info.value.current_version is None


def test_null_version_reads_as_one(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine, version=None)
    assert (
        cmd.save_config(
            engine,
            identity=dev,
            config_id=cid,
            loaded_version=1,
            name="x",
            strategy_id="S",
            user_id="u",
            config_data={},
        ).version
        == 2
    )


def test_create_then_rollback(engine, dev):  # type: ignore[no-untyped-def]
    cid = cmd.create_config(
        engine,
        identity=dev,
        name="New",
        strategy_id="IronCondor",
        user_id="u",
        config_data=REAL_CONFIG,
        note="first",
    )
    cmd.save_config(
        engine,
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="New",
        strategy_id="IronCondor",
        user_id="u",
        config_data=_edit(REAL_CONFIG, [1, 3]),
    )
    res = cmd.rollback_config(engine, identity=dev, config_id=cid, loaded_version=2, to_version=1)
    assert res.version == 3
    row = _row(engine, cid)
    assert row.config_data == REAL_CONFIG and row.version == 3 and row.created_at is not None
    with Session(engine) as s:
        actions = (
            s.execute(select(AuditLog.action).order_by(AuditLog.at, AuditLog.action))
            .scalars()
            .all()
        )
        assert sorted(actions) == ["config.create", "config.rollback", "config.save"]
        h3 = s.execute(select(ConfigHistory).where(ConfigHistory.version == 3)).scalar_one()
        assert h3.note == "rollback to version 1"
    with pytest.raises(ValidationFailed):
        cmd.rollback_config(engine, identity=dev, config_id=cid, loaded_version=3, to_version=9)


def test_invalid_save_writes_nothing(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    with pytest.raises(ValidationFailed) as info:
        cmd.save_config(
            engine,
            identity=dev,
            config_id=cid,
            loaded_version=1,
            name=" ",
            strategy_id="S",
            user_id="u",
            config_data={"trading": {"delta_target": 3}},
        )
    assert set(info.value.errors) == {"name", "trading.delta_target"}
    assert _row(engine, cid).version == 1 and _count(engine, AuditLog) == 0


def test_one_active_per_strategy(engine, dev):  # type: ignore[no-untyped-def]
    a = add_config(engine, active=True)
    b = add_config(engine)
    other = add_config(engine, strategy_id="IronCondor", active=True)
    lower = add_config(
        engine, strategy_id="thetacropweekly", active=True
    )  # another strategy, byte for byte
    deactivated = cmd.set_active(engine, identity=dev, config_id=b, active=True, note="go")
    assert deactivated == [a]
    assert (_row(engine, a).is_active, _row(engine, b).is_active) == (False, True)
    assert _row(engine, other).is_active and _row(engine, lower).is_active
    assert _row(engine, b).deployed_at is not None
    with Session(engine) as s:
        acts = sorted(s.execute(select(AuditLog.action, AuditLog.target_id)).all())
    assert acts == [("config.activate", b), ("config.deactivate", a)]
    assert cmd.set_active(engine, identity=dev, config_id=b, active=False) == [b]
    assert not _row(engine, b).is_active


def test_delete_rules(engine, dev):  # type: ignore[no-untyped-def]
    with_run, with_chat, empty = add_config(engine), add_config(engine), add_config(engine)
    add_run(engine, with_run, at=T0)
    add_chat(engine, with_chat, at=T0)
    for cid, counts in ((with_run, (1, 0)), (with_chat, (0, 1))):
        with pytest.raises(cmd.HasDependents) as info:
            cmd.delete_config(engine, identity=dev, config_id=cid)
        assert (info.value.test_runs, info.value.conversations) == counts
        assert _row(engine, cid) is not None
    cmd.delete_config(engine, identity=dev, config_id=empty, note="typo")
    assert _row(engine, empty) is None
    with Session(engine) as s:
        entry = s.execute(select(AuditLog)).scalar_one()
    assert entry.action == "config.delete" and entry.before["name"] == "ThetaCrop Weekly Test"


def test_permission_denied_raises_writes_nothing_and_is_logged(engine, analyst, ops, caplog):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    caplog.set_level(logging.WARNING, logger="console.auth")
    calls = [
        lambda who: cmd.save_config(
            engine,
            identity=who,
            config_id=cid,
            loaded_version=1,
            name="x",
            strategy_id="S",
            user_id="u",
            config_data={},
        ),
        lambda who: cmd.create_config(
            engine, identity=who, name="x", strategy_id="S", user_id="u", config_data={}
        ),
        lambda who: cmd.set_active(engine, identity=who, config_id=cid, active=True),
        lambda who: cmd.delete_config(engine, identity=who, config_id=cid),
        lambda who: cmd.rollback_config(
            engine, identity=who, config_id=cid, loaded_version=1, to_version=1
        ),
    ]
    for who in (analyst, ops):
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(who)
    assert _row(engine, cid).version == 1 and not _row(engine, cid).is_active
    assert _count(engine, SandboxStrategyConfig) == 1
    assert _count(engine, AuditLog) == 0 and _count(engine, ConfigHistory) == 0
    denied = [r for r in caplog.records if "permission denied" in r.getMessage()]
    assert len(denied) == 2 * len(calls) and "ann@example.com" in denied[0].getMessage()


def test_fault_between_update_and_audit_writes_nothing(engine, dev, monkeypatch):  # type: ignore[no-untyped-def]
    cid = add_config(engine, active=True)
    peer = add_config(engine)

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("injected fault")

    monkeypatch.setattr(cmd.audit, "record", boom)
    with pytest.raises(RuntimeError):
        cmd.save_config(
            engine,
            identity=dev,
            config_id=cid,
            loaded_version=1,
            name="changed",
            strategy_id="S",
            user_id="u",
            config_data={},
        )
    with pytest.raises(RuntimeError):
        cmd.set_active(engine, identity=dev, config_id=peer, active=True)
    with pytest.raises(RuntimeError):
        cmd.delete_config(engine, identity=dev, config_id=peer)
    row = _row(engine, cid)
    assert (row.version, row.name, row.is_active) == (1, "ThetaCrop Weekly Test", True)
    assert not _row(engine, peer).is_active
    assert _count(engine, ConfigHistory) == 0 and _count(engine, AuditLog) == 0


def test_concurrent_activations_leave_one_active(write_engine, dev):  # type: ignore[no-untyped-def]
    engine = write_engine
    ids = [add_config(engine) for _ in range(4)]
    barrier = threading.Barrier(len(ids))
    failures: list[BaseException] = []

    def activate(cid: str) -> None:
        barrier.wait()
        try:
            cmd.set_active(engine, identity=dev, config_id=cid, active=True)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=activate, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sum(bool(_row(engine, cid).is_active) for cid in ids) == 1
    assert _count(engine, AuditLog, action="config.activate") == 4


def test_truly_concurrent_saves_one_wins_one_conflicts(write_engine, dev, dev2):  # type: ignore[no-untyped-def]
    engine = write_engine
    cid = add_config(engine)
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def save(who, dte):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            outcome[who.user] = cmd.save_config(
                engine,
                identity=who,
                config_id=cid,
                loaded_version=1,
                name=who.user,
                strategy_id="S",
                user_id="u",
                config_data=_edit(REAL_CONFIG, dte),
            )
        except cmd.SaveConflict as exc:
            outcome[who.user] = exc

    threads = [threading.Thread(target=save, args=a) for a in ((dev, [1, 2]), (dev2, [3, 4]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(type(v).__name__ for v in outcome.values())
    assert kinds == ["SaveConflict", "SaveResult"]
    winner = next(k for k, v in outcome.items() if isinstance(v, cmd.SaveResult))
    row = _row(engine, cid)
    assert row.version == 2 and row.name == winner
    assert _count(engine, ConfigHistory, config_id=cid) == 2 and _count(engine, AuditLog) == 1
