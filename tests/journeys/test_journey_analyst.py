"""The analyst: Scans, a run's detail, its opportunities, every range slider moved, sort by each
ratio, open a detail and its payoff, export, copy the URL into a fresh browser context. On the
demo, messy and origin-head data."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from browser_support import formula_cells
from journey_support import (
    Site,
    choose,
    click_row,
    download,
    grids,
    main,
    main_text,
    move_slider,
    press,
    query_of,
    sidebar_link,
    sitting,
)
from sqlalchemy import select

from db.models import OpportunitySnapshot

SLIDERS = {
    "Days to expiration": "dte",
    "Probability of profit": "pop",
    "Expected value ($)": "ev",
    "Premium": "prem",
    "Max loss ($)": "loss",
}
RATIO_SORTS = {
    "EV / max loss": "ev_per_max_loss",
    "Premium / max loss": "premium_per_max_loss",
    "Annualised return": "annualised_return",
}
MATCHING = re.compile(r"([\d,]+)(\+?) matching snapshots")


def _matching(text: str) -> tuple[int, bool] | None:
    """'1,234 matching snapshots' -> (1234, capped)."""
    m = MATCHING.search(text)
    return (int(m.group(1).replace(",", "")), bool(m.group(2))) if m else None


# The funnel's head: the snapshots before the range filters ('Filter funnel: … → not expired −0 → …'),
# everything up to the first range filter's step. When it changed between two reruns, rows entered or
# left the window meanwhile (the messy data holds rows dated seconds after it was made), and a
# narrowed range may then match more: that is the data moving, not the filter.
FUNNEL_HEAD = re.compile(
    r"Filter funnel:([^\n]*?)(?:→ (?:dte|pop|ev|premium|max_loss|prem|loss)\b|$)", re.M
)


def _funnel_head(text: str) -> str | None:
    m = FUNNEL_HEAD.search(text)
    return re.sub(r"\s*→ [\d,]+\+? left$", "", m.group(1).strip()) if m else None


def _money(text: str) -> float | None:
    m = re.search(r"-?\$?-?[\d,]+(\.\d+)?", text)
    return float(re.sub(r"[$,]", "", m.group(0))) if m else None


def test_analyst_sitting(site: Site, browser: Any) -> None:
    with sitting("analyst", site, browser) as j:
        with j.step("Scans"):
            j.goto(site.link("scans"))
            text = main_text(j)
            j.check("Scans" in text, "the Scans page has no title")
            runs = grids(j).count() > 0 and not re.search(r"(^|\s)0 scans", text)

        went = False
        if runs:
            with j.step("a run's detail"):
                click_row(j, grids(j).first, 0)
                j.check(query_of(j.page).get("scan"), "selecting a run did not put it in the URL")
                j.check("Scan detail" in main_text(j), "the selected run shows no detail")
                j.keep = "Scan detail"

            with j.step("its opportunities"):
                link = main(j).get_by_role("link", name=re.compile("Opportunities", re.I))
                if j.has(link, 2000):
                    link.first.click()
                    j.settle()
                    j.check(
                        query_of(j.page).get("scan"),
                        "the run's opportunities are not filtered by the run",
                    )
                    went = True
                else:  # the run produced none: say so, and look at all of them
                    j.check(
                        "snapshots link to this scan" in main_text(j),
                        "the run's detail says nothing about its opportunities",
                    )
        if went:
            with j.step("all opportunities again (clear the scan filter)"):
                press(j, re.compile("Clear scan filter", re.I))
                j.check(
                    not query_of(j.page).get("scan"), "'Clear scan filter' left the scan in the URL"
                )
        else:
            with j.step("Opportunities"):
                sidebar_link(j, "Opportunities")
        j.check(
            "/opportunities" in j.page.url, f"the analyst is not on Opportunities: {j.page.url}"
        )

        with j.step("show what there is"):
            for toggle in ("Show expired", "Show inactive"):
                if (_matching(main_text(j)) or (0, False))[0] > 0:
                    break
                main(j).locator('[data-testid="stCheckbox"]').filter(has_text=toggle).locator(
                    "label"
                ).first.click()
                j.settle()
            counted = _matching(main_text(j))
            j.require(counted is not None, "Opportunities shows no 'N matching snapshots' line")

        for label, param in SLIDERS.items():
            with j.step(f"move the {label} slider"):
                head = _funnel_head(main_text(j))
                before = _matching(main_text(j)) or (0, False)
                lo, hi = move_slider(j, label, thumb=0, key="ArrowRight", times=3)
                j.check(
                    query_of(j.page).get(param) or lo == hi,
                    f"moving {label} did not put its range in the URL ({param})",
                )
                after = _matching(main_text(j))
                j.check(
                    after is not None,
                    f"after moving {label} the page shows no 'N matching snapshots'",
                )
                if after and not before[1] and not after[1] and _funnel_head(main_text(j)) == head:
                    j.check(
                        after[0] <= before[0],
                        f"narrowing {label} raised the matches {before[0]} -> {after[0]}",
                    )
                if (
                    after and after[0] == 0 and before[0] > 0
                ):  # too far for this data: a person moves it back
                    move_slider(j, label, thumb=0, key="ArrowLeft", times=3)
                    back = _matching(main_text(j))
                    j.check(
                        back == before,
                        f"moving {label} back did not bring the {before[0]} matches back: {back}",
                    )

        for label, sort in RATIO_SORTS.items():
            with j.step(f"sort by {label}"):
                choose(j, "Sort by", re.compile(rf"^\s*{re.escape(label)}\s*$"))
                j.check(
                    query_of(j.page).get("sort") == sort,
                    f"sorting by {label} is not in the URL (sort={sort})",
                )
                j.check(
                    _matching(main_text(j)) is not None,
                    f"sorted by {label}, the page shows no matches line",
                )

        selected = None
        with j.step("open a detail and its payoff"):
            j.require(
                (_matching(main_text(j)) or (0, False))[0] > 0,
                "no snapshot matches after the sliders moved",
            )
            click_row(j, grids(j).first, 0)
            selected = query_of(j.page).get("sel")
            j.require(selected, "selecting a snapshot did not put it in the URL (sel)")
            text = main_text(j)
            j.check(f"Snapshot #{selected}" in text, "the selected snapshot shows no detail")
            j.keep = f"Snapshot #{selected}"
            row = site.query(
                select(OpportunitySnapshot.max_loss, OpportunitySnapshot.strategy_type).where(
                    OpportunitySnapshot.id == int(selected)
                )
            )
            loss = main(j).locator('[data-testid="stMetric"]').filter(has_text="Max loss")
            if row and loss.count():
                shown = str(loss.first.locator('[data-testid="stMetricValue"]').inner_text())
                value, stored = _money(shown), row[0].max_loss
                if stored is not None and math.isfinite(stored) and value is not None:
                    # the backend stores some max losses per share, some per contract (100 shares)
                    agrees = any(
                        math.isclose(abs(value), abs(stored) * k, rel_tol=0.02, abs_tol=1.0)
                        for k in (1, 100)
                    )
                    j.check(
                        agrees or re.search(r"disagree|differs|does not match", text, re.I),
                        f"the payoff's max loss {shown} contradicts the row's max_loss {stored:g} "
                        f"({row[0].strategy_type}) and the page does not say so",
                    )
            j.check(
                loss.count() or re.search(r"no payoff|legs .*unknown|unknown legs", text, re.I),
                "the detail shows neither a payoff nor why there is none",
            )

        with j.step("export the filtered set"):
            counted = _matching(main_text(j))
            prepare = main(j).get_by_role("button", name=re.compile("Prepare export", re.I))
            if j.has(prepare, 15_000):
                press(j, re.compile("Prepare export", re.I))
            data = download(j, "Export CSV")
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
            if counted and not counted[1]:
                j.check(
                    len(rows) == counted[0],
                    f"the CSV holds {len(rows)} rows; the page says {counted[0]} match",
                )
            bad = formula_cells(data)
            j.check(not bad, f"the CSV has cells a spreadsheet runs as formulas: {bad[:3]}")

        with j.step("copy the URL into a fresh browser"):
            url, mine = j.page.url, main_text(j)
            other, console = j.new_page()
            other.goto(url, wait_until="domcontentloaded")
            j.settle(other, started=True)
            j.look(other, console=console, when="in the fresh browser")
            theirs = main_text(j, other)
            j.check(
                _matching(theirs) == _matching(mine),
                f"the shared URL shows {_matching(theirs)} matches, "
                f"the analyst's page {_matching(mine)}",
            )
            j.check(
                selected is None or f"Snapshot #{selected}" in theirs,
                "the shared URL lost the open snapshot",
            )
            for label in SLIDERS:
                values = main(j, other).locator('[data-testid="stSlider"]').filter(has_text=label)
                mine_v = main(j).locator('[data-testid="stSlider"]').filter(has_text=label)
                if values.count() and mine_v.count():
                    j.check(
                        values.first.inner_text() == mine_v.first.inner_text(),
                        f"the shared URL shows another {label} range",
                    )
