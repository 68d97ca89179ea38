"""Real-browser time from navigation to the page's data being visible (Playwright + Chromium).

Each navigation uses a new browser context (no HTTP cache, a new Streamlit session). "Data
visible" = the script has finished and every visible dataframe grid and chart of the main area
has rendered (pages without any count their title). The first navigation to a page hits
the server's cold data caches; the median of the following ones is the steady figure.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import CHROMIUM, CHROMIUM_ARGS, median

# Done = the script has finished and every visible dataframe and chart of the main area has
# rendered (grid canvas, plotly SVG, vega canvas). Returns what was seen, or null to keep waiting.
DONE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const app = document.querySelector('[data-testid="stApp"]');
  if (!main || !app || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  if (!main.querySelector('h1')) return null;
  const shown = (el) => el.getClientRects().length > 0;
  const frames = [...main.querySelectorAll('[data-testid="stDataFrame"]')].filter(shown);
  const plots = [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(shown);
  const vegas = [...main.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter(shown);
  if (frames.some((f) => !f.querySelector('canvas'))) return null;
  if (plots.some((p) => !p.querySelector('.main-svg'))) return null;
  if (vegas.some((v) => !v.querySelector('canvas, svg'))) return null;
  const n = frames.length + plots.length + vegas.length;
  return n ? `${frames.length} frames, ${plots.length + vegas.length} charts` : 'no data element';
}"""
TIMEOUT_MS = 60_000


def _visible_after(browser: Any, url: str) -> tuple[float | None, str]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        handle = page.wait_for_function(DONE_JS, timeout=TIMEOUT_MS, polling=50)
        return time.perf_counter() - t0, str(handle.json_value())
    except Exception as exc:  # noqa: BLE001
        return None, f"failed: {type(exc).__name__}"
    finally:
        ctx.close()


def measure(base_url: str, url_paths: list[str], runs: int = 5) -> dict[str, Any]:
    """url_path -> first (cold server cache) and median steady time to data visible, in seconds."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            _visible_after(browser, base_url + "/")  # the entry page first: a fresh server's deep links need it
            for path in url_paths:
                first, what = _visible_after(browser, f"{base_url}/{path}")
                steady = [_visible_after(browser, f"{base_url}/{path}") for _ in range(runs)]
                times = [t for t, _ in steady if t is not None]
                out[path] = {"first_s": first, "median_s": median(times), "all": [round(t, 3) for t in times],
                             "element": what, "failures": sum(1 for t, _ in steady if t is None)}
        finally:
            browser.close()
    return out
