"""The journeys' machinery: data sets, a server per data set, the server-log watcher, and `Journey`,
which runs steps as a person does and after each one reloads the page (every tenth step also goes
back and forward), collecting every problem it sees instead of stopping at the first.

A problem is: a server exception (a traceback or an exception line in the server's log), "This app
has encountered an error" or an exception element, an error alert the step did not expect, a
browser console error, anything the page did not finish or show within 60 s, or a check of the
step that did not hold. A step that cannot go on (a control that is not there) ends the journey;
that too is a problem, named with its step.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from browser_support import ARTIFACTS

from harness.server import Server

ROOT = Path(__file__).resolve().parents[2]
HEAD_FIXTURE = ROOT.parent / "shared" / "fixtures" / "origin-head.db"
DATASETS = ("demo", "messy", "origin-head")
DEMO_ROWS = 400  # rows per big table: enough for every panel, small enough for a quick server
MESSY_SEED = 21
# Speed is the benchmark's job (bench/), not a test's: a run or element slower than SLOW_S is
# noted in the journey's printed log; only one that never comes within GIVE_UP_S fails a step.
SLOW_S = 10.0
GIVE_UP_S = 60.0
BACK_FORWARD_EVERY = 10


# --- data sets ----------------------------------------------------------------------------------


def prepare_dataset(name: str, directory: Path) -> str:
    """A SQLite file holding the data set, with the console's own tables migrated; its URL."""
    from db.engine import make_engine
    from db.models import Base
    from db.schema import migrate

    path = directory / f"{name}.db"
    if name == "origin-head":
        shutil.copyfile(HEAD_FIXTURE, path)  # the fixture is read-only; WAL needs a writable copy
        os.chmod(path, 0o644)
    url = f"sqlite:///{path}"
    engine = make_engine(url, read_timeout=False)
    try:
        if name != "origin-head":  # the backend's own create_all wrote the head's tables
            Base.metadata.create_all(engine)
        migrate.upgrade(engine)  # as a deployment runs `python -m db.schema.migrate`
        if name == "demo":
            from demo import generate as demo

            demo.generate(engine, rows=DEMO_ROWS, seed=7, progress=None)
        elif name == "messy":
            from demo import messy

            messy.generate(engine, seed=MESSY_SEED)
    finally:
        engine.dispose()
    return url


def window_params(url: str, dataset: str = "") -> dict[str, str]:
    """The time range a person picks to see the data set's rows: the default 24 h when its newest
    error or snapshot is recent, else the shortest range holding it, else custom days around it.
    The messy data spreads its rows over the last 20 days (and 1970, 2099): 30 days."""
    from sqlalchemy import func, select

    if dataset == "messy":
        return {"range": "30d"}
    from db.engine import make_engine
    from db.models import CriticalErrorLog, OpportunitySnapshot

    engine = make_engine(url, read_timeout=False)
    try:
        with engine.connect() as conn:
            now = datetime.now(UTC)
            newest = [
                conn.execute(select(func.max(col)).where(col <= now.replace(tzinfo=None))).scalar()
                for col in (CriticalErrorLog.created_at, OpportunitySnapshot.created_at)
            ]
    finally:
        engine.dispose()
    newest = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in newest if t is not None]
    if not newest:
        return {}
    age = now - max(newest)
    if age < timedelta(hours=20):
        return {}
    for key, span in (("7d", timedelta(days=6)), ("30d", timedelta(days=29))):
        if age < span:
            return {"range": key}
    day = max(newest).date()
    return {"range": "custom", "from": (day - timedelta(days=1)).isoformat(), "to": day.isoformat()}


@dataclass
class Site:
    """A server on one data set, shared by the persons of that data set."""

    dataset: str
    url: str
    server: Server
    window: dict[str, str]

    def link(self, path: str, **params: str) -> str:
        """A URL of the console with the data set's window and the given parameters."""
        query = {**self.window, **params}
        return f"{self.server.base_url}/{path}" + (f"?{urlencode(query)}" if query else "")

    def query(self, stmt: Any) -> list[Any]:
        from db.engine import make_engine

        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(stmt).all())
        finally:
            engine.dispose()


# --- the server's log ---------------------------------------------------------------------------

# Our own logged warnings (ui.kit.widgets.guard, db.auth): what they say is shown on the page, where
# the journey judges it; they are not exceptions.
OWN_WARNINGS = (re.compile(r"^database problem in "), re.compile(r"^permission denied: "))
EXCEPTION_LINE = re.compile(
    r"^(\w+\.)*\w*(Error|Exception|Warning)\b.*|.*\bUncaught (app )?exception.*|"
    r".*Uncaught app execution.*",
    re.I,
)


class LogWatcher:
    """Reads what the server wrote since the last look and returns the exceptions in it, quoted."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def skip(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def new_exceptions(self) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n") + 1  # a line being written stays for the next look
        self.offset += end
        return exceptions_in(chunk[:end].decode("utf-8", errors="replace"))


def exceptions_in(text: str) -> list[str]:
    """Tracebacks (quoted from their first frame of ours to the exception line) and lone exception
    lines in a log; our own warnings excepted."""
    found: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Traceback (most recent call last)"):
            block = [line]
            i += 1
            while i < len(lines) and (
                lines[i].startswith((" ", "\t"))
                or not lines[i].strip()
                or lines[i].startswith(("During handling", "The above exception"))
                or lines[i].startswith("Traceback")
            ):
                block.append(lines[i])
                i += 1
            if i < len(lines):
                block.append(lines[i])  # the exception line
                i += 1
            ours = [
                b.strip()
                for b in block
                if "/work/" in b or "/pages/" in b or "/ui/" in b or "/db/" in b
            ]
            where = next((b for b in reversed(ours) if b.startswith("File ")), "")
            found.append(f"{block[-1].strip()}  [{where}]")
            continue
        bare = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ", "", line).strip()
        if (
            bare
            and not any(p.match(bare) for p in OWN_WARNINGS)
            and EXCEPTION_LINE.match(bare)
            and not bare.lower().startswith("uncaught app execution")
        ):
            found.append(bare[:300])
        i += 1
    return found


# --- the browser page ---------------------------------------------------------------------------

# The frontend finds its base path by asking <page path>/_stcore/health and /host-config first; on a
# deep link (/errors) those two 404 before it tries the root. Streamlit's own probing, not ours.
BASE_PATH_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")
APP_ERROR_TEXT = "This app has encountered an error"
SCRIPT_STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    const s = app.getAttribute('data-test-script-state');
    const c = app.getAttribute('data-test-connection-state');
    return s === 'notRunning' && (c === null || c === 'CONNECTED')
        && !document.querySelector('[data-testid="stSkeleton"]');
}"""
ERROR_ALERTS_JS = """() => {
    const out = [];
    for (const el of document.querySelectorAll('[data-testid="stException"]'))
        out.push('exception element: ' + el.innerText.slice(0, 300));
    for (const el of document.querySelectorAll('[data-testid="stAlertContentError"]'))
        out.push('error alert: ' + el.innerText.slice(0, 300));
    if (document.body.innerText.includes('This app has encountered an error'))
        out.push('This app has encountered an error');
    return [...new Set(out)];
}"""


def watch_console(page: Any) -> list[str]:
    """Console errors of `page` (and uncaught page errors), collected as they come."""
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and BASE_PATH_PROBE.search(
            urlparse(where).path
        ):
            return
        errors.append(f"{msg.text[:300]} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {str(exc)[:300]}"))
    return errors


class StepFailed(Exception):
    """A step cannot go on (its message says why); the journey ends there."""


@dataclass
class Journey:
    """One person's sitting on one data set, in one browser context."""

    person: str
    site: Site
    browser: Any
    contexts: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    step_no: int = 0
    timings: list[str] = field(default_factory=list)
    keep: str = ""  # set by a step: text its result shows, which a reload must show again
    current: str = "start"

    def __post_init__(self) -> None:
        self.log = LogWatcher(self.site.server.log_path)
        self.log.skip()
        self.page, self.console = self.new_page()

    # -- pages and contexts --
    def new_page(self, context: Any = None) -> tuple[Any, list[str]]:
        """A page in `context` (a fresh browser context when None), its console watched."""
        if context is None:
            context = self.browser.new_context(
                viewport={"width": 1400, "height": 1000}, accept_downloads=True
            )
            self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(GIVE_UP_S * 1000)
        return page, watch_console(page)

    def switch_to(self, page: Any) -> None:
        """Go on in `page` (a tab a link opened); the old tab is closed."""
        old, self.page, self.console = self.page, page, watch_console(page)
        old.close()
        page.set_default_timeout(GIVE_UP_S * 1000)
        page.wait_for_load_state("domcontentloaded")
        self.settle(started=True)

    def close(self) -> None:
        for ctx in self.contexts:
            try:
                ctx.close()
            except Exception:  # noqa: BLE001 - closing after a failure
                pass

    # -- problems --
    def problem(self, what: str) -> None:
        entry = f"[{self.site.dataset}] {self.person}, step {self.step_no} ({self.current}): {what}"
        if entry not in self.problems:
            self.problems.append(entry)
            if len(self.problems) <= 12:
                self.shot(f"problem{len(self.problems)}")

    def check(self, ok: object, what: str) -> bool:
        """A check a person would make; a failure is recorded and the journey goes on."""
        if not ok:
            self.problem(what)
        return bool(ok)

    def require(self, ok: object, what: str) -> None:
        """A check the next steps depend on: a failure ends the journey."""
        if not ok:
            raise StepFailed(what)

    # -- waiting --
    def settle(self, page: Any = None, *, started: bool = False) -> None:
        """Wait until the script run is over and no element still loads (over 60 s ends the step)."""
        page = page or self.page
        if not started:  # a rerun may start a moment after the action
            try:
                page.wait_for_function(
                    """() => { const a = document.querySelector('[data-testid="stApp"]');
                    return a && a.getAttribute('data-test-script-state') !== 'notRunning'; }""",
                    timeout=1500,
                )
            except Exception:  # noqa: BLE001 - it may be over already
                pass
        t0 = time.monotonic()
        self._until(
            page,
            lambda ms: page.wait_for_function(SCRIPT_STATE_JS, timeout=ms),
            "the page's run",
            t0,
        )
        page.wait_for_timeout(
            200
        )  # a follow-up rerun (URL sync, st.rerun) starts right after the first
        self._until(
            page,
            lambda ms: page.wait_for_function(SCRIPT_STATE_JS, timeout=ms),
            "the page's rerun",
            t0,
        )

    def _until(self, page: Any, wait: Callable[[int], Any], what: str, t0: float) -> None:
        left = SLOW_S - (time.monotonic() - t0)
        try:
            wait(max(int(left * 1000), 1))
            return
        except Exception:  # noqa: BLE001 - slower than 10 s: noted, and wait on
            self.slow.append(
                f"step {self.step_no} ({self.current}): {what} took over {SLOW_S:.0f} s"
            )
        try:
            wait(int((GIVE_UP_S - SLOW_S) * 1000))
        except Exception as exc:  # noqa: BLE001
            raise StepFailed(f"{what} did not finish within {GIVE_UP_S:.0f} s") from exc

    def find(self, locator: Any, what: str, *, page: Any = None) -> Any:
        """The first visible match of `locator`; none within 60 s ends the step."""
        t0 = time.monotonic()
        self._until(
            page or self.page,
            lambda ms: locator.first.wait_for(state="visible", timeout=ms),
            what,
            t0,
        )
        return locator.first

    def has(self, locator: Any, timeout_ms: int = 0) -> bool:
        """Whether `locator` shows (now, or within timeout_ms)."""
        if timeout_ms <= 0:
            return bool(locator.first.is_visible())
        try:
            locator.first.wait_for(state="visible", timeout=timeout_ms)
            return True
        except Exception:  # noqa: BLE001
            return False

    # -- looking at the page --
    def look(
        self,
        page: Any = None,
        *,
        console: list[str] | None = None,
        allow: tuple[str, ...] = (),
        when: str = "",
    ) -> None:
        """Record what is wrong now: server exceptions, error elements, console errors."""
        page = page or self.page
        console = self.console if console is None else console
        suffix = f" ({when})" if when else ""
        for exc in self.log.new_exceptions():
            self.problem(f"server exception{suffix}: {exc}")
        for err in page.evaluate(ERROR_ALERTS_JS):
            if not any(a in err for a in allow):
                self.problem(f"{err}{suffix}")
        while console:
            self.problem(f"browser console error{suffix}: {console.pop(0)}")

    def shot(self, name: str, page: Any = None) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = (
            ARTIFACTS / f"journey-{self.person}-{self.site.dataset}-{self.step_no:02d}-{name}.png"
        )
        try:
            (page or self.page).screenshot(path=str(path), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot is a help, never the failure
            pass
        return path

    # -- steps --
    @contextmanager
    def step(
        self, title: str, *, allow: tuple[str, ...] = (), reload: bool = True
    ) -> Iterator[None]:
        """One step: do it, look, reload and look again (every tenth step also back and forward).

        `allow`: texts of error alerts this step expects (a validation message). `reload=False` for
        a step whose result is unsaved input a reload would drop: the reload then happens in a second
        tab of the same browser at the same URL (what a reload would show), the person's tab kept."""
        self.step_no += 1
        self.current, self.keep = title, ""
        t0 = time.monotonic()
        try:
            yield
            self.look(allow=allow, when="after the step")
        except StepFailed as exc:
            self.look(allow=allow, when="when the step failed")
            self.shot("failed")
            self.problem(f"cannot go on: {exc}")
            raise
        except Exception as exc:  # noqa: BLE001 - a playwright error: the step cannot go on
            self.look(allow=allow, when="when the step failed")
            self.shot("failed")
            self.problem(f"cannot go on: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            raise StepFailed(str(exc)) from exc
        self.done.append(title)
        self.reload(real=reload, allow=allow)
        if self.step_no % BACK_FORWARD_EVERY == 0:
            self.back_and_forward(allow=allow)
        self.timings.append(f"{title}: {time.monotonic() - t0:.1f} s")

    def reload(self, *, real: bool = True, allow: tuple[str, ...] = ()) -> None:
        url = self.page.url
        if real:
            self.page.reload(wait_until="domcontentloaded")
            self.settle(started=True)
            self.look(allow=allow, when="after reload")
            self.check(
                same_state(url, self.page.url),
                f"the reload lost URL state: {url} -> {self.page.url}",
            )
            self.check(
                not self.keep
                or self.keep in str(self.page.locator('[data-testid="stMain"]').inner_text()),
                f"after a reload the page no longer shows {self.keep!r} (the URL kept its state)",
            )
            return
        twin, console = self.new_page(self.page.context)
        try:
            twin.goto(url, wait_until="domcontentloaded")
            self.settle(twin, started=True)
            self.look(
                twin, console=console, allow=allow, when="the same URL reloaded in a second tab"
            )
            self.check(
                not self.keep
                or self.keep in str(twin.locator('[data-testid="stMain"]').inner_text()),
                f"the same URL in a second tab does not show {self.keep!r}",
            )
        finally:
            twin.close()

    def back_and_forward(self, *, allow: tuple[str, ...] = ()) -> None:
        url = self.page.url
        self.page.go_back(wait_until="domcontentloaded")
        self.settle(started=True)
        self.look(allow=allow, when="after going back")
        self.page.go_forward(wait_until="domcontentloaded")
        self.settle(started=True)
        self.look(allow=allow, when="after going back and forward")
        self.check(
            same_state(url, self.page.url),
            f"back and forward lost the URL state: {url} -> {self.page.url}",
        )

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded")
        self.settle(started=True)

    def verdict(self) -> str:
        return (
            f"{self.person} on {self.site.dataset}: {len(self.problems)} problem(s) after "
            f"{len(self.done)} step(s) done ({', '.join(self.done) or 'none'}):\n  - "
            + "\n  - ".join(self.problems)
        )


def same_state(before: str, after: str) -> bool:
    """Two URLs of the same page and query (order aside)."""
    a, b = urlparse(before), urlparse(after)
    return a.path.rstrip("/") == b.path.rstrip("/") and sorted(parse_qsl(a.query)) == sorted(
        parse_qsl(b.query)
    )


def query_of(page: Any) -> dict[str, str]:
    return dict(parse_qsl(urlparse(page.url).query, keep_blank_values=True))


@contextmanager
def sitting(person: str, site: Site, browser: Any) -> Iterator[Journey]:
    """A journey, closed at the end; the test fails listing every problem it met."""
    j = Journey(person, site, browser)
    try:
        yield j
    except StepFailed:
        pass  # recorded as a problem of its step
    finally:
        j.close()
        print(f"{person} on {site.dataset}:", "; ".join(j.timings))
        if j.slow:
            print("slow (see bench/ for speed):", "; ".join(j.slow))
    assert not j.problems, j.verdict()


# --- controls, found by role and label as a person finds them ----------------------------------


def main(j: Journey, page: Any = None) -> Any:
    return (page or j.page).locator('[data-testid="stMain"]')


def main_text(j: Journey, page: Any = None) -> str:
    return str(main(j, page).inner_text())


def sidebar_link(j: Journey, title: str) -> None:
    """Go to a page through the sidebar menu."""
    link = j.page.locator('[data-testid="stSidebar"] a').filter(
        has=j.page.get_by_text(title, exact=True)
    )
    j.find(link, f"the sidebar link {title!r}").click()
    j.settle()


def buttons_named(j: Journey, name: str | re.Pattern[str], page: Any = None) -> Any:
    return main(j, page).get_by_role("button", name=name)


def press(j: Journey, name: str | re.Pattern[str], *, page: Any = None) -> None:
    """Click a button of the main area by its name and wait for the page's run."""
    j.find(buttons_named(j, name, page), f"the button {name!r}", page=page).click()
    j.settle(page)


def segment(j: Journey, label: str, *, page: Any = None) -> None:
    """Pick an option of a segmented control (a view, a tab) in the main area."""
    option = (
        main(j, page)
        .locator('[data-testid="stButtonGroup"] button')
        .filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    )
    j.find(option, f"the option {label!r}", page=page).click()
    j.settle(page)


def grids(j: Journey, page: Any = None) -> Any:
    return main(j, page).locator('[data-testid="stDataFrame"]')


GRID_HEADER_PX = 35
GRID_ROW_PX = 35


def click_row(j: Journey, grid: Any, row: int = 0, *, page: Any = None) -> None:
    """Tick the selection box of `row` of a dataframe with row selection (a canvas grid)."""
    page = page or j.page
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    j.require(box is not None, "a table to select a row in is not on the page")
    page.mouse.click(box["x"] + 18, box["y"] + GRID_HEADER_PX + GRID_ROW_PX * row + GRID_ROW_PX / 2)
    j.settle(page)


def widget(j: Journey, testid: str, label: str, page: Any = None) -> Any:
    """A widget of the main area by its label."""
    return (
        main(j, page)
        .locator(f'[data-testid="{testid}"]')
        .filter(has=(page or j.page).locator('[data-testid="stWidgetLabel"]', has_text=label))
    )


def fill(j: Journey, label: str, text: str, *, page: Any = None) -> None:
    """Type into a text input or text area found by its label (the value is sent on blur)."""
    box = (
        main(j, page)
        .locator('[data-testid="stTextInput"], [data-testid="stTextArea"]')
        .filter(has=(page or j.page).locator('[data-testid="stWidgetLabel"]', has_text=label))
    )
    field = j.find(box.locator("input, textarea"), f"the field {label!r}", page=page)
    field.fill(text)


def field_value(j: Journey, label: str, *, page: Any = None) -> str | None:
    box = (
        main(j, page)
        .locator('[data-testid="stTextInput"], [data-testid="stTextArea"]')
        .filter(has=(page or j.page).locator('[data-testid="stWidgetLabel"]', has_text=label))
    )
    field = box.locator("input, textarea")
    return field.first.input_value() if field.count() else None


def combobox(j: Journey, label: str, page: Any = None) -> Any:
    """A selectbox or multiselect of the main area by its label (a react-aria combobox in 1.67)."""
    return main(j, page).get_by_role("combobox", name=label, exact=True)


def open_list(j: Journey, label: str, page: Any) -> None:
    """Open a selectbox's list with its arrow button (clicking the text would filter the list by it)."""
    box = j.find(combobox(j, label, page), f"the {label!r} list", page=page)
    arrow = box.locator("xpath=ancestor::*[@role='group'][1]").locator('button[aria-label="Open"]')
    (arrow.first if arrow.count() else box).click()


def options_of(j: Journey, label: str, *, page: Any = None) -> list[str]:
    """The option texts of a selectbox or multiselect (opened and closed again)."""
    page = page or j.page
    open_list(j, label, page)
    opts = page.get_by_role("option")
    j.has(opts, 3000)
    texts = [t.strip() for t in opts.all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def choose(
    j: Journey, label: str, option: str | re.Pattern[str], *, page: Any = None, multi: bool = False
) -> None:
    """Pick an option of a selectbox or multiselect by its shown text."""
    page = page or j.page
    opt = page.get_by_role("option").filter(has_text=option)
    for _ in range(3):  # a rerun that lands just then redraws the widget and closes its list
        open_list(j, label, page)
        if j.has(opt, 3000):
            break
        page.keyboard.press("Escape")
        j.settle(page)
    j.find(opt, f"the option {option!r} of {label!r}", page=page).click()
    if multi:
        page.keyboard.press("Escape")
    j.settle(page)


def move_slider(
    j: Journey, label: str, *, thumb: int, key: str, times: int, page: Any = None
) -> tuple[str, str]:
    """Move one thumb of a range slider with the keyboard; its (start, end) values after."""
    page = page or j.page
    slider = widget(j, "stSlider", label, page)
    inputs = slider.locator('input[type="range"]')
    j.find(inputs, f"the slider {label!r}", page=page)
    handle = inputs.nth(thumb)
    handle.focus()
    for _ in range(times):
        page.keyboard.press(key)
    handle.blur()
    j.settle(page)
    values = slider.locator('input[type="range"]')
    if values.count() < 2:
        return "", ""
    return str(values.nth(0).get_attribute("value")), str(values.nth(1).get_attribute("value"))


CONFIRM = re.compile(r"^\s*(yes|confirm)\b", re.I)


def confirm_if_asked(j: Journey, *, page: Any = None, yes: re.Pattern[str] = CONFIRM) -> str | None:
    """After a write button: the confirmation's text when the page asks for one (then confirmed), else None."""
    page = page or j.page
    yes = page.get_by_role("button", name=yes)
    if not j.has(yes, 1500):
        return None
    dialog = page.locator('[role="dialog"]')
    text = (
        str(dialog.first.inner_text())
        if dialog.count()
        else " | ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    )
    yes.first.click()
    j.settle(page)
    return text


def download(j: Journey, label: str, *, page: Any = None) -> bytes:
    """Click a download button by its text; the file's bytes."""
    page = page or j.page
    button = j.find(
        main(j, page).locator('[data-testid="stDownloadButton"] button').filter(has_text=label),
        f"the download button {label!r}",
        page=page,
    )
    with page.expect_download(timeout=GIVE_UP_S * 1000) as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def number(text: str) -> int | None:
    """The first whole number in `text` ('1,234' -> 1234)."""
    m = re.search(r"\d[\d,]*", text)
    return int(m.group(0).replace(",", "")) if m else None


GRID_ROWS_JS = """(canvas) => {
    const table = canvas.querySelector('table');
    if (!table) return null;
    const head = [...table.querySelectorAll('thead th')].map(th => th.textContent);
    return [...table.querySelectorAll('tbody tr')].map(tr => {
        const row = {};
        tr.querySelectorAll('td').forEach((td, i) => { row[head[i] ?? String(i)] = td.textContent; });
        return row;
    });
}"""


def read_grid(j: Journey, grid: Any) -> list[dict[str, str]]:
    """The rows a dataframe shows (those drawn now), read from the accessible table the grid renders
    while it has the focus (the cells themselves are drawn on a canvas)."""
    canvas = grid.locator('[data-testid="data-grid-canvas"]').first
    canvas.focus()
    try:
        canvas.locator("table").wait_for(state="attached", timeout=3000)
    except Exception:  # noqa: BLE001 - an empty grid may render no table
        return []
    rows = canvas.evaluate(GRID_ROWS_JS) or []
    canvas.blur()
    return list(rows)
