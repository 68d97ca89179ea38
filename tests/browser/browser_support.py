"""Real-browser helpers: prepare the dashboard's database, drive its pages in Chromium, and look
for error elements and database text turned into HTML (harness/ starts the server and browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robust_support import prepare_database  # noqa: F401 - re-exported for the browser tests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
RUN_TIMEOUT_MS = 60_000


# --- in the page ------------------------------------------------------------------------


def wait_for_run(page: Any, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script run has finished (and stays finished)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    script = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (!app) return false;
        const s = app.getAttribute('data-test-script-state');
        const c = app.getAttribute('data-test-connection-state');
        return s === 'notRunning' && (c === null || c === 'CONNECTED');
    }"""
    page.wait_for_function(script, timeout=timeout_ms)
    page.wait_for_timeout(
        250
    )  # a rerun (URL sync, st.rerun) may start right after the first finishes
    page.wait_for_function(script, timeout=timeout_ms)
    # Elements load their JavaScript lazily and show a skeleton until then (tables, charts).
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms
    )


def wait_for_rerun(page: Any, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """After an action that reruns the script: wait for the rerun to start (it may lag on a busy
    machine), then for it to finish."""
    try:
        page.wait_for_function(
            """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') !== 'notRunning';
        }""",
            timeout=5_000,
        )
    except Exception:  # noqa: BLE001 - the rerun may already be over
        pass
    wait_for_run(page, timeout_ms)


def open_page(page: Any, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_for_run(page)


ERROR_ELEMENTS_JS = """() => {
    const out = [];
    for (const el of document.querySelectorAll('[data-testid="stException"]')) out.push('exception: ' + el.innerText.slice(0, 300));
    for (const el of document.querySelectorAll('[data-testid="stAlertContentError"], [data-testid="stAlert"] [data-testid="stAlertContainer"][data-baseweb="notification"][kind="error"]'))
        out.push('error alert: ' + el.innerText.slice(0, 300));
    for (const el of document.querySelectorAll('[data-testid="stAlertContainer"]')) {
        if (el.querySelector('[data-testid="stAlertContentError"]')) continue;
        const kind = el.getAttribute('kind') || '';
        if (kind.toLowerCase().includes('error')) out.push('error alert: ' + el.innerText.slice(0, 300));
    }
    return out;
}"""


def error_elements(page: Any) -> list[str]:
    """Texts of exception elements and error alerts on the page."""
    return list(dict.fromkeys(page.evaluate(ERROR_ELEMENTS_JS)))


INJECTED_JS = """(marker) => {
    const found = [];
    const has = (s) => typeof s === 'string' && s.includes(marker);
    for (const a of document.querySelectorAll('a')) {
        const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
        let url = null;
        try { url = new URL(href, location.href); } catch (e) { url = null; }
        // The console's own links may carry a database id URL-encoded in their query string; a link
        // whose target (scheme, host, path) or text comes from the database may not exist.
        const foreign = url === null || url.protocol === 'javascript:' || url.origin !== location.origin || has(url.pathname);
        if ((foreign && has(href)) || href.trim().toLowerCase().startsWith('javascript:') || has(a.textContent))
            found.push('a: ' + href + ' ' + (a.textContent||'').slice(0, 80));
    }
    for (const img of document.querySelectorAll('img, image, iframe, video, audio, source, object, embed')) {
        const src = img.getAttribute('src') || img.getAttribute('href') || img.getAttribute('xlink:href') || img.getAttribute('data') || '';
        if (has(src) || src.includes('127.0.0.1:9')) found.push(img.tagName + ': ' + src);
    }
    for (const s of document.querySelectorAll('script')) if (has(s.textContent) || has(s.src)) found.push('script: ' + s.textContent.slice(0, 80));
    for (const el of document.querySelectorAll('[onerror], [onload], [onclick]')) if (el.tagName !== 'BODY') found.push('handler on ' + el.tagName);
    const formatted = 'strong, em, b, i, del, s, mark, h1, h2, h3, h4, h5, h6, blockquote, li, .katex, [class*="mermaid"], span[style*="color"], span[style*="background"]';
    for (const el of document.querySelectorAll(formatted)) {
        if (!has(el.textContent)) continue;
        if (el.closest('pre, code, [data-testid="stJson"], [data-testid="stCode"], [data-testid="stText"], [data-testid="stDataFrame"], [role="option"], [data-baseweb="select"]')) continue;
        found.push('formatted ' + el.tagName + ': ' + el.textContent.slice(0, 80));
    }
    for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) if (has(el.textContent)) found.push('markdown: ' + el.textContent.slice(0, 80));
    if (window.__msy !== undefined) found.push('script ran: ' + window.__msy);
    return found;
}"""


def injected_elements(page: Any, marker: str) -> list[str]:
    """Elements created from database text carrying `marker` (links, images, scripts, formatting)."""
    return list(dict.fromkeys(page.evaluate(INJECTED_JS, marker)))


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- controls -------------------------------------------------------------------------------

GRID_HEADER_PX = 35
GRID_ROW_PX = 35


def grids(page: Any) -> Any:
    """The dataframes of the main area."""
    return page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]')


def click_grid_row(page: Any, grid: Any, row: int = 0) -> None:
    """Click the selection checkbox of `row` in a dataframe with row selection (a canvas grid)."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + GRID_HEADER_PX + GRID_ROW_PX * row + GRID_ROW_PX / 2)
    wait_for_rerun(page)


def set_time_range(page: Any, key: str) -> None:
    """Pick a window in the sidebar's time range control."""
    page.locator(
        '[data-testid="stSidebar"] [data-testid="stButtonGroup"] button', has_text=key
    ).first.click()
    wait_for_rerun(page)


def click_button(page: Any, label: str, *, exact: bool = False) -> None:
    page.get_by_role("button", name=label, exact=exact).first.click()
    wait_for_rerun(page)


def download(page: Any, label: str = "Export CSV", nth: int = 0) -> bytes:
    """Click a download button and return the file's bytes."""
    button = page.locator('[data-testid="stDownloadButton"] button', has_text=label).nth(nth)
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    path = info.value.path()
    return Path(path).read_bytes()


def query_of(page: Any) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlparse

    return dict(parse_qsl(urlparse(page.url).query, keep_blank_values=True))


def path_of(page: Any) -> str:
    from urllib.parse import urlparse

    return urlparse(page.url).path.strip("/")


_NUMBER = __import__("re").compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def formula_cells(data: bytes) -> list[str]:
    """Cells of a CSV export that a spreadsheet would run as formulas (plain numbers excepted)."""
    import csv
    import io

    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    return [
        c
        for r in rows
        for c in r
        if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not _NUMBER.match(c)
    ]


def reveal_exports(page: Any) -> None:
    """Exports read only when asked for: press a 'Prepare export…' button or switch its toggle on."""
    if page.locator('[data-testid="stDownloadButton"] button', has_text="Export CSV").count():
        return
    import re

    asks = re.compile(r"prepare .*export", re.I)
    for button in page.locator('[data-testid="stMain"] [data-testid="stButton"] button').all():
        if button.is_visible() and asks.search(button.inner_text() or ""):
            button.click()
            wait_for_rerun(page)
            return
    for toggle in page.locator('[data-testid="stMain"] [data-testid="stCheckbox"]').all():
        if toggle.is_visible() and asks.search(toggle.inner_text() or ""):
            toggle.locator("label").first.click()
            wait_for_rerun(page)
            return
