"""The slowest statements of a page's cold run, with the query function that sent each.

`python -m bench.slow --url URL --page opportunities [--top 8] [--interactions]`
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from typing import Any

from sqlalchemy import Engine, event

from bench.common import registered_pages


def _caller() -> str:
    for frame in reversed(traceback.extract_stack()):
        if "/db/queries/" in frame.filename:
            return f"db/queries/{frame.filename.rsplit('/db/queries/', 1)[1]}:{frame.name}"
    return "?"


def timed_statements(
    url: str, page_path: str, url_path: str, interactions: bool
) -> list[dict[str, Any]]:
    """Each statement of the page's cold run(s): seconds, caller, SQL."""
    import streamlit as st

    from bench.interactions import discover
    from bench.worker import _app

    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    stats: list[dict[str, Any]] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        t0 = conn.info["bench_t0"].pop()
        stats.append(
            {"s": time.perf_counter() - t0, "caller": _caller(), "sql": " ".join(statement.split())}
        )

    def failed(ctx: Any) -> None:
        t0 = (
            ctx.connection.info.get("bench_t0", [time.perf_counter()]).pop()
            if ctx.connection
            else time.perf_counter()
        )
        stats.append(
            {
                "s": time.perf_counter() - t0,
                "caller": f"FAILED {type(ctx.original_exception).__name__} " + _caller(),
                "sql": " ".join(str(ctx.statement).split()),
            }
        )

    warm = _app(page_path)
    warm.run()
    todo = discover(warm, url_path) if interactions else discover(warm, url_path)[:1]
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "handle_error", failed)
    try:
        for inter in todo:
            at = _app(page_path)
            at.run()
            inter.apply(at)
            st.cache_data.clear()
            st.cache_resource.clear()
            stats.append({"s": 0.0, "caller": f"--- {inter.label}", "sql": ""})
            t0 = time.perf_counter()
            at.run()
            stats.append(
                {
                    "s": time.perf_counter() - t0,
                    "caller": f"=== script run {inter.label}",
                    "sql": "",
                }
            )
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
        event.remove(Engine, "handle_error", failed)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow")
    parser.add_argument("--url", required=True)
    parser.add_argument("--page", required=True, help="url path, e.g. opportunities")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--interactions", action="store_true")
    args = parser.parse_args(argv)
    page = next(p for p in registered_pages() if p.url_path == args.page)
    stats = timed_statements(args.url, page.path, page.url_path, args.interactions)
    runs = [s for s in stats if s["caller"].startswith("===")]
    queries = sorted((s for s in stats if s["sql"]), key=lambda s: -s["s"])
    for r in runs:
        print(f"{r['s']:.3f} s  {r['caller']}")
    print(f"{len(queries)} statements, {sum(q['s'] for q in queries):.3f} s in the database in all")
    for q in queries[: args.top]:
        print(f"{q['s']:.3f} s  {q['caller']}\n    {q['sql'][:400]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
