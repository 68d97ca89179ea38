"""Load: N real browser sessions using the pages at once against one `streamlit run` server.

    python -m bench.load [--sessions 30] [--rounds 2] [--browsers 3] [--rows 3000] [--url URL]

Each session is a Chromium page (Debian's /usr/bin/chromium through Playwright, `--browsers`
processes sharing the sessions) that, for `--rounds` rounds, opens every page registered in
ui/kit/nav.py and then changes the sidebar time range. A page load counts from navigation until the
script has finished and every element has rendered (no skeleton left). Bounded in count (sessions
x rounds x pages) and in time (`--max-seconds`). Errors: exception elements, error alerts,
timeouts. Memory: the server's RSS (from /proc) before, at the peak, right after the sessions
closed, and after a second, identical batch (memory that keeps growing batch after batch is a leak).
Complements bench/concurrency.py (protocol-level clients, no browser).
Writes bench/out/load.json and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness.browser import CHROMIUM, CHROMIUM_ARGS
from harness.server import running_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "load.json"
OP_TIMEOUT_MS = 120_000
RANGES = ("7d", "24h")

DONE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    const s = app.getAttribute('data-test-script-state');
    const c = app.getAttribute('data-test-connection-state');
    return s === 'notRunning' && (c === null || c === 'CONNECTED')
        && !document.querySelector('[data-testid="stSkeleton"]');
}"""
ERRORS_JS = """() => {
    const out = [];
    for (const el of document.querySelectorAll('[data-testid="stException"]')) out.push('exception: ' + el.innerText.slice(0, 200));
    for (const el of document.querySelectorAll('[data-testid="stAlertContentError"]')) out.push('error: ' + el.innerText.slice(0, 200));
    return out;
}"""


def pages() -> list[tuple[str, str]]:
    """(url_path, title) of every page the console registers."""
    sys.path.insert(0, str(ROOT))
    from ui.kit import nav

    return [(p.url_path, p.title) for specs in nav.SECTIONS.values() for p in specs]


def prepare(url: str, rows: int) -> None:
    """All tables and demo data at `url`."""
    sys.path.insert(0, str(ROOT))
    from db.engine import make_engine
    from db.models import Base
    from db.schema import migrate
    from demo import generate as demo

    engine = make_engine(url, read_timeout=False)
    Base.metadata.create_all(engine)
    migrate.upgrade(engine)
    demo.generate(engine, rows=rows, seed=7, progress=None)
    engine.dispose()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _settled(page: Any) -> None:
    await page.wait_for_function(DONE_JS, timeout=OP_TIMEOUT_MS)
    await page.wait_for_timeout(200)
    await page.wait_for_function(DONE_JS, timeout=OP_TIMEOUT_MS)


async def _session(
    browser: Any,
    base: str,
    paths: list[tuple[str, str]],
    offset: int,
    rounds: int,
    times: dict[str, list[float]],
    errors: list[str],
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(OP_TIMEOUT_MS)
    try:
        for r in range(rounds):
            for k in range(len(paths)):
                url_path, _title = paths[(offset + k) % len(paths)]
                t0 = time.perf_counter()
                try:
                    await page.goto(f"{base}/{url_path}", wait_until="domcontentloaded")
                    await _settled(page)
                    times.setdefault(url_path, []).append(time.perf_counter() - t0)
                    errors.extend(f"{url_path}: {e}" for e in await page.evaluate(ERRORS_JS))
                    t1 = time.perf_counter()
                    button = page.locator(
                        '[data-testid="stSidebar"] [data-testid="stButtonGroup"] button',
                        has_text=RANGES[(offset + r) % len(RANGES)],
                    ).first
                    await button.click()
                    await _settled(page)
                    times.setdefault("time range change", []).append(time.perf_counter() - t1)
                    errors.extend(
                        f"{url_path} (range): {e}" for e in await page.evaluate(ERRORS_JS)
                    )
                except Exception as exc:  # noqa: BLE001 - a timeout or a crash is an error of the run
                    errors.append(
                        f"{url_path}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                    )
    finally:
        await context.close()


async def _batch(
    base: str,
    sessions: int,
    rounds: int,
    n_browsers: int,
    max_seconds: float,
    proc: subprocess.Popen[bytes],
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    paths = pages()
    times: dict[str, list[float]] = {}
    errors: list[str] = []
    peak = [rss_kb(proc.pid)]

    async def sample() -> None:
        while True:
            peak.append(rss_kb(proc.pid))
            await asyncio.sleep(0.5)

    async with async_playwright() as pw:
        browsers = [
            await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(max(1, n_browsers))
        ]
        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        jobs = [
            _session(browsers[i % len(browsers)], base, paths, i, rounds, times, errors)
            for i in range(sessions)
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*jobs), timeout=max_seconds)
        except TimeoutError:
            errors.append(f"the batch did not finish within {max_seconds:.0f}s")
        wall = time.perf_counter() - t0
        sampler.cancel()
        for b in browsers:
            await b.close()
    return {"times": times, "errors": errors, "wall_s": wall, "peak_rss_kb": max(peak)}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarise(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        name: {
            "n": len(v),
            "p50_s": round(statistics.median(v), 3),
            "p95_s": round(_pct(v, 0.95), 3),
            "max_s": round(max(v), 3),
        }
        for name, v in times.items()
        if v
    }


def run_load(
    *,
    sessions: int,
    rounds: int,
    browsers: int,
    rows: int,
    url: str | None = None,
    batches: int = 2,
    max_seconds: float = 900.0,
    settle_s: float = 5.0,
) -> dict[str, Any]:
    """Run `batches` identical batches of `sessions` browser sessions; figures per batch."""
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'load.db'}"
            prepare(url, rows)
        with running_server(url, Path(tmp) / "server.log") as srv:
            base, proc = srv.base_url, srv.proc
            urllib.request.urlopen(f"{base}/", timeout=10).read()
            result: dict[str, Any] = {
                "sessions": sessions,
                "rounds": rounds,
                "browsers": browsers,
                "pages": [p for p, _ in pages()],
                "rss_start_kb": rss_kb(proc.pid),
                "batches": [],
            }
            for _ in range(batches):
                figures = asyncio.run(_batch(base, sessions, rounds, browsers, max_seconds, proc))
                time.sleep(settle_s)  # sessions closed: let the server drop them
                result["batches"].append(
                    {
                        "wall_s": round(figures["wall_s"], 1),
                        "errors": figures["errors"],
                        "page_loads": summarise(figures["times"]),
                        "all_loads": summarise(
                            {
                                "all": [
                                    t
                                    for k, v in figures["times"].items()
                                    if k != "time range change"
                                    for t in v
                                ]
                            }
                        ).get("all", {}),
                        "peak_rss_kb": figures["peak_rss_kb"],
                        "rss_after_kb": rss_kb(proc.pid),
                    }
                )
            result["server_alive"] = proc.poll() is None
    return result


def _print(result: dict[str, Any]) -> None:
    print(
        f"{result['sessions']} sessions x {result['rounds']} rounds x {len(result['pages'])} pages, "
        f"{result['browsers']} browser(s); server RSS at start {result['rss_start_kb'] / 1024:.0f} MB"
    )
    for i, b in enumerate(result["batches"], 1):
        print(
            f"batch {i}: {b['wall_s']}s, errors {len(b['errors'])}, peak RSS {b['peak_rss_kb'] / 1024:.0f} MB, "
            f"RSS after {b['rss_after_kb'] / 1024:.0f} MB; all page loads {b['all_loads']}"
        )
        for name, f in b["page_loads"].items():
            print(
                f"  {name:<20} n={f['n']:<4} p50 {f['p50_s']:.2f}s  p95 {f['p95_s']:.2f}s  max {f['max_s']:.2f}s"
            )
        for e in b["errors"][:10]:
            print("  error:", e)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--browsers", type=int, default=3)
    ap.add_argument(
        "--rows", type=int, default=3000, help="demo rows per big table (when no --url)"
    )
    ap.add_argument(
        "--url", default=None, help="an existing database instead of a temporary demo one"
    )
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=900.0)
    args = ap.parse_args(argv)
    result = run_load(
        sessions=args.sessions,
        rounds=args.rounds,
        browsers=args.browsers,
        rows=args.rows,
        url=args.url,
        batches=args.batches,
        max_seconds=args.max_seconds,
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    _print(result)
    return 0 if all(not b["errors"] for b in result["batches"]) and result["server_alive"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
