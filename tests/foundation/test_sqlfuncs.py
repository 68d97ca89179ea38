"""The dialect helpers give the same answers on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, String, case, func, insert, literal, select, text
from sqlalchemy.orm import Session

from db.engine import dialect_name, write_session
from db.models import CriticalErrorLog, OpportunitySnapshot, SystemHealthStatus
from db.sqlfuncs import (
    epoch_bucket,
    epoch_seconds,
    exact,
    exact_eq,
    exact_in,
    json_number,
    json_text,
    safe_number,
    time_bucket,
)

T0 = datetime(2025, 8, 1, 13, 45, 42, 808292)


def _epoch(dt: datetime) -> int:
    return calendar.timegm(dt.timetuple())


# --- time buckets ---------------------------------------------------------------------------


def _add_errors(engine: Engine, times: list[datetime]) -> None:
    with write_session(engine) as s:
        s.add_all(CriticalErrorLog(error_type="x", message="m", created_at=t) for t in times)


@pytest.mark.parametrize(
    ("unit", "start"),
    [
        ("minute", datetime(2025, 8, 1, 13, 45)),
        ("hour", datetime(2025, 8, 1, 13, 0)),
        ("day", datetime(2025, 8, 1)),
    ],
)
def test_time_bucket_gives_the_start_of_the_unit_in_unix_seconds(
    engine: Engine, unit: str, start: datetime
) -> None:
    _add_errors(engine, [T0])
    with Session(engine) as s:
        got = s.execute(select(time_bucket(CriticalErrorLog.created_at, unit))).scalar_one()
    assert int(got) == _epoch(start)


def test_buckets_group_rows_and_count_them(engine: Engine) -> None:
    times = [
        T0,
        T0 + timedelta(seconds=10),
        T0 + timedelta(minutes=20),
        T0 + timedelta(hours=11),
    ]  # 3 hours
    _add_errors(engine, times)
    bucket = time_bucket(CriticalErrorLog.created_at, "hour").label("b")
    with Session(engine) as s:
        rows = s.execute(select(bucket, func.count()).group_by(bucket).order_by(bucket)).all()
    assert [(int(b), n) for b, n in rows] == [
        (_epoch(datetime(2025, 8, 1, 13)), 2),
        (_epoch(datetime(2025, 8, 1, 14)), 1),
        (_epoch(datetime(2025, 8, 2, 0)), 1),
    ]


def test_epoch_seconds_and_custom_bucket_width(engine: Engine) -> None:
    _add_errors(engine, [T0])
    with Session(engine) as s:
        e, b = s.execute(
            select(
                epoch_seconds(CriticalErrorLog.created_at),
                epoch_bucket(CriticalErrorLog.created_at, 900),
            )
        ).one()
    assert int(e) == _epoch(T0.replace(microsecond=0))
    assert int(b) == _epoch(datetime(2025, 8, 1, 13, 45))
    with pytest.raises(ValueError):
        epoch_bucket(CriticalErrorLog.created_at, 0)


def test_mixed_precision_text_on_sqlite_buckets_alike(sqlite_url: str) -> None:
    from db.engine import make_engine

    eng = make_engine(sqlite_url)
    with eng.begin() as conn:
        for i, ts in enumerate(["2025-07-31 03:34:01", "2025-07-31 03:34:59.655839"]):
            conn.execute(
                text(
                    "INSERT INTO critical_error_logs (id, error_type, message, created_at, severity) "
                    "VALUES (:i, 'x', 'm', :t, 'HIGH')"
                ),
                {"i": str(i), "t": ts},
            )
    with Session(eng) as s:
        got = s.execute(select(time_bucket(CriticalErrorLog.created_at, "minute"))).scalars().all()
    assert [int(g) for g in got] == [_epoch(datetime(2025, 7, 31, 3, 34))] * 2
    eng.dispose()


# --- safe_number ----------------------------------------------------------------------------

CASES: list[tuple[str | None, float | None]] = [
    ("12", 12.0),
    (" 4.5 ", 4.5),
    ("$0.0003", 0.0003),
    ("-2", -2.0),
    ("+3", 3.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("0", 0.0),
    ("$0.00", 0.0),
    ("", None),
    (" ", None),
    ("N/A", None),
    ("abc", None),
    ("1.2.3", None),
    ("12abc", None),
    ("--2", None),
    ("1e3", None),
    ("-", None),
    (".", None),
    ("$", None),
    (None, None),
]


def _store_health(engine: Engine, values: list[str | None]) -> None:
    with write_session(engine) as s:
        s.execute(
            insert(SystemHealthStatus),
            [
                {
                    "id": f"h{i:04d}",
                    "service_name": "svc",
                    "status": "HEALTHY",
                    "response_time_ms": v,
                    "check_timestamp": T0,
                }
                for i, v in enumerate(values)
            ],
        )


def test_safe_number_parses_numbers_and_nothing_else(engine: Engine) -> None:
    _store_health(engine, [v for v, _ in CASES])
    with Session(engine) as s:
        got = s.execute(
            select(
                SystemHealthStatus.response_time_ms,
                safe_number(SystemHealthStatus.response_time_ms),
            ).order_by(SystemHealthStatus.id)
        ).all()
    assert [(raw, None if n is None else float(n)) for raw, n in got] == [
        (raw, None if want is None else pytest.approx(want)) for raw, want in CASES
    ]


def test_unparseable_values_can_be_counted_in_sql(engine: Engine) -> None:
    _store_health(engine, [v for v, _ in CASES])
    col = SystemHealthStatus.response_time_ms
    unparseable = func.count(
        case((col.is_not(None) & safe_number(col).is_(None), 1))
    )  # no FILTER on MariaDB
    with Session(engine) as s:
        bad, avg = s.execute(select(unparseable, func.avg(safe_number(col)))).one()
    assert bad == sum(1 for v, n in CASES if v is not None and n is None) == 11
    good = [n for _, n in CASES if n is not None]
    assert float(avg) == pytest.approx(sum(good) / len(good))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_safe_number_agrees_with_python_on_generated_text(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """Property: for any short text, SQL gives float(text) when it is a plain decimal, else NULL."""
    from db.engine import make_engine

    url = (
        request.getfixturevalue("server_db_url")(kind)
        if kind != "sqlite"
        else (f"sqlite:///{request.getfixturevalue('tmp_path') / 'h.db'}")
    )
    eng = make_engine(url)
    alphabet = st.sampled_from(list("0123456789.+-$ eEaN/,x"))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.text(alphabet, max_size=8), min_size=1, max_size=40))
    def check(values: list[str]) -> None:
        with eng.connect() as conn:
            for v in values:
                got = conn.execute(select(safe_number(literal(v, String())))).scalar_one()
                assert (None if got is None else float(got)) == _py_number(v), repr(v)

    check()
    eng.dispose()


def _py_number(raw: str) -> float | None:
    import re

    v = raw.replace("$", "").strip(" ")
    if re.fullmatch(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)", v):
        return float(v)
    return None


# --- JSON keys --------------------------------------------------------------------------------

DETAILS = [
    {
        "symbol": "AAPL",
        "premium": 2.2,
        "max_profit": "Unlimited",
        "error": "timeout",
        "strike": "185.0",
    },
    [1, 2, 3],
    {"other": 1},
    None,
]


def test_json_keys_of_objects_arrays_and_missing_keys(engine: Engine) -> None:
    with write_session(engine) as s:
        for i, d in enumerate(DETAILS):
            s.add(
                CriticalErrorLog(id=f"e{i}", error_type="x", message="m", details=d, created_at=T0)
            )
    with Session(engine) as s:
        rows = s.execute(
            select(
                json_text(CriticalErrorLog.details, "symbol"),
                json_number(CriticalErrorLog.details, "premium"),
                json_number(CriticalErrorLog.details, "max_profit"),
                json_number(CriticalErrorLog.details, "strike"),
                json_text(CriticalErrorLog.details, "error"),
            ).order_by(CriticalErrorLog.id)
        ).all()
    got = [
        (sym, None if p is None else float(p), mp, None if k is None else float(k), err)
        for sym, p, mp, k, err in rows
    ]
    assert got == [
        ("AAPL", 2.2, None, 185.0, "timeout"),
        (None, None, None, None, None),
        (None, None, None, None, None),
        (None, None, None, None, None),
    ]


def test_json_key_filter_and_group(engine: Engine) -> None:
    with write_session(engine) as s:
        for i, sym in enumerate(["AAPL", "AAPL", "MSFT"]):
            s.add(
                CriticalErrorLog(
                    id=f"e{i}", error_type="x", message="m", details={"symbol": sym}, created_at=T0
                )
            )
    sym = json_text(CriticalErrorLog.details, "symbol").label("sym")
    with Session(engine) as s:
        rows = s.execute(select(sym, func.count()).group_by(sym).order_by(sym)).all()
    assert [tuple(r) for r in rows] == [("AAPL", 2), ("MSFT", 1)]


def test_json_text_is_the_same_text_on_every_engine(engine: Engine) -> None:
    import json

    details = {
        "pop": 0.8500000000000001,
        "dte": 13,
        "live": True,
        "off": False,
        "quote": 'say "hi"',
        "legs": [{"strike": 185.0}],
        "ev": 137.20000000000007,
    }
    with write_session(engine) as s:
        s.add(
            CriticalErrorLog(id="e1", error_type="x", message="m", details=details, created_at=T0)
        )
    d = CriticalErrorLog.details
    with Session(engine) as s:
        row = s.execute(
            select(
                json_text(d, "pop"),
                json_text(d, "dte"),
                json_text(d, "live"),
                json_text(d, "off"),
                json_text(d, "quote"),
                json_text(d, "legs"),
                json_number(d, "pop"),
                json_number(d, "ev"),
                json_number(d, "live"),
            )
        ).one()
    assert tuple(row[:5]) == ("0.8500000000000001", "13", "true", "false", 'say "hi"')
    assert json.loads(row[5]) == [{"strike": 185.0}]
    assert float(row[6]) == 0.8500000000000001 and float(row[7]) == 137.20000000000007
    assert row[8] is None


def test_json_null_value_reads_as_sql_null(engine: Engine) -> None:
    with write_session(engine) as s:
        s.add(
            CriticalErrorLog(
                id="e1", error_type="x", message="m", details={"symbol": None}, created_at=T0
            )
        )
    with Session(engine) as s:
        assert s.execute(select(json_text(CriticalErrorLog.details, "symbol"))).scalar_one() is None


def test_json_helpers_ignore_invalid_json_text_on_sqlite(sqlite_url: str) -> None:
    from db.engine import make_engine

    eng = make_engine(sqlite_url)
    with eng.begin() as conn:
        for i, raw in enumerate(['{"symbol": "AAPL", "premium": 1.5}', "not json {", "", "[1,"]):
            conn.execute(
                text(
                    "INSERT INTO critical_error_logs (id, error_type, message, details, created_at, severity)"
                    " VALUES (:i, 'x', 'm', :d, '2025-08-01 00:00:00', 'HIGH')"
                ),
                {"i": f"e{i}", "d": raw},
            )
    with Session(eng) as s:
        rows = s.execute(
            select(
                json_text(CriticalErrorLog.details, "symbol"),
                json_number(CriticalErrorLog.details, "premium"),
            ).order_by(CriticalErrorLog.id)
        ).all()
    assert [tuple(r) for r in rows] == [("AAPL", 1.5), (None, None), (None, None), (None, None)]
    eng.dispose()


def test_json_key_names_are_validated() -> None:
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError):
        str(
            select(json_text(CriticalErrorLog.details, "a'; DROP TABLE x; --")).compile(
                dialect=sqlite.dialect()
            )
        )


# --- case-sensitive grouping ------------------------------------------------------------------


def _add_strategies(engine: Engine) -> None:
    values = [
        "theta_harvesting",
        "theta_harvesting",
        "THETA_HARVESTING",
        "THETA_HARVESTING",
        "THETA_HARVESTING",
        "Theta_Harvesting",
    ]
    with write_session(engine) as s:
        s.add_all(
            OpportunitySnapshot(
                opportunity_id=f"o{i}",
                symbol="SPY",
                strategy_type=v,
                data={},
                created_at=T0,
                expires_at=T0,
            )
            for i, v in enumerate(values)
        )


def test_exact_grouping_keeps_case_variants_apart(engine: Engine) -> None:
    _add_strategies(engine)
    col = exact(OpportunitySnapshot.strategy_type).label("st")
    with Session(engine) as s:
        rows = s.execute(select(col, func.count()).group_by(col)).all()
    assert sorted((str(a), n) for a, n in rows) == [
        ("THETA_HARVESTING", 3),
        ("Theta_Harvesting", 1),
        ("theta_harvesting", 2),
    ]


def test_exact_filters_are_case_sensitive(engine: Engine) -> None:
    _add_strategies(engine)
    col = OpportunitySnapshot.strategy_type
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(exact_eq(col, "theta_harvesting"))) == 2
        assert s.scalar(select(func.count()).where(exact_eq(col, "THETA_HARVESTING"))) == 3
        assert (
            s.scalar(
                select(func.count()).where(exact_in(col, ["Theta_Harvesting", "theta_harvesting"]))
            )
            == 3
        )
        assert s.scalar(select(func.count()).where(exact_in(col, ["THETA_harvesting"]))) == 0


def test_plain_grouping_would_merge_them_on_mariadb(engine: Engine) -> None:
    """Control: the default MariaDB collation really is case-insensitive, so `exact` is needed."""
    if dialect_name(str(engine.url)) != "mysql":
        pytest.skip("only MariaDB's default collation merges case variants")
    _add_strategies(engine)
    with Session(engine) as s:
        rows = s.execute(
            select(OpportunitySnapshot.strategy_type, func.count()).group_by(
                OpportunitySnapshot.strategy_type
            )
        ).all()
    assert len(rows) == 1


def test_each_json_key_gets_its_own_sql_in_separate_statements(engine: Engine) -> None:
    """The key is a literal in the SQL: statements that differ only in the key must not share the
    compiled-statement cache (they once did, and every key read the first key's value)."""
    with write_session(engine) as s:
        s.add(
            CriticalErrorLog(
                id="e1",
                error_type="x",
                message="m",
                created_at=T0,
                details={"symbol": "AAPL", "error": "boom", "premium": 2.2, "max_loss": 700},
            )
        )
    d = CriticalErrorLog.details
    with Session(engine) as s:
        texts = [
            s.execute(select(json_text(d, k))).scalar_one() for k in ("symbol", "error", "missing")
        ]
        numbers = [
            s.execute(select(json_number(d, k))).scalar_one()
            for k in ("premium", "max_loss", "missing")
        ]
        filtered = [
            s.execute(select(func.count()).where(json_text(d, "symbol") == v)).scalar_one()
            for v in ("AAPL", "boom")
        ]
    assert texts == ["AAPL", "boom", None]
    assert [None if n is None else float(n) for n in numbers] == [2.2, 700.0, None]
    assert filtered == [1, 0]
