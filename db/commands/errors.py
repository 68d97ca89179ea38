"""Writes to critical_error_logs: resolve and unresolve events, one transaction each, audited.

The update is guarded (`... AND resolved_at IS NULL`) after locking the rows, so when two people
resolve the same events at the same time the second one writes nothing and hears who was first.
Every change is also kept in console_error_resolution_history (the backend's row holds only the
latest note): an unresolve first records the resolution it undoes when the history does not hold
it yet (made by the backend, or before the table existed), so no earlier note is ever lost.
Without that table (the database not migrated) nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.auth import RESOLVE_ERRORS, Identity, require
from db.commands import audit
from db.errors import ValidationFailed, classify
from db.models import CriticalErrorLog as E
from db.models import utcnow
from db.own_models import AuditLog, ErrorResolution
from db.queries.common import has_table
from db.queries.errors import MAX_IDS, occurrence_ids

TARGET = "critical_error_log"
RESOLVE, UNRESOLVE = "resolve_error", "unresolve_error"
MAX_NOTE_CHARS = 2_000
_CHUNK = 500  # ids per IN (...) list
# Tries of a resolve whose rows another writer held past the lock timeout (5 s on PostgreSQL).
BUSY_ATTEMPTS = 3
HISTORY_TABLE = ErrorResolution.__tablename__
MIGRATE_COMMAND = "python -m db.schema.migrate"
NO_HISTORY = (
    f"The table {HISTORY_TABLE} (the history of resolutions, which keeps every earlier note) does not "
    f"exist in this database yet. Create it with: {MIGRATE_COMMAND}. Nothing was written."
)
# Who made a resolution the history did not hold yet, when the audit log does not know either.
UNKNOWN_ACTOR = "(not through the console)"


@dataclass(frozen=True)
class Already:
    """An event someone else changed first: by whom (None when not through the console) and when."""

    id: str
    actor: str | None
    at: datetime | None


@dataclass(frozen=True)
class ResolveResult:
    """What a resolve/unresolve did: the ids changed, those already in that state, those not found."""

    changed: tuple[str, ...] = ()
    already: tuple[Already, ...] = ()
    missing: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        """How many events this call changed."""
        return len(self.changed)


def _note_problems(note: str) -> list[str]:
    if not note:
        return ["A note is required: say what was done or why."]
    if len(note) > MAX_NOTE_CHARS:
        return [f"The note is longer than {MAX_NOTE_CHARS} characters."]
    return []


def check_note(note: str | None) -> str:
    """The note trimmed, or ValidationFailed (a bulk action checks it before it asks to confirm)."""
    clean = (note or "").strip()
    problems = _note_problems(clean)
    if problems:
        raise ValidationFailed({"note": problems})
    return clean


def _validate(ids: Sequence[str], note: str) -> tuple[list[str], str]:
    # Sorted, so that concurrent resolvers lock rows in the same order (no deadlock across chunks).
    clean_ids = sorted({str(i) for i in ids if str(i).strip()})
    note = (note or "").strip()
    problems: dict[str, list[str]] = {}
    if _note_problems(note):
        problems["note"] = _note_problems(note)
    if not clean_ids:
        problems["ids"] = ["Select at least one error."]
    elif len(clean_ids) > MAX_IDS:
        problems["ids"] = [f"At most {MAX_IDS:,} errors per action."]
    if problems:
        raise ValidationFailed(problems)
    return clean_ids, note


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _last_actor(session: Session, error_id: str, action: str) -> AuditLog | None:
    stmt = (
        select(AuditLog)
        .where(
            AuditLog.target_type == TARGET,
            AuditLog.target_id == error_id,
            AuditLog.action == action,
        )
        .order_by(AuditLog.at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def _latest(session: Session, model: Any, ids: list[str], *where: Any) -> dict[str, Any]:
    """The newest row of `model` per id (history by error_id, audit by target_id), for a chunk of ids."""
    key = model.error_id if model is ErrorResolution else model.target_id
    rows = session.scalars(
        select(model).where(key.in_(ids), *where).order_by(model.at, model.id)
    ).all()
    return {getattr(r, "error_id", None) or r.target_id: r for r in rows}  # the last one wins


def _record_history(
    session: Session,
    *,
    identity: Identity,
    rows: Sequence[Any],
    now: datetime,
    note: str,
    resolve: bool,
) -> None:
    """A history row per change; before an unresolve, the resolution it undoes when the history does not
    hold it yet (its actor from the audit log when that wrote the same note, else UNKNOWN_ACTOR)."""
    undone = [r for r in rows if not resolve and r.resolved_at is not None]
    ids = [r.id for r in undone]
    latest = _latest(session, ErrorResolution, ids) if ids else {}
    audited = (
        _latest(session, AuditLog, ids, AuditLog.target_type == TARGET, AuditLog.action == RESOLVE)
        if ids
        else {}
    )
    for r in undone:
        last = latest.get(r.id)
        if last is not None and last.action == "resolved" and last.note == r.resolution_notes:
            continue
        by = audited.get(r.id)
        known = (
            by is not None
            and isinstance(by.after, dict)
            and by.after.get("resolution_notes") == r.resolution_notes
        )
        session.add(
            ErrorResolution(
                error_id=r.id,
                at=r.resolved_at,
                action="resolved",
                note=r.resolution_notes,
                actor=by.actor if known and by is not None else UNKNOWN_ACTOR,
            )
        )
    for r in rows:
        session.add(
            ErrorResolution(
                error_id=r.id,
                at=now,
                actor=identity.user,
                note=note,
                action="resolved" if resolve else "unresolved",
            )
        )
    session.flush()


def _change(
    engine: Engine, *, identity: Identity, ids: Sequence[str], note: str, resolve: bool
) -> ResolveResult:
    """One transaction; when another writer held the rows past the lock timeout it rolled back
    whole, and it is tried again (the other writer's rows then count as already done)."""
    clean_ids, note = _validate(ids, note)
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        try:
            return _change_once(
                engine, identity=identity, clean_ids=clean_ids, note=note, resolve=resolve
            )
        except OperationalError as exc:
            if attempt == BUSY_ATTEMPTS or classify(exc).kind != "busy":
                raise
    raise AssertionError("unreachable")


def _change_once(
    engine: Engine, *, identity: Identity, clean_ids: list[str], note: str, resolve: bool
) -> ResolveResult:
    action = RESOLVE if resolve else UNRESOLVE
    guard = E.resolved_at.is_(None) if resolve else E.resolved_at.is_not(None)
    changed: list[str] = []
    already: list[Already] = []
    missing: list[str] = []
    with audit.audited_write(engine, identity=identity, permission=RESOLVE_ERRORS) as s:
        if not has_table(s, HISTORY_TABLE):
            raise ValidationFailed({"history": [NO_HISTORY]})
        now = utcnow()
        for chunk in _chunks(clean_ids):
            # Lock the rows still in the old state; a concurrent resolver waits here, then sees none.
            mine = s.execute(
                select(E.id, E.resolved_at, E.resolution_notes)
                .where(E.id.in_(chunk), guard)
                .with_for_update()
            ).all()
            mine_ids = [r.id for r in mine]
            if mine_ids:
                values = (
                    {"resolved_at": now, "resolution_notes": note}
                    if resolve
                    else {"resolved_at": None, "resolution_notes": None}
                )
                done = s.execute(
                    update(E)
                    .where(E.id.in_(mine_ids), guard)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", len(mine_ids)) != len(
                    mine_ids
                ):  # never expected under the row lock; refuse to half-write
                    raise RuntimeError("the errors changed during the update; nothing was written")
            _record_history(s, identity=identity, rows=mine, now=now, note=note, resolve=resolve)
            for r in mine:
                audit.record(
                    s,
                    identity=identity,
                    action=action,
                    target_type=TARGET,
                    target_id=r.id,
                    before={"resolved_at": r.resolved_at, "resolution_notes": r.resolution_notes},
                    after=(
                        {"resolved_at": now, "resolution_notes": note}
                        if resolve
                        else {"resolved_at": None, "resolution_notes": None}
                    ),
                    note=note,
                )
            changed.extend(mine_ids)
            rest = [i for i in chunk if i not in set(mine_ids)]
            found = (
                dict(s.execute(select(E.id, E.resolved_at).where(E.id.in_(rest))).all())
                if rest
                else {}
            )
            for i in rest:
                if i not in found:
                    missing.append(i)
                    continue
                row = _last_actor(s, i, action)
                already.append(
                    Already(
                        id=i,
                        actor=row.actor if row else None,
                        at=row.at if row else (found[i] if resolve else None),
                    )
                )
    return ResolveResult(changed=tuple(changed), already=tuple(already), missing=tuple(missing))


def resolve_errors(
    engine: Engine, *, identity: Identity, ids: Sequence[str], note: str
) -> ResolveResult:
    """Mark events resolved (resolved_at = now, resolution_notes = note), audited, in one transaction."""
    return _change(engine, identity=identity, ids=ids, note=note, resolve=True)


def unresolve_errors(
    engine: Engine, *, identity: Identity, ids: Sequence[str], note: str
) -> ResolveResult:
    """Mark resolved events unresolved again (the note goes to the audit log), in one transaction."""
    return _change(engine, identity=identity, ids=ids, note=note, resolve=False)


def _group_ids(
    engine: Engine, error_type: str, service: str | None, messages: Sequence[str], status: str
) -> list[str]:
    with Session(engine) as s:
        return list(
            occurrence_ids(
                s, error_type=error_type, service=service, messages=messages, status=status
            )
        )


def _change_group(
    engine: Engine,
    *,
    identity: Identity,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    note: str,
    resolve: bool,
) -> ResolveResult:
    require(identity, RESOLVE_ERRORS)
    ids = _group_ids(engine, error_type, service, messages, "unresolved" if resolve else "resolved")
    if not ids:
        _validate(["-"], note)
        return ResolveResult()
    return _change(engine, identity=identity, ids=ids, note=note, resolve=resolve)


def resolve_group(
    engine: Engine,
    *,
    identity: Identity,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    note: str,
) -> ResolveResult:
    """Resolve every unresolved event of a group (up to MAX_IDS per call)."""
    return _change_group(
        engine,
        identity=identity,
        error_type=error_type,
        service=service,
        messages=messages,
        note=note,
        resolve=True,
    )


def unresolve_group(
    engine: Engine,
    *,
    identity: Identity,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    note: str,
) -> ResolveResult:
    """Unresolve every resolved event of a group (up to MAX_IDS per call)."""
    return _change_group(
        engine,
        identity=identity,
        error_type=error_type,
        service=service,
        messages=messages,
        note=note,
        resolve=False,
    )
