"""Concurrent sessions against one `streamlit run` server, as protocol-level clients.

Each session is a websocket client speaking Streamlit's own protocol (the BackMsg/ForwardMsg
protobufs the browser sends and receives): it connects to /_stcore/stream, asks for a page
(`rerun_script`) and waits for `script_finished`. That is exactly the server's work for a rerun,
without a browser's rendering cost on this 2-core machine. Sessions cycle through the pages;
each does a bounded number of reruns, and the whole measure is bounded in time. An exception
element, an error alert, or a failed/timed-out rerun counts as an error.

Two load models, both reported:
- *back to back* (closed loop): every session sends its next rerun the moment the last one
  finished. This is saturation: with N sessions the one server process always has N reruns
  queued, so a rerun waits for the others' CPU time (Python runs one script thread at a time).
- *users* (think time): every session waits a random 1-3 s between reruns, as a person reading
  the page or a live-refresh timer does; this is the latency 10 or 30 people at once would see.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.common import median, pct

RERUN_TIMEOUT_S = 60.0
TOTAL_TIMEOUT_S = 300.0
THINK_S = (1.0, 3.0)
# Reruns measured at each level at least (p95 of fewer is just the slowest one).
MIN_SAMPLES = 60


def _rerun_msg(page_name: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page_name
    return msg.SerializeToString()


def _delta_problem(fm: Any) -> str | None:
    delta = fm.delta
    if delta.WhichOneof("type") != "new_element":
        return None
    el = delta.new_element
    kind = el.WhichOneof("type")
    if kind == "exception":
        return f"exception: {el.exception.type}"
    if kind == "alert" and el.alert.format == el.alert.ERROR:
        return "error alert"
    return None


async def _one_rerun(ws: Any, page_name: str) -> tuple[float, list[str]]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    problems: list[str] = []
    t0 = time.perf_counter()
    await ws.send(_rerun_msg(page_name))
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout=RERUN_TIMEOUT_S)
        fm = ForwardMsg.FromString(raw if isinstance(raw, bytes) else raw.encode())
        kind = fm.WhichOneof("type")
        if kind == "delta":
            problem = _delta_problem(fm)
            if problem:
                problems.append(problem)
        elif kind == "script_finished":
            if fm.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                problems.append("compile error")
            if fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return time.perf_counter() - t0, problems


async def _session(
    ws_url: str,
    pages: list[str],
    offset: int,
    reruns: int,
    times: list[float],
    errors: list[str],
    think: tuple[float, float] | None = None,
) -> None:
    import websockets

    rng = random.Random(offset)
    try:
        async with websockets.connect(
            ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30
        ) as ws:
            for i in range(reruns):
                if think and i:
                    await asyncio.sleep(rng.uniform(*think))
                page = pages[(offset + i) % len(pages)]
                try:
                    dt, problems = await _one_rerun(ws, page)
                except TimeoutError:
                    errors.append(f"timeout on {page}")
                    return
                times.append(dt)
                errors.extend(f"{page}: {p}" for p in problems)
    except Exception as exc:  # noqa: BLE001 - a failed session is an error, not a crash of the measure
        errors.append(f"session: {type(exc).__name__}: {str(exc)[:100]}")


async def _run(
    base_url: str,
    pages: list[str],
    sessions: int,
    reruns: int,
    think: tuple[float, float] | None = None,
) -> dict[str, Any]:
    ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    times: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    tasks = [_session(ws_url, pages, i, reruns, times, errors, think) for i in range(sessions)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=TOTAL_TIMEOUT_S)
    except TimeoutError:
        errors.append("measure timed out")
    wall = time.perf_counter() - t0
    return {
        "sessions": sessions,
        "reruns": len(times),
        "expected": sessions * reruns,
        "p50_s": median(times),
        "p95_s": pct(times, 0.95),
        "max_s": max(times) if times else None,
        "wall_s": wall,
        "errors": len(errors) + (sessions * reruns - len(times) if not errors else 0),
        "error_samples": sorted(set(errors))[:5],
    }


def measure(
    base_url: str,
    pages: list[str],
    levels: tuple[int, ...] = (1, 10, 30),
    reruns: int = 6,
    think: tuple[float, float] | None = None,
    min_samples: int = MIN_SAMPLES,
) -> dict[str, Any]:
    """For each concurrency level: p50/p95 seconds per rerun and the errors, sessions cycling pages
    (back to back, or with `think` seconds, uniform in the range, between a session's reruns).
    Every level gathers at least `min_samples` reruns (one session does more reruns than each of
    ten), so that the single session's p95 is a percentile and not the slowest of six."""
    out: dict[str, Any] = {}
    asyncio.run(_run(base_url, pages, 1, len(pages)))  # warm the server's data caches once
    for n in levels:
        out[str(n)] = asyncio.run(
            _run(base_url, pages, n, max(reruns, -(-min_samples // n)), think)
        )
    return out
