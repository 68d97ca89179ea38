"""The benchmark: every registered page at each size, cold and warm, against the naive page,
in a real browser and under concurrent sessions. Prints one table and writes bench/out/report.md.

`python -m bench.run [--sizes 10000,100000,1000000] [--profile history|window] [--url URL]
                     [--runs 5] [--pages health,errors] [--skip naive,browser,concurrency]`

Run by hand, never from the tests. Databases are built once in bench/dbs/ and reused.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import dbs
from bench.common import (
    NAIVE_PAGE,
    OUT,
    ROOT,
    PageUnderTest,
    load_json,
    registered_pages,
    save_json,
)
from db.settings import safe_url

WORKER_TIMEOUT_S = 1800
# The naive page holds whole tables in memory; below this much free memory it is not run.
NAIVE_MIN_FREE_MB = 8000


def _available_mb() -> float:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _worker(
    url: str | list[str],
    out_name: str,
    *,
    page: PageUnderTest | None = None,
    naive_table: str = "",
    runs: int,
) -> dict[str, Any] | None:
    out = OUT / "raw" / f"{out_name}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.worker", "--runs", str(runs), "--out", str(out)]
    for one in [url] if isinstance(url, str) else url:
        cmd += ["--url", one]
    if naive_table:
        cmd += ["--page", str(NAIVE_PAGE), "--naive-table", naive_table]
    elif page:
        cmd += ["--page", page.path, "--url-path", page.url_path]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )  # noqa: S603
    except subprocess.TimeoutExpired:
        print(f"  {out_name}: worker timed out", flush=True)
        return {"error": "worker timed out"}
    result = load_json(out)
    if proc.returncode != 0 or result is None:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        print(f"  {out_name}: worker failed: {' | '.join(tail)[:300]}", flush=True)
        return {"error": " | ".join(tail)[:300]}
    peak = (
        next(iter(result["by_url"].values()))["peak_rss_mb"]
        if "by_url" in result
        else result["peak_rss_mb"]
    )
    print(f"  {out_name}: {time.perf_counter() - t0:.0f} s, peak {peak} MB", flush=True)
    return result  # type: ignore[no-any-return]


def run_pages(
    urls: dict[int, str], pages: list[PageUnderTest], runs: int, profile: str
) -> dict[str, Any]:
    """One worker per page measures every size, the sizes taking turns run by run (bench.worker):
    the ratio to 10k compares runs a second apart on one CPU, not minutes apart (the shared
    machine's speed drifts). The sizes share that process's peak RSS."""
    out: dict[str, Any] = {}
    for page in pages:
        result = _worker(list(urls.values()), f"{profile}-{page.name}", page=page, runs=runs) or {}
        for rows, url in urls.items():
            out[f"{page.name}|{rows}"] = result["by_url"][url] if "by_url" in result else result
    return out


def run_naive(
    urls: dict[int, str], pages: list[PageUnderTest], runs: int, profile: str, reuse: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tables = sorted({p.big_table for p in pages if p.big_table})
    for rows, url in urls.items():
        for table in tables:
            previous = load_json(OUT / "raw" / f"{profile}-{rows}-naive-{table}.json")
            if reuse and previous:
                print(f"  {profile}-{rows}-naive-{table}: reused from an earlier run", flush=True)
                out[f"{table}|{rows}"] = {**previous, "reused": True}
                continue
            if _available_mb() < NAIVE_MIN_FREE_MB:
                out[f"{table}|{rows}"] = {"error": f"skipped: under {NAIVE_MIN_FREE_MB} MB free"}
                continue
            n = runs if rows < 1_000_000 else max(2, runs // 2)
            out[f"{table}|{rows}"] = _worker(
                url, f"{profile}-{rows}-naive-{table}", naive_table=table, runs=n
            )
    return out


def run_server_measures(
    url: str, empty_url: str, pages: list[PageUnderTest], skip: set[str], runs: int
) -> dict[str, Any]:
    from bench import browser, concurrency
    from bench.server import streamlit_server

    paths = [p.url_path for p in pages]
    out: dict[str, Any] = {}
    with streamlit_server(url, "big") as srv:
        if "browser" not in skip:
            print("browser: empty database (floor) and largest database, in turns", flush=True)
            with streamlit_server(empty_url, "empty") as floor:
                both = browser.measure(
                    {"empty": floor.base_url, "big": srv.base_url}, paths, runs=runs
                )
                out["server_empty_after_browser"] = floor.memory_mb()
            out["browser_empty"], out["browser_big"] = both["empty"], both["big"]
            out["server_after_browser"] = srv.memory_mb()
        if "concurrency" not in skip:
            print("concurrency: 1, 10, 30 sessions, back to back", flush=True)
            out["concurrency"] = concurrency.measure(srv.base_url, paths)
            print(
                f"concurrency: 1, 10, 30 sessions with {concurrency.THINK_S} s think time",
                flush=True,
            )
            out["concurrency_users"] = concurrency.measure(
                srv.base_url, paths, think=concurrency.THINK_S
            )
        out["server_memory"] = srv.memory_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--profile", default="history", choices=["history", "window"])
    parser.add_argument(
        "--url", default=None, help="a server URL to build the databases on (default SQLite files)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--pages", default="", help="comma-separated url paths (default: every registered page)"
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated: pages,naive,browser,concurrency"
    )
    parser.add_argument(
        "--no-indexes", action="store_true", help="build/measure without the recommended indexes"
    )
    parser.add_argument(
        "--reuse-naive",
        action="store_true",
        help="reuse the naive page's results of an earlier run (it does not change between runs)",
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    sizes = [int(s) for s in args.sizes.split(",")]
    pages = registered_pages()
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [p for p in pages if p.url_path in wanted]
    os.environ.pop("DATABASE_READ_URL", None)
    started = datetime.now(UTC)
    print(f"building databases ({args.profile}): {sizes}", flush=True)
    urls = {
        rows: dbs.build(args.profile, rows, args.url, indexes=not args.no_indexes) for rows in sizes
    }
    empty_url = dbs.build("empty", 0, args.url, indexes=not args.no_indexes)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "profile": args.profile,
        "sizes": sizes,
        "runs": args.runs,
        "indexes": not args.no_indexes,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start",
        "databases": {
            str(r): {"url": safe_url(u), **(dbs.build_info(u) or {})} for r, u in urls.items()
        },
        "pages": [p.__dict__ for p in pages],
    }
    if "pages" not in skip:
        print("pages (AppTest, one process per page, its sizes in turns)", flush=True)
        results["page_results"] = run_pages(urls, pages, args.runs, args.profile)
    if "naive" not in skip:
        print("naive reference page", flush=True)
        results["naive_results"] = run_naive(
            urls, pages, args.runs, args.profile, reuse=args.reuse_naive
        )
    if not {"browser", "concurrency"} <= skip:
        results["server"] = run_server_measures(urls[max(sizes)], empty_url, pages, skip, args.runs)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_at_end"] = round(os.getloadavg()[0], 1)
    save_json(OUT / f"results-{args.profile}.json", results)
    from bench.report import render

    text = render(results)
    (OUT / ("report.md" if args.profile == "history" else f"report-{args.profile}.md")).write_text(
        text, encoding="utf-8"
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
