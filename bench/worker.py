"""One page on one database, measured in a process of its own (so its peak RSS is its own).

`python -m bench.worker --url URL --page pages/health.py --url-path health --runs 5 --out FILE`

Cold: `st.cache_data.clear()` and `st.cache_resource.clear()` right before the timed run, so
the run opens new connections (a fresh SQLite page cache; the OS file cache stays warm).
Warm: the same run repeated with the caches it filled. Scripts are compiled once per process, as
in a server (AppTest alone would compile them on every run). Each interaction is applied on a fresh
AppTest after an untimed open (its first run also pays AppTest's own set-up). Times are AppTest script-run wall times.
The process runs on one CPU (the idlest when it starts), so that thread placement does not vary the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from typing import Any

from bench.common import ROOT, median, save_json

TIMEOUT_S = 120


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clear() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()


def _problems(at: Any) -> list[str]:
    out = [f"exception: {str(e.value)[:160]}" for e in at.exception]
    out += [f"error: {str(e.value)[:160]}" for e in at.error]
    return out


_SCRIPT_CACHE: list[Any] = []


def _share_script_cache() -> None:
    """One ScriptCache (compiled scripts) for every AppTest run, as a server keeps one: AppTest makes
    a new one per run and so compiles app.py and the page again each time (2-4 ms a rerun that
    no server pays)."""
    if _SCRIPT_CACHE:
        return
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    _SCRIPT_CACHE.append(ScriptCache())
    app_test.ScriptCache = lambda: _SCRIPT_CACHE[0]  # type: ignore[assignment,misc]


def _idle_ticks() -> dict[int, int]:
    out: dict[int, int] = {}
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                out[int(name[3:])] = int(fields[3]) + int(fields[4])  # idle + iowait
    return out


def pin_to_one_cpu() -> int | None:
    """Run this process on one CPU, the idlest over a short look (None where affinity is not
    available). The page's script thread and AppTest's threads then share that core: with them
    spread over two, GIL hand-offs between cores and migrations made the same run vary up to 2x
    from one process to the next."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    try:
        before = _idle_ticks()
        time.sleep(0.3)
        after = _idle_ticks()
    except OSError:
        return None
    cpu = max(allowed, key=lambda c: after.get(c, 0) - before.get(c, 0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _app(page: str, query: dict[str, str] | None = None) -> Any:
    from streamlit.testing.v1 import AppTest

    _share_script_cache()

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.switch_page(page)


def _timed_run(at: Any) -> float:
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0


def traced_peak_mb(page: str) -> float:
    """Python-side allocation peak (tracemalloc) of one cold open of the page, in MB."""
    import tracemalloc

    at = _app(page)
    at.run()
    _clear()
    tracemalloc.start()
    try:
        at.run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _use(url: str) -> None:
    os.environ["DATABASE_URL"] = url  # read on every run (db.settings keys its cache on it)


def measure_page(page: str, url_path: str, runs: int, urls: list[str]) -> dict[str, dict[str, Any]]:
    """url -> cold and warm script times of each interaction of the page on that database.

    With several databases (the sizes), the runs take turns: the cold run of an interaction on
    each size, then the next round, and the warm runs likewise. The ratio of two sizes then
    compares runs made a second apart on the same CPU, not minutes apart."""
    from bench.interactions import discover

    found: dict[str, dict[str, Any]] = {}
    for url in urls:
        _use(url)
        warm_up = _app(page)
        warm_up.run()  # imports and first-run costs, which a running server has already paid
        found[url] = {inter.kind: inter for inter in discover(warm_up, url_path)}
    kinds = list(dict.fromkeys(kind for url in urls for kind in found[url]))
    results: dict[str, dict[str, Any]] = {url: {} for url in urls}
    for kind in kinds:
        cold: dict[str, list[float]] = {url: [] for url in urls}
        warm: dict[str, list[float]] = {url: [] for url in urls}
        problems: dict[str, list[str]] = {url: [] for url in urls}
        last: dict[str, Any] = {}
        for _ in range(runs):
            for url in urls:
                inter = found[url].get(kind)
                if inter is None:
                    continue
                _use(url)
                # Untimed first run: AppTest scans component manifests on a new instance (~0.1-0.3 s,
                # a cost the server pays once), and the page must be open before the interaction.
                at = _app(page)
                at.run()
                try:
                    inter.apply(at)
                except Exception as exc:  # noqa: BLE001 - the widget was not drawn this time: say so, go on
                    problems[url].append(f"could not apply: {type(exc).__name__}: {str(exc)[:80]}")
                    continue
                _clear()
                cold[url].append(_timed_run(at))
                problems[url] += _problems(at)
                last[url] = at
        for (
            url,
            at,
        ) in last.items():  # the other sizes' cold runs cleared the caches: fill them again
            _use(url)
            at.run()
        for _ in range(runs):
            for url, at in last.items():
                _use(url)
                warm[url].append(_timed_run(at))
                problems[url] += _problems(at)
        for url in urls:
            if kind not in found[url]:
                continue
            results[url][kind] = {
                "label": found[url][kind].label,
                "cold_s": median(cold[url]),
                "warm_s": median(warm[url]),
                "cold_all": [round(x, 4) for x in cold[url]],
                "warm_all": [round(x, 4) for x in warm[url]],
                "problems": sorted(set(problems[url]))[:5],
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument(
        "--url",
        required=True,
        action="append",
        help="a database; repeat it to measure several sizes in turns (one result each)",
    )
    parser.add_argument(
        "--page", required=True, help="script path, e.g. pages/health.py (or bench/naive_page.py)"
    )
    parser.add_argument("--url-path", default="")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-table", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    urls: list[str] = args.url
    _use(urls[0])
    os.environ.pop("DATABASE_READ_URL", None)
    sys.path.insert(0, str(ROOT))
    base_rss = _rss_mb()
    pin_to_one_cpu()
    if args.naive_table:
        from bench.naive_page import measure as naive_measure

        by_url = {urls[0]: naive_measure(urls[0], args.naive_table, args.runs)}
    else:
        by_url = measure_page(args.page, args.url_path, args.runs, urls)
    peak = _peak_mb()  # before tracemalloc, which adds its own overhead
    py_peaks: dict[str, float | None] = {}
    for url in urls:
        _use(url)
        py_peaks[url] = None if args.naive_table else round(traced_peak_mb(args.page), 1)
    # One result per database; the process (and so its peak RSS) is shared by the sizes measured together.
    out = {
        url: {
            "results": by_url[url],
            "peak_rss_mb": round(peak, 1),
            "start_rss_mb": round(base_rss, 1),
            "py_peak_mb": py_peaks[url],
        }
        for url in urls
    }
    save_json(
        __import__("pathlib").Path(args.out), out[urls[0]] if len(urls) == 1 else {"by_url": out}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
