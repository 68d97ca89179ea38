"""Real-browser time from navigation to the page's data being visible (Playwright + Chromium).

Each navigation uses a new browser context (no HTTP cache, a new Streamlit session). "Data
visible" = the script has finished and every visible dataframe grid and chart of the main area
has rendered, and that state holds (pages without any count their title and content). The first navigation to a page hits
the server's cold data caches; the median of the following ones is the steady figure. Several servers
(the empty-database floor and the big database) are measured in turns, so that both sides of a ratio
see the same machine.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import OUT, median
from harness.browser import launched_chromium

# The state of the main area: the script state, and whether every visible dataframe and chart
# (not in a collapsed expander) has rendered. Elements load their JavaScript lazily (a skeleton
# stands in until it has loaded, which under load can take over a second), so a container can
# exist before its dataframe does: the page counts as visible once no skeleton is left, the state
# is complete and has not changed for SETTLE_S; its time is when that final state first appeared.
STATE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const app = document.querySelector('[data-testid="stApp"]');
  if (!main || !app) return null;
  const shown = (el) => el.getClientRects().length > 0 && !el.closest('details:not([open])');
  const frames = [...main.querySelectorAll('[data-testid="stDataFrame"]')].filter(shown);
  const plots = [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(shown);
  const vegas = [...main.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter(shown);
  // An element whose JavaScript is still loading is a skeleton (no dataframe or chart testid yet).
  const skeletons = [...main.querySelectorAll('[data-testid="stSkeleton"]')].filter(shown).length;
  const pending = frames.filter((f) => !f.querySelector('canvas')).length
    + plots.filter((p) => !p.querySelector('.main-svg')).length
    + vegas.filter((v) => !v.querySelector('canvas, svg')).length + skeletons;
  const done = app.getAttribute('data-test-script-state') === 'notRunning' && !!main.querySelector('h1') && !pending;
  const elements = main.querySelectorAll('[data-testid="stElementContainer"]').length;
  return {done, what: `${frames.length} frames, ${plots.length + vegas.length} charts`,
          sig: `${elements}/${frames.length}/${plots.length}/${vegas.length}/${pending}`};
}"""
SETTLE_S = 1.0
POLL_S = 0.04
# What is still missing when the wait times out (for the report).
PENDING_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const app = document.querySelector('[data-testid="stApp"]');
  const shown = (el) => el.getClientRects().length > 0 && !el.closest('details:not([open])');
  const n = (sel, inner) => [...main.querySelectorAll(sel)].filter(shown).filter((e) => !e.querySelector(inner)).length;
  return `state ${app?.getAttribute('data-test-script-state')}, skeletons ${[...main.querySelectorAll('[data-testid="stSkeleton"]')].filter(shown).length}, frames without canvas `
    + `${n('[data-testid="stDataFrame"]', 'canvas')}, plots without svg ${n('[data-testid="stPlotlyChart"]', '.main-svg')}`;
}"""
TIMEOUT_MS = 20_000


def _wait_visible(page: Any, t0: float) -> tuple[float, str]:
    """Seconds from t0 until the main area reached its final, complete state."""
    deadline = t0 + TIMEOUT_MS / 1000
    since: float | None = None
    sig = None
    while time.perf_counter() < deadline:
        state = page.evaluate(STATE_JS)
        now = time.perf_counter()
        if state and state["done"]:
            if state["sig"] != sig:
                sig, since = state["sig"], now
            elif since is not None and now - since >= SETTLE_S:
                return since - t0, str(state["what"])
        else:
            sig, since = None, None
        time.sleep(POLL_S)
    raise TimeoutError("page did not settle")


def _visible_after(browser: Any, url: str) -> tuple[float | None, str]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        return _wait_visible(page, t0)
    except Exception as exc:  # noqa: BLE001
        state = page.evaluate(PENDING_JS)
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / f"browser-failed-{url.rsplit('/', 1)[-1] or 'root'}.png"))
        return None, f"failed: {type(exc).__name__} ({state})"
    finally:
        ctx.close()


def measure(
    bases: dict[str, str], url_paths: list[str], runs: int = 5
) -> dict[str, dict[str, Any]]:
    """name -> url_path -> first (cold server cache) and median steady time to data visible, in seconds,
    for each server of `bases` (name -> base URL).

    The servers take turns page by page and run by run (floor, big, floor, big, ...): a change of the
    machine's load during the measure weighs on both sides of a ratio alike.
    """
    out: dict[str, dict[str, Any]] = {name: {} for name in bases}
    with launched_chromium() as browser:
        for base in bases.values():  # the entry page first: a fresh server's deep links need it
            _visible_after(browser, base + "/")
        for path in url_paths:
            first = {
                name: _visible_after(browser, f"{base}/{path}") for name, base in bases.items()
            }
            steady: dict[str, list[tuple[float | None, str]]] = {name: [] for name in bases}
            for _ in range(runs):
                for name, base in bases.items():
                    steady[name].append(_visible_after(browser, f"{base}/{path}"))
            for name in bases:
                times = [t for t, _ in steady[name] if t is not None]
                out[name][path] = {
                    "first_s": first[name][0],
                    "median_s": median(times),
                    "all": [round(t, 3) for t in times],
                    "element": first[name][1],
                    "failures": sum(1 for t, _ in steady[name] if t is None),
                }
    return out
