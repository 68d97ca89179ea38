"""The lenient JSON type with values nested deeper than Python's json module can parse or write
(10,000 levels in a SQLite text column): they read back as InvalidJSON, are written back unchanged,
and a deep Python value is still written; nothing raises."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.engine import make_engine, write_session
from db.models import SandboxStrategyConfig, SystemHealthStatus
from db.types import InvalidJSON, dumps_deep, dumps_json, loads_lenient, parse_json_text

DEEP_TEXT = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT_TEXT = '{"a":' * 10_000 + "1" + "}" * 10_000


REFUSE_DEEP = ("mysql", "mariadb")  # the JSON column's CHECK (JSON_VALID) has a depth limit


def _nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Engine:
    eng = make_engine(sqlite_url, read_timeout=False)
    yield eng
    eng.dispose()


def _insert_config(conn: Any, cid: str, raw: str) -> None:
    conn.execute(
        text(
            "INSERT INTO sandbox_strategy_configs (id, user_id, strategy_id, name, config_data, is_active) "
            "VALUES (:i, 'u', 'ThetaCropWeekly', 'T', :d, 1)"
        ),
        {"i": cid, "d": raw},
    )


@pytest.mark.parametrize("raw", [DEEP_TEXT, DEEP_OBJECT_TEXT], ids=["array", "object"])
def test_deep_json_text_reads_as_invalid_json_and_is_written_back_unchanged(
    sqlite_engine: Engine, raw: str
) -> None:
    with sqlite_engine.begin() as conn:
        _insert_config(conn, "c1", raw)
    with write_session(
        sqlite_engine
    ) as s:  # the deactivate a user could not do: read, change, write back
        cfg = s.get(SandboxStrategyConfig, "c1")
        assert isinstance(cfg.config_data, InvalidJSON) and cfg.config_data == raw
        cfg.is_active = False
        cfg.config_data = cfg.config_data  # written back as it came
        s.flush()
        s.execute(select(SandboxStrategyConfig.config_data)).scalars().all()
    with sqlite_engine.connect() as conn:
        stored, active = conn.execute(
            text("SELECT config_data, is_active FROM sandbox_strategy_configs")
        ).one()
    assert stored == raw and not active


def test_parse_json_text_marks_deep_text_invalid() -> None:
    assert parse_json_text(DEEP_TEXT) == InvalidJSON(DEEP_TEXT)
    assert isinstance(parse_json_text(DEEP_TEXT.encode()), InvalidJSON)
    assert isinstance(loads_lenient(DEEP_OBJECT_TEXT), InvalidJSON)
    assert parse_json_text("[[1]]") == [[1]]


def test_a_deep_value_is_written_as_its_json_text(sqlite_engine: Engine) -> None:
    value = {"deep": _nested(10_000)}
    with write_session(sqlite_engine) as s:
        s.add(SystemHealthStatus(id="h1", service_name="db", status="UP", details=value))
    with sqlite_engine.connect() as conn:
        stored = conn.execute(text("SELECT details FROM system_health_status")).scalar_one()
    assert stored == '{"deep":' + DEEP_TEXT + "}"
    with Session(sqlite_engine) as s:
        assert s.scalars(select(SystemHealthStatus.details)).one() == InvalidJSON(stored)


def test_dumps_matches_json_dumps_where_json_dumps_works() -> None:
    for v in [
        {"a": [1, 2, {"b": None}], "c": 'x"', 1: 2, None: 3, False: []},
        [],
        {},
        [[[]]],
        1,
        "x",
        1.5,
        [1, {"k": []}],
        (1, 2),
        {"ünï": "☃"},
    ]:
        assert dumps_deep(v) == json.dumps(v, separators=(",", ":"))
        assert json.loads(dumps_json(v)) == json.loads(json.dumps(v))
    assert dumps_json(_nested(5_000)) == "[" * 5_000 + "]" * 5_000


def test_json_at_the_depth_each_engine_holds_round_trips(engine: Engine) -> None:
    """What an engine stores, we read: the deepest the driver's parser manages comes back as data,
    deeper as InvalidJSON (PostgreSQL's json is read as text, so psycopg never parses it)."""
    shallow, deep = _nested(30), _nested(1_500)
    kept: dict[str, Any] = {}
    for cid, value in (("s", shallow), ("d", deep)):
        try:
            with write_session(engine) as s:
                s.add(
                    SandboxStrategyConfig(
                        id=cid, user_id="u", strategy_id="T", name=cid, config_data=value
                    )
                )
            kept[cid] = value
        except (
            Exception
        ) as exc:  # an engine may refuse a depth (MariaDB's JSON check stops at 32 levels)
            assert cid == "d" and engine.dialect.name in REFUSE_DEEP, (
                f"{engine.dialect.name} refused {cid}: {exc}"
            )
    with Session(engine) as s:
        got = dict(
            s.execute(select(SandboxStrategyConfig.id, SandboxStrategyConfig.config_data)).all()
        )
    assert got["s"] == shallow
    if "d" in kept:
        assert isinstance(got["d"], InvalidJSON)
        assert got["d"].replace(" ", "") == "[" * 1_500 + "]" * 1_500
