"""The strategy developer: create a config, a bad value, fix it, save with a note, edit, a conflict
with a second browser, roll back, activate, compare two runs. On the demo, messy and origin-head data."""

from __future__ import annotations

import re
import uuid
from typing import Any

from journey_support import (
    Journey,
    Site,
    buttons_named,
    choose,
    combobox,
    confirm_if_asked,
    field_value,
    grids,
    main,
    main_text,
    press,
    query_of,
    read_grid,
    segment,
    sitting,
)
from sqlalchemy import func, select

from db.models import SandboxStrategyConfig, SandboxTestRun
from db.own_models import ConfigHistory

DELTA = "Delta target"
FIELDS = {
    "Target DTE range": "7, 21",
    "Max positions": "3",
    "Wing widths": "5, 10",
    "Profit target": "0.5",
    "Loss limit": "2",
    "Primary symbols": "SPY QQQ",
}
PROBLEM_WORDS = re.compile(r"delta|must|between|number|invalid|expected|not a", re.I)


def type_into(j: Journey, label: str, text: str, *, page: Any = None) -> None:
    """Type a value into a field found by the start of its label and commit it (Enter), as a person does."""
    page = page or j.page
    box = (
        main(j, page)
        .locator('[data-testid="stTextInput"], [data-testid="stTextArea"]')
        .filter(has=page.locator('[data-testid="stWidgetLabel"]', has_text=label))
    )
    field = j.find(box.locator("input, textarea"), f"the field {label!r}", page=page)
    field.fill(text)
    if field.evaluate("e => e.tagName") == "INPUT":
        field.press("Enter")
    else:
        field.evaluate("e => e.blur()")
    j.settle(page)


def problem_at_field(j: Journey, label: str) -> bool:
    """Whether a message about the field shows right below it (not only in a list under the form)."""
    box = (
        main(j)
        .locator('[data-testid="stTextInput"]')
        .filter(has=j.page.locator('[data-testid="stWidgetLabel"]', has_text=label))
        .first
    )
    field = box.bounding_box()
    if field is None:
        return False
    near = main(j).locator(
        '[data-testid="stCode"], [data-testid="stAlert"], [data-testid="stText"], '
        '[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"]'
    )
    for el in near.all():
        b = el.bounding_box()
        if b is None or not PROBLEM_WORDS.search(el.inner_text() or ""):
            continue
        below = field["y"] + field["height"] - 5 <= b["y"] <= field["y"] + field["height"] + 150
        if below and b["x"] < field["x"] + field["width"] and b["x"] + b["width"] > field["x"]:
            return True
    return False


def _versions(site: Site, config_id: str) -> dict[int, Any]:
    rows = site.query(
        select(ConfigHistory.version, ConfigHistory.note, ConfigHistory.config_data).where(
            ConfigHistory.config_id == config_id
        )
    )
    return {int(r.version): r for r in rows}


def _config(site: Site, config_id: str) -> Any:
    rows = site.query(select(SandboxStrategyConfig).where(SandboxStrategyConfig.id == config_id))
    return rows[0] if rows else None


def test_strategy_developer_sitting(site: Site, browser: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Journey config {tag}"
    with sitting("strategy", site, browser) as j:
        with j.step("Sandbox"):
            j.goto(site.link("sandbox"))
            j.check("Sandbox" in main_text(j), "the Sandbox page has no title")

        with j.step("start a new config"):
            new = buttons_named(j, re.compile(r"new config", re.I))
            if not j.check(
                j.has(new, 2000), "'New config' is only an option hidden in the Config dropdown"
            ):
                choose(j, "Config", re.compile("New config"))
            else:
                new.first.click()
                j.settle()
            j.require(
                buttons_named(j, re.compile("Create config")).count(), "no 'Create config' form"
            )

        with j.step("a bad value", allow=("Not saved", "problem"), reload=False):
            type_into(j, "Name", name)
            type_into(j, "Strategy id", "ThetaCropWeekly")
            type_into(j, "User", "journey")
            for label, value in FIELDS.items():
                type_into(j, label, value)
            type_into(j, DELTA, "abc")
            type_into(j, "Note", f"first try {tag}")
            press(j, re.compile(r"^\s*Check"))
            j.check(problem_at_field(j, DELTA), "the bad delta target has no message at its field")
            j.check(field_value(j, "Note") == f"first try {tag}", "'Check' emptied the note field")
            raw = main(j).get_by_role("tab", name="Raw JSON")
            raw.first.click()
            text = field_value(j, "config_data") or ""
            j.check(
                "SPY" in text and "21" in text,
                f"the Raw JSON tab does not hold the fields' values: {text[:80]!r}",
            )
            main(j).get_by_role("tab", name="Fields").first.click()

        with j.step("fix it", reload=False):
            type_into(j, DELTA, "0.2")
            press(j, re.compile(r"^\s*Check"))
            j.check(
                re.search(r"valid|no problems|looks good", main_text(j), re.I)
                and not problem_at_field(j, DELTA),
                "a valid config gets no message after 'Check'",
            )

        config_id = ""
        with j.step("save with a note"):
            type_into(j, "Note", f"first version {tag}")
            press(j, re.compile("Create config"))
            j.check(
                re.search(r"created", main_text(j), re.I), "no message after creating the config"
            )
            config_id = query_of(j.page).get("config", "")
            j.require(
                config_id and config_id != "new",
                f"the new config is not open in the URL: {j.page.url}",
            )
            cfg = _config(site, config_id)
            j.require(cfg is not None and cfg.name == name, "the config was not written")
            j.keep = "Save new version"  # the config stays open in its editor
            j.check(
                cfg.config_data.get("trading", {}).get("delta_target") == 0.2,
                f"the saved delta target is {cfg.config_data}",
            )
            hist = _versions(site, config_id)
            j.check(
                hist.get(1) is not None and hist[1].note == f"first version {tag}",
                f"version 1's note was not kept: {[(v, h.note) for v, h in hist.items()]}",
            )

        with j.step("edit"):
            type_into(j, "Max positions", "5")
            type_into(j, "Note", f"more positions {tag}")
            press(j, re.compile("Save new version"))
            j.check(
                "Saved as version 2" in main_text(j),
                "no 'Saved as version 2' message after the edit",
            )
            hist = _versions(site, config_id)
            j.check(
                2 in hist and hist[2].note == f"more positions {tag}",
                "version 2 or its note was not kept",
            )

        with j.step("a conflict with a second browser", allow=("Not saved",)):
            other, console = j.new_page()
            other.goto(j.page.url, wait_until="domcontentloaded")
            j.settle(other, started=True)
            type_into(j, "Profit target", "0.6")
            type_into(j, "Note", f"A: profit target {tag}")
            press(j, re.compile("Save new version"))
            j.check("Saved as version 3" in main_text(j), "A's save did not make version 3")
            type_into(j, "Loss limit", "3", page=other)
            type_into(j, "Note", f"B: loss limit {tag}", page=other)
            press(j, re.compile("Save new version"), page=other)
            j.look(other, console=console, allow=("Not saved",), when="in the second browser")
            j.check(
                re.search(r"saved version 3", main_text(j, other)),
                "B was not told that version 3 was saved meanwhile",
            )
            on_top = buttons_named(j, re.compile(r"on top of version 3"), page=other)
            if j.check(j.has(on_top, 3000), "B cannot save the draft on top of version 3"):
                on_top.first.click()
                j.settle(other)
                hist = _versions(site, config_id)
                j.check(
                    4 in hist and f"B: loss limit {tag}" in (hist[4].note or ""),
                    f"B's note was not kept with version 4: {hist.get(4) and hist[4].note!r}",
                )
                j.check(
                    4 in hist and hist[4].config_data.get("risk", {}).get("loss_limit") == 3,
                    "B's change is not in version 4",
                )
            j.look(other, console=console, when="in the second browser")
            other.close()
            j.goto(j.page.url)  # A looks again

        with j.step("roll back to version 1"):
            segment(j, "History")
            latest = max(_versions(site, config_id))
            choose(j, "Restore the content of version", re.compile(r"^\s*1\s*$"))
            type_into(j, "Note", f"back to the first {tag}")
            press(j, re.compile(r"Roll back to version 1"))
            j.check("Rolled back" in main_text(j), "no message after the rollback")
            hist = _versions(site, config_id)
            j.check(
                latest + 1 in hist and hist[latest + 1].config_data == hist[1].config_data,
                "the rollback did not make a version with version 1's content",
            )

        with j.step("activate"):
            press(j, re.compile(r"^\s*Activate"))
            confirm_if_asked(j)
            j.check("activated" in main_text(j).lower(), "no message after activating")
            cfg = _config(site, config_id)
            j.check(cfg is not None and cfg.is_active, "the config is not active in the database")

        with j.step("compare two runs"):
            counts = site.query(
                select(SandboxTestRun.config_id, func.count())
                .group_by(SandboxTestRun.config_id)
                .having(func.count() >= 2)
                .order_by(func.count().desc())
            )
            known = {r.id for r in site.query(select(SandboxStrategyConfig.id))}
            target = next((c for c, _ in counts if c in known), None)
            if target is None:
                j.goto(site.link("sandbox", config=config_id, view="runs"))
                j.check(
                    re.search(r"no test runs", main_text(j), re.I),
                    "the config's runs view says nothing",
                )
            else:
                j.goto(site.link("sandbox", config=target, view="runs"))
                j.require(
                    "Compare two runs" in main_text(j),
                    "a config with two runs offers no comparison",
                )
                ids = [
                    str(combobox(j, f"Run {x}").first.input_value()).split(" · ")[-1]
                    for x in ("a", "b")
                ]
                runs = {
                    r.id: r.opportunities_found
                    for r in site.query(
                        select(SandboxTestRun.id, SandboxTestRun.opportunities_found).where(
                            SandboxTestRun.id.in_(ids)
                        )
                    )
                }
                table = [
                    row
                    for g in grids(j).all()
                    for row in read_grid(j, g)
                    if row.get("metric") == "opportunities_found"
                ]
                if (
                    j.check(table, "the comparison shows no opportunities_found row")
                    and len(runs) == 2
                ):
                    want = [runs[ids[0]], runs[ids[1]]]
                    got = [table[-1].get("a"), table[-1].get("b")]
                    j.check(
                        [str(w if w is not None else "") for w in want]
                        == [str(g or "").replace(".0", "") for g in got],
                        f"the comparison shows opportunities {got}; the runs hold {want}",
                    )
