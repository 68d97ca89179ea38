"""A small version of the load run (bench/load.py runs 30 sessions): several browser sessions use
every page at once against one server; no errors, every load completes, the server survives, and
its memory does not keep growing from one identical batch to the next."""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SESSIONS = 3
# A second identical batch may add at most this much resident memory (caches are bounded).
MAX_GROWTH_KB = 150 * 1024


def _load_module() -> Any:
    path = Path(__file__).resolve().parents[2] / "bench" / "load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_concurrent_sessions(chromium: str) -> None:
    load = _load_module()
    # Its own thread: bench/load.py runs asyncio, which cannot start where the session's sync
    # Playwright (the `browser` fixture of an earlier test in this process) keeps its loop.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(
            load.run_load,
            sessions=SESSIONS,
            rounds=1,
            browsers=1,
            rows=1000,
            batches=2,
            max_seconds=600,
            settle_s=2.0,
        ).result()
    assert result["server_alive"]
    pages = result["pages"]
    for batch in result["batches"]:
        assert batch["errors"] == [], batch["errors"]
        for name in pages:
            assert batch["page_loads"][name]["n"] == SESSIONS, (name, batch["page_loads"].get(name))
        assert batch["page_loads"]["time range change"]["n"] == SESSIONS * len(pages)
    first, second = result["batches"]
    assert second["rss_after_kb"] - first["rss_after_kb"] < MAX_GROWTH_KB, (first, second)
