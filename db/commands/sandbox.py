"""Writes on sandbox strategy configs: create, save (a new version), rollback, activate, delete.

Each is one transaction that checks the permission first, validates, changes the config, keeps
every version in `console_config_history` and adds an audit row; all of it or nothing.
A save is a single guarded UPDATE (`WHERE id = :id AND version = :loaded`): when someone saved
in between, nothing is written and `SaveConflict` says which version is current now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, RowMapping, Table, delete, func, select, update
from sqlalchemy.orm import Session

from db.auth import ACTIVATE_CONFIG, DELETE_CONFIG, EDIT_CONFIG, Identity, require
from db.commands import audit
from db.commands.audit import audited_write
from db.errors import ConflictError, ValidationFailed
from db.models import SandboxAIConversation, SandboxStrategyConfig, SandboxTestRun, new_uuid, utcnow
from db.own_models import ConfigHistory
from db.sqlfuncs import exact_eq
from domain.config_schema import Draft, readable_version, require_valid

T: Table = SandboxStrategyConfig.__table__  # type: ignore[assignment]
TARGET = "sandbox_config"
BEFORE_CONSOLE = "(before the console)"  # changed_by of versions written by the backend itself


class SaveConflict(ConflictError):  # noqa: N818 - named like db.errors' exceptions
    """The config changed (or vanished) since it was loaded; nothing was written."""

    def __init__(self, config_id: str, loaded_version: int, current_version: int | None):
        what = "was deleted" if current_version is None else f"is now at version {current_version}"
        super().__init__(
            f"The config {what}; you loaded version {loaded_version}. Nothing was saved."
        )
        self.config_id = config_id
        self.loaded_version = loaded_version
        self.current_version = current_version


class UnreadableVersion(ConflictError):  # noqa: N818
    """The stored version is not a whole number (the backend stored text in the integer column on
    SQLite): a new version cannot be numbered over it. Nothing was written."""

    def __init__(self, config_id: str):
        super().__init__(
            "This config's stored version is not a whole number, so no new version can be saved "
            "over it. Nothing was saved. Clone it to keep your changes as a new config."
        )
        self.config_id = config_id


class HasDependents(ConflictError):  # noqa: N818
    """A config with test runs or AI conversations cannot be deleted (deactivate it instead)."""

    def __init__(self, test_runs: int, conversations: int):
        super().__init__(
            f"This config has {test_runs} test run(s) and {conversations} AI conversation(s); "
            "it cannot be deleted. Deactivate it instead."
        )
        self.test_runs = test_runs
        self.conversations = conversations


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the config's id, its version now, and whether it was a repeat of the same save."""

    config_id: str
    version: int
    repeated: bool = False


def _version(row: RowMapping) -> int:
    version = readable_version(row["version"])
    if version is None:
        raise UnreadableVersion(row["id"])
    return version


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "strategy_id", "user_id", "version", "is_active", "config_data", "deployed_at")
    return {k: row[k] for k in keys}


def _locked_row(session: Session, config_id: str) -> RowMapping | None:
    stmt = select(T).where(T.c.id == config_id).with_for_update()
    return session.execute(stmt).mappings().first()


def _history_row(session: Session, config_id: str, version: int) -> ConfigHistory | None:
    stmt = select(ConfigHistory).where(
        ConfigHistory.config_id == config_id, ConfigHistory.version == version
    )
    return session.execute(stmt).scalar_one_or_none()


def _add_history(
    session: Session,
    *,
    config_id: str,
    version: int,
    values: dict[str, Any],
    by: str,
    at: datetime,
    note: str | None,
) -> None:
    session.add(
        ConfigHistory(
            id=new_uuid(),
            config_id=config_id,
            version=version,
            name=values["name"],
            strategy_id=values["strategy_id"],
            user_id=values["user_id"],
            config_data=values["config_data"],
            changed_by=by,
            changed_at=at,
            note=note,
        )
    )
    session.flush()


def _keep_previous(session: Session, row: RowMapping) -> None:
    """Put the version being replaced into the history when the backend wrote it (no row yet)."""
    version = _version(row)
    if _history_row(session, row["id"], version) is None:
        at = row["updated_at"] or row["created_at"] or utcnow()
        _add_history(
            session,
            config_id=row["id"],
            version=version,
            values=dict(row),
            by=BEFORE_CONSOLE,
            at=at,
            note="version written by the backend, kept by the console on the next save",
        )


def _same_content(h: ConfigHistory, values: dict[str, Any]) -> bool:
    return all(
        getattr(h, k) == values[k] for k in ("name", "strategy_id", "user_id", "config_data")
    )


def _repeat_of(
    session: Session, row: RowMapping, identity: Identity, loaded: int, values: dict[str, Any]
) -> SaveResult | None:
    """A save identical to the one that made the current version (a double click): nothing to do."""
    if _version(row) != loaded + 1:
        return None
    h = _history_row(session, row["id"], loaded + 1)
    if h is not None and h.changed_by == identity.user and _same_content(h, values):
        return SaveResult(row["id"], loaded + 1, repeated=True)
    return None


def _values(draft: Draft) -> dict[str, Any]:
    return {
        "name": draft.name,
        "strategy_id": draft.strategy_id,
        "user_id": draft.user_id,
        "config_data": draft.config_data,
    }


def create_config(
    engine: Engine,
    *,
    identity: Identity,
    name: Any,
    strategy_id: Any,
    user_id: Any,
    config_data: Any,
    note: str | None = None,
) -> str:
    """Create a config at version 1 (inactive); returns its id."""
    require(identity, EDIT_CONFIG)
    values = _values(
        require_valid(name=name, strategy_id=strategy_id, user_id=user_id, config_data=config_data)
    )
    config_id, now = new_uuid(), utcnow()
    with audited_write(engine, identity=identity, permission=EDIT_CONFIG) as s:
        s.execute(
            T.insert().values(
                id=config_id,
                version=1,
                is_active=False,
                created_at=now,
                updated_at=now,
                deployed_at=None,
                **values,
            )
        )
        _add_history(
            s, config_id=config_id, version=1, values=values, by=identity.user, at=now, note=note
        )
        after = {**values, "version": 1, "is_active": False, "deployed_at": None}
        audit.record(
            s,
            identity=identity,
            action="config.create",
            target_type=TARGET,
            target_id=config_id,
            after=after,
            note=note,
        )
    return config_id


def _save(
    s: Session,
    *,
    identity: Identity,
    config_id: str,
    loaded_version: int,
    values: dict[str, Any],
    action: str,
    note: str | None,
) -> SaveResult:
    row = _locked_row(s, config_id)
    if row is None:
        raise SaveConflict(config_id, loaded_version, None)
    if _version(row) != loaded_version:
        repeat = _repeat_of(s, row, identity, loaded_version, values)
        if repeat is not None:
            return repeat
        raise SaveConflict(config_id, loaded_version, _version(row))
    now = utcnow()
    guarded = (
        update(T)
        .where(T.c.id == config_id, func.coalesce(T.c.version, 1) == loaded_version)
        .values(version=loaded_version + 1, updated_at=now, **values)
    )
    result: CursorResult[Any] = s.execute(guarded)  # type: ignore[assignment]
    if result.rowcount != 1:  # unreachable with the row lock; kept as the real guard
        raise SaveConflict(config_id, loaded_version, None)
    _keep_previous(s, row)
    _add_history(
        s,
        config_id=config_id,
        version=loaded_version + 1,
        values=values,
        by=identity.user,
        at=now,
        note=note,
    )
    after = {**_snapshot(row), **values, "version": loaded_version + 1}
    audit.record(
        s,
        identity=identity,
        action=action,
        target_type=TARGET,
        target_id=config_id,
        before=_snapshot(row),
        after=after,
        note=note,
    )
    return SaveResult(config_id, loaded_version + 1)


def save_config(
    engine: Engine,
    *,
    identity: Identity,
    config_id: str,
    loaded_version: int,
    name: Any,
    strategy_id: Any,
    user_id: Any,
    config_data: Any,
    note: str | None = None,
) -> SaveResult:
    """Save a new version over `loaded_version`; SaveConflict when the config changed since."""
    require(identity, EDIT_CONFIG)
    values = _values(
        require_valid(name=name, strategy_id=strategy_id, user_id=user_id, config_data=config_data)
    )
    with audited_write(engine, identity=identity, permission=EDIT_CONFIG) as s:
        return _save(
            s,
            identity=identity,
            config_id=config_id,
            loaded_version=loaded_version,
            values=values,
            action="config.save",
            note=note,
        )


def rollback_config(
    engine: Engine,
    *,
    identity: Identity,
    config_id: str,
    loaded_version: int,
    to_version: int,
    note: str | None = None,
) -> SaveResult:
    """A new version whose content equals version `to_version` (from the history)."""
    require(identity, EDIT_CONFIG)
    with audited_write(engine, identity=identity, permission=EDIT_CONFIG) as s:
        current = _locked_row(s, config_id)
        if current is not None:
            _version(current)  # a version that is no number: refused before anything else
        old = _history_row(s, config_id, to_version)
        if old is None:
            raise ValidationFailed(
                {"version": [f"version {to_version} is not in this config's history"]}
            )
        values = {k: getattr(old, k) for k in ("name", "strategy_id", "user_id", "config_data")}
        try:  # a version the backend wrote may hold what no save would accept ("not-a-dict", 10,000 levels)
            values = _values(require_valid(**values))
        except ValidationFailed as exc:
            raise ValidationFailed(
                {f"version {to_version}": [f"cannot be restored: {exc}"]}
            ) from None
        text = note or f"rollback to version {to_version}"
        return _save(
            s,
            identity=identity,
            config_id=config_id,
            loaded_version=loaded_version,
            values=values,
            action="config.rollback",
            note=text,
        )


def set_active(
    engine: Engine, *, identity: Identity, config_id: str, active: bool, note: str | None = None
) -> list[str]:
    """Activate (deactivating the strategy's other configs) or deactivate; returns the ids deactivated."""
    require(identity, ACTIVATE_CONFIG)
    with audited_write(engine, identity=identity, permission=ACTIVATE_CONFIG) as s:
        strategy = s.execute(
            select(T.c.strategy_id).where(T.c.id == config_id)
        ).scalar_one_or_none()
        # Lock every config of the strategy (this one included) in one statement, in id order, so
        # concurrent activations queue up behind each other instead of deadlocking.
        peers = (
            []
            if strategy is None
            else s.execute(
                select(T)
                .where(exact_eq(T.c.strategy_id, strategy))
                .order_by(T.c.id)
                .with_for_update()
            )
            .mappings()
            .all()
        )
        row = next((p for p in peers if p["id"] == config_id), None)
        if row is None:
            raise ConflictError(
                "The config no longer exists (or changed strategy meanwhile); try again."
            )
        if not active:
            _deactivate(s, identity, [row], note)
            return [config_id] if row["is_active"] else []
        peers = [p for p in peers if p["id"] != config_id]
        others = [p for p in peers if p["is_active"]]
        _deactivate(s, identity, others, f"activated {config_id} for the same strategy")
        now = utcnow()
        s.execute(update(T).where(T.c.id == config_id).values(is_active=True, deployed_at=now))
        audit.record(
            s,
            identity=identity,
            action="config.activate",
            target_type=TARGET,
            target_id=config_id,
            before=_snapshot(row),
            after={**_snapshot(row), "is_active": True, "deployed_at": now},
            note=note,
        )
        return [p["id"] for p in others]


def _deactivate(s: Session, identity: Identity, rows: list[RowMapping], note: str | None) -> None:
    for row in rows:
        s.execute(update(T).where(T.c.id == row["id"]).values(is_active=False))
        audit.record(
            s,
            identity=identity,
            action="config.deactivate",
            target_type=TARGET,
            target_id=row["id"],
            before=_snapshot(row),
            after={**_snapshot(row), "is_active": False},
            note=note,
        )


def delete_config(
    engine: Engine, *, identity: Identity, config_id: str, note: str | None = None
) -> None:
    """Delete a config without test runs or AI conversations (HasDependents otherwise)."""
    require(identity, DELETE_CONFIG)
    with audited_write(engine, identity=identity, permission=DELETE_CONFIG) as s:
        row = _locked_row(s, config_id)
        if row is None:
            raise ConflictError("The config no longer exists.")
        runs = s.execute(
            select(func.count()).where(SandboxTestRun.config_id == config_id)
        ).scalar_one()
        chats = s.execute(
            select(func.count()).where(SandboxAIConversation.config_id == config_id)
        ).scalar_one()
        if runs or chats:
            raise HasDependents(int(runs), int(chats))
        s.execute(delete(T).where(T.c.id == config_id))
        audit.record(
            s,
            identity=identity,
            action="config.delete",
            target_type=TARGET,
            target_id=config_id,
            before=_snapshot(row),
            note=note,
        )
