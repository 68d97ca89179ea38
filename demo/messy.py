"""A seeded messy database: hostile and strange values in every text and JSON column.

Used by the robustness and browser tests (and by hand: `python -m demo.messy --url URL`). Every
text value carries a marker (`MSY` + two digits) so a test can look for it in what the browser
or AppTest shows: a marker inside a link, an image, a script or formatted text means database
text was rendered instead of shown literally.

Works on SQLite, PostgreSQL and MariaDB: string lengths respect the column's declared length
(255 for bare VARCHAR on MySQL), foreign keys point at existing rows except on SQLite, where
the backend's real data has dangling ones, and text that is not valid JSON is only stored in
SQLite (the other engines' JSON types refuse it).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.sql.type_api import TypeEngine

from db.models import Base
from db.types import LenientJSON

MARKER = "MSY"
# Default length of a bare VARCHAR on MySQL (db.types.MYSQL_VARCHAR_LENGTH): the safe cap everywhere.
BARE_VARCHAR_CAP = 255
LONG_TEXT_CHARS = 6_000
REMOTE = (
    "http://127.0.0.1:9"  # nothing listens there: a request to it is the proof of a rendered image
)


def _hostile() -> list[str]:
    """The text catalogue; `{m}` becomes a unique marker per value."""
    return [
        "[click {m}](javascript:alert('{m}'))",
        '<a href="https://evil.example/{m}">{m} link</a>',
        "<script>window.__msy='{m}';alert('{m}')</script>",
        "![{m}](" + REMOTE + "/{m}.png)",
        '<img src="' + REMOTE + '/{m}.png" onerror="window.__msy=\'{m}\'">',
        "$$\\frac{{{m}}}{{x^2}}$$ and $e^{{i\\pi}}$",
        "**bold {m}** _em {m}_ ~~del~~ `code`",
        "# Heading {m}\n\n- item one\n- item two\n\n> quote",
        ":red[{m} red] :blue-background[{m}] :material/warning:",
        '<b>{m}</b><iframe src="' + REMOTE + '/{m}"></iframe>',
        '<svg onload="window.__msy=\'{m}\'"><a xlink:href="javascript:alert(1)">{m}</a></svg>',
        "```mermaid\ngraph TD; A[{m}]-->B\n```",
        "=cmd|' /C calc'!A0 {m}",
        "+1+1 {m}",
        "-2+3 {m}",
        "@SUM(A1:A9) {m}",
        '\t=HYPERLINK("' + REMOTE + '/{m}")',
        "{m} \u202etxet lrt\u202c עברית العربية \u200b\u200c\u200d\ufeff zero-width",
        "{m} 👨‍👩‍👧‍👦🔥🧨 e\u0301\u0301\u0301 Z\u0351\u0351\u0351algo 𝕳𝖊𝖑𝖑𝖔",
        "{m} NaN",
        "1e309 {m}",
        "0x1F {m}",
        "{m} 1,234.56",
        "$1,000 {m}",
        "١٢٣ {m}",
        "-0 {m}",
        "{m} ' OR 1=1; DROP TABLE scan_sessions; --",
        "{m} {{{{7*7}}}} ${{7*7}} %s %(x)s {{0}}",
        "{m}\r\nline2\rline3\x0bvt",
        "{m} " + "long wörd ✓ " * (LONG_TEXT_CHARS // 12),
        "{m}",
    ]


def _number_texts() -> list[str]:
    """Numbers as the odd text the backend (or a broken writer) stores."""
    return [
        "",
        "N/A",
        "abc",
        "NaN",
        "Infinity",
        "-inf",
        "1e309",
        "0x10",
        "1,234",
        " 42 ",
        "$0.0003",
        "١٢",
        "-0",
        "=1+1",
        "12ms",
        "None",
        "null",
        "0",
        "3.14159265358979323846",
    ]


def _nested(depth: int, m: str) -> Any:
    value: Any = {"leaf": f"<script>{m}</script>", "md": f"[{m}](javascript:1)"}
    for i in range(depth):
        value = {f"level_{i}": value} if i % 2 else [i, value]
    return value


def _hostile_json(m: str) -> list[Any]:
    """JSON values: arrays, deep nesting, hostile strings and keys, odd numbers, the shapes pages read."""
    return [
        [1, "two", f"<img src='{REMOTE}/{m}.png'>", None, True, {"k": f"**{m}**"}],
        _nested(30, m),
        {f"<a href='javascript:1'>{m}</a>": "key is html", "error": f"[{m}](javascript:alert(1))"},
        {"error": f"=cmd|' /C calc'!A0 {m}", "symbol": f"<b>{m}</b>", "strategy": f"$${m}$$"},
        {"symbols": f"![x]({REMOTE}/{m}.png)", "interval_minutes": "NaN", "enabled": "yes"},
        {
            "performance_metrics": f"not a dict {m}",
            "opportunities": f"<script>{m}</script>",
            "success": "false",
            "opportunities_count": "many",
        },
        {
            "performance_metrics": {
                "avg_probability_profit": "1e309",
                "avg_expected_value": None,
                "total_opportunities": -1,
                "risk_reward_ratio": f"{m}",
            },
            "opportunities": [{"symbol": f"<img src={REMOTE}/{m}.png>", "max_profit": "Unlimited"}],
        },
        {
            "max_profit": "Unlimited",
            "legs": f"{m} not a list",
            "premium": "$1.80",
            "probability_profit": 1e308,
        },
        {
            "trading": {"target_dte_range": [21, 7], "delta_target": "-0"},
            "risk": {"loss_limit": -2.0},
            f"universe.primary_symbols{m}": ["BRK-B", "<META>"],
        },
        {
            "price": "١٢٣",
            "iv_rank": 1e308,
            "timestamp": "2099-12-31T23:59:59.999999",
            "note": f"{m}\u202e",
        },
        f"just a string {m} <script>",
        12345.678,
        None,
        [],
        {},
    ]


def _timestamps(now: datetime) -> list[datetime]:
    """Recent times (so windows show rows) mixed with the extremes, with and without microseconds."""
    return [
        now - timedelta(minutes=5, microseconds=123_456),
        now - timedelta(minutes=30),
        now - timedelta(hours=3, seconds=1),
        now - timedelta(hours=20, microseconds=1),
        now - timedelta(days=3),
        now - timedelta(days=20, microseconds=999_999),
        datetime(1970, 1, 1, 0, 0, 0),
        datetime(1970, 1, 1, 0, 0, 1, 1),
        datetime(2099, 12, 31, 23, 59, 59, 999_999),
        datetime(2099, 12, 31, 23, 59, 59),
        now + timedelta(seconds=30),
    ]


@dataclass
class MessyReport:
    """What was written: rows per table and the markers used."""

    rows: dict[str, int] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)


class _Values:
    """Seeded value source; each text value gets a fresh marker."""

    def __init__(self, seed: int, dialect: str, now: datetime):
        self.rng = random.Random(seed)
        self.dialect = dialect
        self.now = now
        self.texts = _hostile()
        self.times = _timestamps(now)
        self.counter = 0
        self.markers: set[str] = set()

    def marker(self) -> str:
        self.counter += 1
        m = f"{MARKER}{self.counter:05d}"
        self.markers.add(m)
        return m

    def text(self, i: int, col_index: int, cap: int | None) -> str:
        template = self.texts[(i + col_index * 7) % len(self.texts)]
        value = template.replace("{m}", self.marker()).replace("{{", "{").replace("}}", "}")
        if cap is not None and len(value) > cap:
            value = value[:cap]
        return value

    def json(self, i: int, col_index: int) -> Any:
        values = _hostile_json(self.marker())
        return values[(i + col_index * 3) % len(values)]

    def when(self, i: int, col_index: int) -> datetime:
        return self.times[(i + col_index) % len(self.times)]

    def integer(self, i: int) -> int | None:
        return [0, -1, 1, 2_147_483_647, -2_147_483_648, None, 7, 10_000, 42][i % 9]

    def number(self, i: int) -> float | None:
        return [
            0.0,
            -0.0,
            1e308,
            -1e308,
            5e-324,
            None,
            0.8500000000000001,
            137.20000000000007,
            -2.0,
        ][i % 9]


def _cap(col_type: TypeEngine[Any], dialect: str) -> int | None:
    if isinstance(col_type, Text):
        return None if dialect != "mysql" else 16_000
    length = getattr(col_type, "length", None)
    return length or BARE_VARCHAR_CAP


def _value(col: Any, i: int, ci: int, vals: _Values, unique: bool) -> Any:
    t = col.type
    if isinstance(t, LenientJSON | JSON):
        v = vals.json(i, ci)
        return v if v is not None or col.nullable else {}
    if isinstance(t, DateTime):
        return None if col.nullable and i % 11 == 10 else vals.when(i, ci)
    if isinstance(t, Boolean):
        return [True, False, None][i % 3] if col.nullable else bool(i % 2)
    if isinstance(t, Integer):
        v = vals.integer(i)
        return v if v is not None or col.nullable else 0
    if isinstance(t, Float):
        v = vals.number(i)
        return v if v is not None or col.nullable else 0.0
    if isinstance(t, String):
        cap = _cap(t, vals.dialect)
        if unique:
            suffix = f"-{i:05d}"
            return (
                vals.text(i, ci, (cap or BARE_VARCHAR_CAP) - len(suffix) if cap else 200) + suffix
            )
        if col.nullable and i % 13 == 12:
            return None
        return vals.text(i, ci, cap)
    return None


def _unique_columns(table: Table) -> set[str]:
    cols = {c.name for c in table.columns if c.unique or c.primary_key}
    for idx in table.indexes:
        if idx.unique:
            cols |= {c.name for c in idx.columns}
    for cons in table.constraints:
        if cons.__class__.__name__ == "UniqueConstraint":
            cols |= {c.name for c in cons.columns}  # type: ignore[attr-defined]
    return cols


def _rows(
    table: Table, n: int, vals: _Values, parents: dict[str, list[Any]]
) -> Iterator[dict[str, Any]]:
    unique = _unique_columns(table)
    for i in range(n):
        row: dict[str, Any] = {}
        for ci, col in enumerate(table.columns):
            if col.primary_key and isinstance(col.type, Integer):
                continue  # autoincrement
            fks = list(col.foreign_keys)
            if fks:
                targets = parents.get(fks[0].column.table.name, [])
                dangling = vals.dialect == "sqlite" and i % 5 == 4
                if dangling or not targets:
                    row[col.name] = (
                        None if col.nullable and not dangling else f"dangling {vals.marker()}"
                    )
                else:
                    row[col.name] = targets[i % len(targets)]
                continue
            row[col.name] = _value(col, i, ci, vals, col.name in unique)
        yield row


def _sqlite_invalid_json(engine: Engine, tables: list[Table], vals: _Values) -> int:
    """On SQLite, overwrite one JSON value per JSON column with text that is not JSON."""
    done = 0
    with engine.begin() as conn:
        for table in tables:
            pk = next(c for c in table.primary_key.columns)
            for col in table.columns:
                if isinstance(col.type, LenientJSON):
                    bad = f"{{not json {vals.marker()} <script>alert(1)</script>"
                    # names from our metadata, the bad text as a bound value
                    select_first = f'SELECT "{pk.name}" FROM "{table.name}" LIMIT 1'  # noqa: S608
                    first = conn.execute(text(select_first)).scalar()
                    if first is not None:
                        update = (
                            f'UPDATE "{table.name}" SET "{col.name}" = :v WHERE "{pk.name}" = :k'  # noqa: S608, E501
                        )
                        conn.execute(text(update), {"v": bad, "k": first})
                        done += 1
    return done


def generate(
    engine: Engine,
    *,
    seed: int = 0,
    rows: int | None = None,
    now: datetime | None = None,
    include_own: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> MessyReport:
    """Fill every backend table (and the console's own, when present) with messy rows.

    `rows` defaults to the size of the text catalogue, so every hostile value lands in every
    text column at least once. Tables must exist; existing rows are kept.
    """
    from sqlalchemy import inspect

    dialect = "mysql" if engine.dialect.name in ("mysql", "mariadb") else engine.dialect.name
    now = now or datetime.now(UTC).replace(tzinfo=None)
    vals = _Values(seed, dialect, now)
    n = rows or len(vals.texts)
    tables = list(Base.metadata.sorted_tables)
    if include_own:
        from db.own_models import OwnBase

        present = set(inspect(engine).get_table_names())
        tables += [t for t in OwnBase.metadata.sorted_tables if t.name in present]
    report = MessyReport()
    parents: dict[str, list[Any]] = {}
    for k, table in enumerate(tables):
        batch = list(_rows(table, n, vals, parents))
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
            pk = next(iter(table.primary_key.columns))
            parents[table.name] = list(conn.execute(table.select().with_only_columns(pk)).scalars())
        report.rows[table.name] = len(batch)
        if progress:
            progress((k + 1) / len(tables), table.name)
    if dialect == "sqlite":
        _sqlite_invalid_json(engine, tables, vals)
    report.markers = set(vals.markers)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fill a database with messy, hostile rows (for tests)."
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args(argv)
    from db.engine import make_engine
    from db.schema import migrate

    engine = make_engine(args.url, read_timeout=False)
    Base.metadata.create_all(engine)
    migrate.upgrade(engine)
    report = generate(engine, seed=args.seed, rows=args.rows)
    print(json.dumps(report.rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
