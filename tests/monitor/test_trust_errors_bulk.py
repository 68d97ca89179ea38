"""Bulk resolve/unresolve on three engines: exactly the rows counted (window and status, or explicitly the
whole history), every earlier note kept in the resolution history, the audit log with the real count,
and a clear refusal when the history table was never created."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from db.commands.errors import MIGRATE_COMMAND, UNKNOWN_ACTOR, resolve_errors, unresolve_errors
from db.errors import ValidationFailed
from db.models import CriticalErrorLog as E
from db.own_models import AuditLog, ErrorResolution
from db.queries import errors as eq
from tests.monitor.conftest import NOW, NOW_UTC, OPS, OPS2, add_errors, ago

SINCE, UNTIL = NOW_UTC - timedelta(hours=24), NOW_UTC
KEY = {"error_type": "t", "service": "svc", "messages": ("load 1", "load 2")}
N_OPEN, N_DONE, M_OPEN, M_DONE = (
    5,
    2,
    1,
    3,
)  # in-window unresolved/resolved, out-of-window unresolved/resolved


def _seed(engine: Engine) -> dict[str, list[str]]:
    """The group in and out of the window, some resolved days ago by someone else with their notes,
    plus a look-alike group (another service) that no action may touch."""
    return {
        "open": add_errors(
            engine,
            [
                {"message": f"load {1 + i % 2}", "created_at": ago(hours=i + 1)}
                for i in range(N_OPEN)
            ],
        ),
        "done": add_errors(
            engine,
            [
                {
                    "message": "load 1",
                    "created_at": ago(hours=2 + i),
                    "resolved_at": ago(hours=1),
                    "resolution_notes": f"fixed by A #{i}",
                }
                for i in range(N_DONE)
            ],
        ),
        "old_open": add_errors(
            engine, [{"message": "load 2", "created_at": ago(days=9)} for _ in range(M_OPEN)]
        ),
        "old_done": add_errors(
            engine,
            [
                {
                    "message": "load 1",
                    "created_at": ago(days=5 + i),
                    "resolved_at": ago(days=4),
                    "resolution_notes": f"old fix #{i}",
                }
                for i in range(M_DONE)
            ],
        ),
        "other": add_errors(
            engine,
            [
                {"message": "load 1", "service": "other", "created_at": ago(hours=1)},
                {
                    "message": "load 1",
                    "service": "other",
                    "created_at": ago(hours=2),
                    "resolved_at": ago(hours=1),
                    "resolution_notes": "theirs",
                },
            ],
        ),
    }


def _rows(engine: Engine) -> dict[str, tuple[bool, str | None]]:
    with Session(engine) as s:
        return {
            r.id: (r.resolved_at is not None, r.resolution_notes)
            for r in s.execute(select(E.id, E.resolved_at, E.resolution_notes))
        }


def _history(engine: Engine, error_id: str) -> list[tuple[str, str, str | None]]:
    with Session(engine) as s:
        hist = eq.resolution_history(s, error_id=error_id)
    return list(zip(hist["action"], hist["actor"], hist["note"], strict=True))


def _audits(engine: Engine, action: str) -> int:
    with Session(engine) as s:
        return s.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        ).scalar_one()


def test_counts_and_ids_of_the_window_and_of_the_whole_history(engine: Engine) -> None:
    seeded = _seed(engine)
    with Session(engine) as s:
        counts = eq.group_counts(s, **KEY, since=SINCE, until=UNTIL)
        shown_open = eq.occurrence_ids(s, **KEY, status="unresolved", since=SINCE, until=UNTIL)
        shown_done = eq.occurrence_ids(s, **KEY, status="resolved", since=SINCE, until=UNTIL)
        all_done = eq.occurrence_ids(s, **KEY, status="resolved")
    assert counts == eq.GroupCounts(
        window_unresolved=N_OPEN,
        window_resolved=N_DONE,
        history_unresolved=N_OPEN + M_OPEN,
        history_resolved=N_DONE + M_DONE,
    )
    assert sorted(shown_open) == sorted(seeded["open"]) and sorted(shown_done) == sorted(
        seeded["done"]
    )
    assert sorted(all_done) == sorted(seeded["done"] + seeded["old_done"])


def test_resolving_what_the_window_shows_leaves_the_rest_and_every_note_alone(
    engine: Engine,
) -> None:
    seeded = _seed(engine)
    before = _rows(engine)
    with Session(engine) as s:
        ids = eq.occurrence_ids(s, **KEY, status="unresolved", since=SINCE, until=UNTIL)
    result = resolve_errors(engine, identity=OPS, ids=ids, note="restarted the loader")
    assert result.count == N_OPEN == 5
    after = _rows(engine)
    assert {i for i in after if after[i] != before[i]} == set(seeded["open"])
    assert all(after[i] == (True, "restarted the loader") for i in seeded["open"])
    assert _audits(engine, "resolve_error") == 5  # one audit row per event actually changed
    assert _history(engine, seeded["open"][0]) == [
        ("resolved", "ops@example.com", "restarted the loader")
    ]


def test_unresolving_keeps_the_earlier_note_in_the_history(engine: Engine) -> None:
    seeded = _seed(engine)
    first = seeded["done"][0]
    result = unresolve_errors(engine, identity=OPS, ids=seeded["done"], note="came back")
    assert result.count == N_DONE == 2
    assert _rows(engine)[first] == (
        False,
        None,
    )  # the backend's row holds the latest state only ...
    # ... and the history holds what it held before: newest first, the unresolve, then the resolution.
    assert _history(engine, first) == [
        ("unresolved", "ops@example.com", "came back"),
        ("resolved", UNKNOWN_ACTOR, "fixed by A #0"),
    ]
    # Resolved again, unresolved again: every note stays, the earlier resolution is not recorded twice.
    resolve_errors(engine, identity=OPS2, ids=[first], note="second fix")
    unresolve_errors(engine, identity=OPS, ids=[first], note="still failing")
    assert _history(engine, first) == [
        ("unresolved", "ops@example.com", "still failing"),
        ("resolved", "other@example.com", "second fix"),
        ("unresolved", "ops@example.com", "came back"),
        ("resolved", UNKNOWN_ACTOR, "fixed by A #0"),
    ]
    assert _audits(engine, "unresolve_error") == 3


def test_resolving_an_already_resolved_event_keeps_its_note(engine: Engine) -> None:
    seeded = _seed(engine)
    target = seeded["old_done"][0]
    result = resolve_errors(engine, identity=OPS, ids=[target, seeded["old_open"][0]], note="mine")
    assert result.changed == (seeded["old_open"][0],)
    assert [a.id for a in result.already] == [target]
    assert _rows(engine)[target] == (True, "old fix #0")
    assert _history(engine, target) == []  # nothing happened to it


def test_the_resolver_known_from_the_audit_log_is_kept_as_the_actor(engine: Engine) -> None:
    ids = add_errors(engine, [{"created_at": ago(hours=1)}])
    resolve_errors(engine, identity=OPS2, ids=ids, note="by the other")
    with engine.begin() as conn:  # as a database looked before the history table: no history rows
        conn.execute(ErrorResolution.__table__.delete())
    unresolve_errors(engine, identity=OPS, ids=ids, note="reopened")
    assert _history(engine, ids[0]) == [
        ("unresolved", "ops@example.com", "reopened"),
        ("resolved", "other@example.com", "by the other"),
    ]


def test_without_the_history_table_writes_are_refused_and_reads_say_so(engine: Engine) -> None:
    seeded = _seed(engine)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {ErrorResolution.__tablename__}"))
    before = _rows(engine)
    for change in (resolve_errors, unresolve_errors):
        with pytest.raises(ValidationFailed) as exc:
            change(engine, identity=OPS, ids=seeded["open"] + seeded["done"], note="x")
        (message,) = exc.value.errors["history"]
        assert ErrorResolution.__tablename__ in message and MIGRATE_COMMAND in message
    assert _rows(engine) == before
    assert _audits(engine, "resolve_error") == _audits(engine, "unresolve_error") == 0
    with Session(engine) as s:
        hist = eq.resolution_history(s, error_id=seeded["done"][0])
    assert hist.empty and hist.attrs["missing_table"] is True


def test_a_message_of_megabytes_leaves_the_database_cut_for_the_table(engine: Engine) -> None:
    big = "x" * 60_000  # the most MariaDB's TEXT holds; SQLite and PostgreSQL take megabytes alike
    add_errors(
        engine,
        [
            {
                "message": big,
                "created_at": ago(hours=1),
                "resolved_at": ago(minutes=5),
                "resolution_notes": "n" * 10_000,
            }
        ],
    )
    with Session(engine) as s:
        occ = eq.occurrences(
            s, error_type="t", service="svc", messages=(big,), since=SINCE, until=UNTIL
        )
        (one,) = eq.occurrence(s, error_id=occ["id"].iloc[0])["message"]
    assert occ["message"].iloc[0] == "x" * eq.CELL_CHARS + "…"
    assert occ["resolution_notes"].iloc[0] == "n" * eq.CELL_CHARS + "…"
    assert len(one) == 60_000  # the detail still has the whole


def test_rows_dated_after_the_window_are_counted(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"created_at": NOW.replace(year=2099)},
            {"created_at": NOW + timedelta(minutes=1)},
            {"created_at": ago(minutes=1)},
        ],
    )
    with Session(engine) as s:
        assert eq.future_count(s, after=UNTIL) == 2
