"""The resolve flow on three engines: note required, permission, audit, concurrent resolvers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.commands.errors import resolve_errors, resolve_group, unresolve_errors, unresolve_group
from db.errors import PermissionDenied, ValidationFailed, classify
from db.models import CriticalErrorLog as E
from db.own_models import AuditLog
from tests.monitor.conftest import ANALYST, OPS, OPS2, add_errors, ago


def _state(engine: Engine, ids: list[str]) -> dict[str, tuple[object, object]]:
    with Session(engine) as s:
        return {
            r.id: (r.resolved_at, r.resolution_notes)
            for r in s.execute(select(E.id, E.resolved_at, E.resolution_notes).where(E.id.in_(ids)))
        }


def _audit_count(engine: Engine, action: str = "resolve_error") -> int:
    with Session(engine) as s:
        return s.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        ).scalar_one()


def test_resolve_writes_time_and_note_and_an_audit_row_per_error(engine: Engine) -> None:
    ids = add_errors(
        engine,
        [{"created_at": ago(hours=1)}, {"created_at": ago(hours=2)}, {"created_at": ago(hours=3)}],
    )
    result = resolve_errors(engine, identity=OPS, ids=ids[:2], note="  restarted the loader  ")
    assert result.count == 2 and result.already == ()
    state = _state(engine, ids)
    assert all(state[i][0] is not None and state[i][1] == "restarted the loader" for i in ids[:2])
    assert state[ids[2]] == (None, None)
    with Session(engine) as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.target_id)).all()
    assert sorted(r.target_id for r in rows) == sorted(ids[:2])
    assert {r.actor for r in rows} == {"ops@example.com"}
    assert rows[0].before == {"resolved_at": None, "resolution_notes": None}
    assert rows[0].after["resolution_notes"] == "restarted the loader"


@pytest.mark.parametrize("note", ["", "   "])
def test_a_note_is_required_and_nothing_is_written_without_one(engine: Engine, note: str) -> None:
    ids = add_errors(engine, [{"created_at": ago(hours=1)}])
    with pytest.raises(ValidationFailed) as exc:
        resolve_errors(engine, identity=OPS, ids=ids, note=note)
    assert "note" in exc.value.errors
    assert _state(engine, ids)[ids[0]] == (None, None) and _audit_count(engine) == 0


def test_without_the_permission_nothing_is_written(engine: Engine) -> None:
    ids = add_errors(engine, [{"created_at": ago(hours=1)}])
    with pytest.raises(PermissionDenied):
        resolve_errors(engine, identity=ANALYST, ids=ids, note="x")
    with pytest.raises(PermissionDenied):
        resolve_group(
            engine, identity=ANALYST, error_type="t", service="svc", messages=["m"], note="x"
        )
    assert _state(engine, ids)[ids[0]] == (None, None) and _audit_count(engine) == 0


def test_second_resolver_hears_who_was_first_and_nothing_is_written_twice(engine: Engine) -> None:
    ids = add_errors(engine, [{"created_at": ago(hours=1)}])
    resolve_errors(engine, identity=OPS, ids=ids, note="first")
    second = resolve_errors(engine, identity=OPS2, ids=ids, note="second")
    assert second.count == 0
    assert [(a.id, a.actor) for a in second.already] == [(ids[0], "ops@example.com")]
    assert second.already[0].at is not None
    assert _state(engine, ids)[ids[0]][1] == "first" and _audit_count(engine) == 1


def test_concurrent_resolvers_each_error_resolved_once(write_engine: Engine) -> None:
    # Commands run on the write engine (no read timeout), as the page's data.write_engine() is.
    engine = write_engine
    ids = add_errors(engine, [{"created_at": ago(minutes=i + 1)} for i in range(40)])
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(identity, chosen):  # type: ignore[no-untyped-def]
        barrier.wait()
        results[identity.user] = resolve_errors(
            engine, identity=identity, ids=chosen, note=identity.user
        )

    a = threading.Thread(target=run, args=(OPS, ids[:30]))
    b = threading.Thread(target=run, args=(OPS2, ids[10:]))
    a.start()
    b.start()
    a.join(30)
    b.join(30)  # noqa: E702
    ra, rb = results["ops@example.com"], results["other@example.com"]
    assert set(ra.changed) | set(rb.changed) == set(ids)  # type: ignore[attr-defined]
    assert not set(ra.changed) & set(rb.changed)  # type: ignore[attr-defined]
    # Every overlapping id the loser did not get is reported with the winner's name.
    for res, other in ((ra, "other@example.com"), (rb, "ops@example.com")):
        assert all(x.actor == other for x in res.already)  # type: ignore[attr-defined]
    assert len(ra.already) + len(rb.already) == 20  # type: ignore[attr-defined]
    assert _audit_count(engine) == 40
    notes = {v[1] for v in _state(engine, ids).values()}
    assert notes <= {"ops@example.com", "other@example.com"}


def test_unresolve_and_group_actions(engine: Engine) -> None:
    ids = add_errors(
        engine,
        [
            {"message": "load 1", "created_at": ago(hours=1)},
            {"message": "load 2", "created_at": ago(days=40)},
            {"message": "load 3", "service": "other", "created_at": ago(hours=1)},
        ],
    )
    res = resolve_group(
        engine, identity=OPS, error_type="t", service="svc", messages=["load 1", "load 2"], note="n"
    )
    assert sorted(res.changed) == sorted(ids[:2])  # all occurrences, also older than any window
    assert _state(engine, ids)[ids[2]] == (None, None)
    back = unresolve_errors(engine, identity=OPS2, ids=[ids[0]], note="came back")
    assert back.changed == (ids[0],) and _state(engine, ids)[ids[0]] == (None, None)
    again = unresolve_errors(engine, identity=OPS, ids=[ids[0]], note="x")
    assert again.count == 0 and again.already[0].actor == "other@example.com"
    rest = unresolve_group(
        engine,
        identity=OPS,
        error_type="t",
        service="svc",
        messages=["load 1", "load 2"],
        note="reopen",
    )
    assert rest.changed == (ids[1],)
    assert _audit_count(engine, "unresolve_error") == 2


def test_unknown_ids_are_reported_missing(engine: Engine) -> None:
    res = resolve_errors(engine, identity=OPS, ids=["no-such-id"], note="x")
    assert res.missing == ("no-such-id",) and res.count == 0


def test_concurrent_resolvers_over_several_chunks_neither_deadlock_nor_double_write(
    write_engine: Engine,
) -> None:
    engine = write_engine
    ids = add_errors(engine, [{"created_at": ago(seconds=i + 1)} for i in range(1100)])
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}
    failures: list[BaseException] = []

    def run(identity, chosen):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            results[identity.user] = resolve_errors(
                engine, identity=identity, ids=chosen, note="bulk"
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(OPS, ids[::-1])),
        threading.Thread(target=run, args=(OPS2, ids)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures
    changed = [set(r.changed) for r in results.values()]  # type: ignore[attr-defined]
    assert changed[0] | changed[1] == set(ids) and not changed[0] & changed[1]
    assert _audit_count(engine) == 1100


def test_a_resolve_that_waited_too_long_for_another_writers_rows_is_tried_again(
    write_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from db.commands import errors as commands

    ids = add_errors(write_engine, [{"created_at": ago(minutes=1)}, {"created_at": ago(minutes=2)}])
    if (
        write_engine.dialect.name == "postgresql"
    ):  # the real lock timeout, as a busy backend gives it
        holder = write_engine.connect()
        trans = holder.begin()
        holder.execute(text("SET LOCAL lock_timeout = '300ms'"))
        holder.execute(select(E.id).where(E.id == ids[0]).with_for_update())
        other = write_engine.connect()
        other_trans = other.begin()
        other.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(OperationalError) as err:
            other.execute(select(E.id).where(E.id == ids[0]).with_for_update())
        other_trans.rollback()
        other.close()
        trans.rollback()
        holder.close()
        assert (
            classify(err.value).kind == "busy"
        )  # "another process holds a write lock", not "narrow the filter"
        lock_error = err.value
    else:
        lock_error = OperationalError(
            "SELECT", {}, Exception("canceling statement due to lock timeout")
        )
    real = commands._change_once
    calls = {"n": 0}

    def busy_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise lock_error
        return real(*args, **kwargs)

    monkeypatch.setattr(commands, "_change_once", busy_first)
    res = resolve_errors(write_engine, identity=OPS, ids=ids, note="after the other writer")
    assert calls["n"] == 2 and sorted(res.changed) == sorted(ids)
    assert _audit_count(write_engine) == 2  # the failed try wrote nothing


def test_a_resolve_busy_every_time_gives_up_with_the_busy_problem_and_writes_nothing(
    write_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.commands import errors as commands

    ids = add_errors(write_engine, [{"created_at": ago(minutes=1)}])
    lock_error = OperationalError(
        "SELECT", {}, Exception("Lock wait timeout exceeded; try restarting transaction")
    )
    calls = {"n": 0}

    def always_busy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise lock_error

    monkeypatch.setattr(commands, "_change_once", always_busy)
    with pytest.raises(OperationalError) as err:
        resolve_errors(write_engine, identity=OPS, ids=ids, note="n")
    assert calls["n"] == commands.BUSY_ATTEMPTS
    assert classify(err.value).kind == "busy"
    assert _state(write_engine, ids)[ids[0]] == (None, None) and _audit_count(write_engine) == 0
