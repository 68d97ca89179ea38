"""Query plans of the default views on SQLite, PostgreSQL and MariaDB: no full scans of big tables.

`python -m bench.plans [--rows 100000] [--engines sqlite,postgresql,mariadb] [--pages ...]`

Every page (and its filter/select/tab interactions) runs through AppTest on a benchmark
database of each engine, with an event listener recording every SELECT the page sends. Each
recorded statement is then explained with its own parameters (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN (FORMAT JSON) on PostgreSQL, EXPLAIN on MariaDB), and any full scan of a big table is
listed: SQLite `SCAN <table>`, PostgreSQL `Seq Scan` or an index scan without a condition that
is not under a LIMIT, MariaDB access type `ALL` or `index`. Writes bench/out/plans.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from bench import dbs
from bench.common import BIG_TABLES, OUT, registered_pages
from db.schema.indexes import RECOMMENDATIONS

SERVER_URLS = {
    "postgresql": os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
    ),
    "mariadb": os.environ.get("BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/bench"),
}
SKIP_PREFIXES = ("pragma", "begin", "commit", "rollback", "show", "set ", "release", "savepoint")
CATALOG_WORDS = (
    "sqlite_master",
    "sqlite_schema",
    "pg_catalog",
    "information_schema",
    "pg_class",
    "version()",
    "current_schema",
    "select 1",
    "console_alembic_version",
    "sqlite_temp_master",
)


@dataclass
class Captured:
    """The statements one page sent, by text, with the parameters of their first execution."""

    page: str
    statements: dict[str, Any] = field(default_factory=dict)


def _is_view_query(sql: str) -> bool:
    low = sql.strip().lower()
    if low.startswith(SKIP_PREFIXES) or not low.startswith(("select", "with")):
        return False
    return not any(w in low for w in CATALOG_WORDS)


def capture(url: str, page_path: str, url_path: str) -> Captured:
    """Run a page and its interactions via AppTest on `url`; record every view query."""
    import streamlit as st

    from bench.interactions import discover
    from bench.worker import _app

    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    got = Captured(page=url_path)

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if not executemany and _is_view_query(statement):
            got.statements.setdefault(statement, parameters)

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        st.cache_data.clear()
        st.cache_resource.clear()
        first = _app(page_path)
        first.run()
        for inter in discover(first, url_path)[1:]:
            at = _app(page_path)
            at.run()
            inter.apply(at)
            st.cache_data.clear()
            at.run()
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    return got


def _sqlite_plan(cursor: Any, sql: str, params: Any) -> tuple[list[str], list[str]]:
    cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
    lines = [str(r[-1]) for r in cursor.fetchall()]
    bad = [ln for ln in lines if ln.startswith("SCAN ") and ln.split()[1] in BIG_TABLES]
    return lines, bad


def _pg_nodes(
    node: dict[str, Any], under_limit: bool = False
) -> Iterator[tuple[dict[str, Any], bool]]:
    yield node, under_limit
    limited = under_limit or node.get("Node Type") == "Limit"
    for child in node.get("Plans", []):
        yield from _pg_nodes(child, limited)


def _pg_plan(cursor: Any, sql: str, params: Any) -> tuple[list[str], list[str]]:
    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    raw = cursor.fetchone()[0]
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
    lines: list[str] = []
    bad: list[str] = []
    for node, limited in _pg_nodes(plan):
        rel = node.get("Relation Name") or ""
        kind = node.get("Node Type", "")
        desc = (
            f"{kind} {rel} {node.get('Index Name', '')}".strip() + f" rows={node.get('Plan Rows')}"
        )
        if node.get("Index Cond"):
            desc += f" cond={node['Index Cond']}"
        if node.get("Filter") and rel:
            desc += f" filter={node['Filter'][:200]}"
        lines.append(desc)
        if rel in BIG_TABLES:
            if kind == "Seq Scan":
                bad.append(desc)
            elif (
                kind in ("Index Scan", "Index Only Scan")
                and not node.get("Index Cond")
                and not limited
            ):
                bad.append(desc + " (whole index)")
    return lines, bad


def _mysql_plan(cursor: Any, sql: str, params: Any) -> tuple[list[str], list[str]]:
    cursor.execute("EXPLAIN " + sql, params)
    cols = [d[0] for d in cursor.description]
    lines: list[str] = []
    bad: list[str] = []
    for row in cursor.fetchall():
        r = dict(zip(cols, row, strict=False))
        desc = f"{r.get('table')} type={r.get('type')} key={r.get('key')} rows={r.get('rows')} {r.get('Extra') or ''}"
        lines.append(desc.strip())
        if r.get("table") in BIG_TABLES and r.get("type") in ("ALL", "index"):
            bad.append(desc.strip())
    return lines, bad


EXPLAINERS = {"sqlite": _sqlite_plan, "postgresql": _pg_plan, "mysql": _mysql_plan}


def explain_all(url: str, captured: Captured) -> list[dict[str, Any]]:
    """The plan of each captured statement on `url`, with the full scans it contains."""
    from db.engine import dialect_name, make_engine

    kind = dialect_name(url)
    engine = make_engine(url, read_timeout=False)
    out: list[dict[str, Any]] = []
    try:
        raw = engine.raw_connection()
        try:
            for sql, params in captured.statements.items():
                cur = raw.cursor()
                try:
                    lines, bad = EXPLAINERS[kind](cur, sql, params)
                except Exception as exc:  # noqa: BLE001 - an unexplainable statement is reported, not fatal
                    lines, bad = [f"explain failed: {type(exc).__name__}: {str(exc)[:120]}"], []
                    raw.rollback()
                finally:
                    cur.close()
                out.append({"sql": " ".join(sql.split()), "plan": lines, "full_scans": bad})
        finally:
            raw.close()
    finally:
        engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plans")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", default="history")
    parser.add_argument("--engines", default="sqlite,postgresql,mariadb")
    parser.add_argument("--pages", default="")
    args = parser.parse_args(argv)
    pages = registered_pages()
    if args.pages:
        pages = [p for p in pages if p.url_path in set(args.pages.split(","))]
    report: list[str] = ["# Query plans of the default views", ""]
    summary: list[str] = []
    for engine_kind in args.engines.split(","):
        base = SERVER_URLS.get(engine_kind)
        url = dbs.build(args.profile, args.rows, base)
        report += [f"## {engine_kind} ({args.profile}, {args.rows:,} rows per big table)", ""]
        total = bad_total = 0
        used: dict[str, set[str]] = {}
        for page in pages:
            try:
                captured = capture(url, page.path, page.url_path)
                plans = explain_all(url, captured)
            except Exception as exc:  # noqa: BLE001
                report.append(
                    f"- {page.url_path}: capture failed: {type(exc).__name__}: {str(exc)[:150]}"
                )
                continue
            for p in plans:
                for rec in RECOMMENDATIONS:
                    if any(rec.name in ln for ln in p["plan"]):
                        used.setdefault(rec.name, set()).add(page.url_path)
            bad = [p for p in plans if p["full_scans"]]
            total += len(plans)
            bad_total += len(bad)
            report.append(
                f"### {page.url_path}: {len(plans)} statements, {len(bad)} with a full scan of a big table"
            )
            for p in bad:
                report += [
                    "",
                    "```sql",
                    p["sql"][:1500],
                    "```",
                    *[f"    {ln}" for ln in p["plan"]],
                    f"    FULL SCAN: {'; '.join(p['full_scans'])}",
                ]
            report.append("")
        summary.append(
            f"{engine_kind}: {total} statements, {bad_total} with a full scan of a big table"
        )
        kind = "mysql" if engine_kind == "mariadb" else engine_kind
        usage = [
            f"{r.name}: {', '.join(sorted(used[r.name])) if r.name in used else 'UNUSED'}"
            for r in RECOMMENDATIONS
            if r.applies_to(kind)
        ]
        summary.append(f"{engine_kind} recommended indexes used by: " + "; ".join(usage))
    report = [*report[:2], *[f"- {s}" for s in summary], "", *report[2:]]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "plans.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(summary))
    print(f"details: {OUT / 'plans.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
