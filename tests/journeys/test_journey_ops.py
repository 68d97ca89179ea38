"""Ops at the start of a shift: Health, the incident, its errors, resolve a group with a note,
unresolve one occurrence, check the audit log. On the demo, messy and origin-head data."""

from __future__ import annotations

import re
import uuid
from typing import Any

from journey_support import (
    Site,
    click_row,
    confirm_if_asked,
    fill,
    grids,
    main,
    main_text,
    press,
    query_of,
    read_grid,
    segment,
    sidebar_link,
    sitting,
)
from sqlalchemy import select

from db.models import CriticalErrorLog
from db.own_models import AuditLog

# Today "Resolve the 17 unresolved in last 24h…"; before issue 12, "Resolve whole group".
RESOLVE_GROUP = re.compile(r"^\s*Resolve (whole group|the [\d,]+ unresolved)", re.I)
CONFIRM_RESOLVE = re.compile(r"^\s*(yes\b|confirm\b|(un)?resolve [\d,]+\s*$)", re.I)
OCCURRENCES = re.compile(r"Occurrences in (.+?) \((\w+)\): ([\d,]+)(\+?)")


def _notes(site: Site, note: str) -> dict[str, Any]:
    """Errors carrying `note` as their resolution note: id -> resolved_at."""
    rows = site.query(
        select(CriticalErrorLog.id, CriticalErrorLog.resolved_at).where(
            CriticalErrorLog.resolution_notes == note
        )
    )
    return {r.id: r.resolved_at for r in rows}


def test_ops_start_of_shift(site: Site, browser: Any) -> None:
    note = f"restarted the feed, shift {uuid.uuid4().hex[:6]}"
    undo_note = f"came back after the restart {uuid.uuid4().hex[:6]}"
    with sitting("ops", site, browser) as j:
        with j.step("Health at the start of the shift"):
            j.goto(site.link("health"))
            text = main_text(j)
            j.check("Health" in text, "the Health page has no title")
            j.check(
                re.search(r"HEALTHY|DEGRADED|DOWN|No health checks", text),
                "Health shows neither status tiles nor 'No health checks'",
            )

        incident = False
        with j.step("the incidents"):
            segment(j, "Incidents")
            j.check("Incidents" in main_text(j), "the Incidents view has no heading")
            incident = grids(j).count() > 0
            j.check(
                incident or "No incidents" in main_text(j),
                "the Incidents view shows neither incidents nor 'No incidents in this window'",
            )

        if incident:
            with j.step("open the incident"):
                click_row(j, grids(j).first, 0)
                j.check(
                    query_of(j.page).get("incident"),
                    "selecting an incident did not put it in the URL",
                )
                j.check(
                    "logged during the incident" in main_text(j),
                    "the incident shows no error groups",
                )
                j.keep = "logged during the incident"

            with j.step("its errors"):
                link = main(j).get_by_role("link", name=re.compile("errors", re.I))
                j.find(link, "the link to the incident's errors")
                with j.page.context.expect_page() as popup:
                    link.first.click()
                j.switch_to(popup.value)
                j.check("/errors" in j.page.url, f"the incident's errors link opened {j.page.url}")
                j.check(
                    query_of(j.page).get("service"),
                    "the incident's errors are not filtered by its service",
                )
        else:
            with j.step("its errors (no incident: through the menu)"):
                sidebar_link(j, "Errors")
                j.check("/errors" in j.page.url, f"the Errors link opened {j.page.url}")

        with j.step("the unresolved groups, pick the first"):
            segment(j, "Unresolved")
            j.require(grids(j).count(), "the Errors page shows no group table")
            if "Unresolved groups: 0" in main_text(j) and query_of(j.page).get("service"):
                # The incident's service has nothing open: look at every service, as a person would.
                j.goto(site.link("errors"))
            j.require(
                "Unresolved groups: 0" not in main_text(j),
                "no unresolved error groups in this window",
            )
            click_row(j, grids(j).first, 0)
            group = query_of(j.page).get("group", "")
            j.require(group, "selecting a group did not put it in the URL")
            j.require("Selected group" in main_text(j), "the selected group's detail is not shown")
            j.keep = "Selected group"

        with j.step("resolve the whole group with a note", allow=("A note is required",)):
            shown = OCCURRENCES.search(main_text(j))
            j.require(shown, "the group shows no 'Occurrences in … (unresolved): N' line")
            expected = int(shown.group(3).replace(",", ""))
            before_resolved = dict(
                site.query(
                    select(CriticalErrorLog.id, CriticalErrorLog.resolution_notes).where(
                        CriticalErrorLog.resolved_at.is_not(None)
                    )
                )
            )
            fill(j, "Note", note)
            press(j, RESOLVE_GROUP)
            asked = confirm_if_asked(j, yes=CONFIRM_RESOLVE)
            j.check(
                asked is not None,
                "resolving the whole group wrote without a confirmation stating the count",
            )
            if asked is not None:
                j.check(
                    f"{expected:,}" in asked,
                    f"the confirmation does not state the {expected} occurrences the page shows: {asked[:200]!r}",
                )
            j.check(
                j.has(main(j).get_by_text(re.compile(r"Resolved \d+"))),
                "no 'Resolved N error(s)' message after resolving",
            )
            resolved = _notes(site, note)
            j.check(
                len(resolved) == expected,
                f"resolving the group touched {len(resolved)} errors; the page "
                f"showed {expected} unresolved occurrences in {shown.group(1)}",
            )
            after = dict(
                site.query(
                    select(CriticalErrorLog.id, CriticalErrorLog.resolution_notes).where(
                        CriticalErrorLog.id.in_(list(before_resolved))
                    )
                )
            )
            lost = [i for i, n in before_resolved.items() if after.get(i) != n]
            j.check(not lost, f"resolving the group changed {len(lost)} earlier resolution note(s)")

        with j.step("unresolve one occurrence", allow=("A note is required",)):
            segment(j, "Resolved")
            if query_of(j.page).get("group") != group:
                j.goto(site.link("errors", tab="resolved", group=group))
            j.require(
                "Selected group" in main_text(j),
                "the resolved group is not shown on the Resolved tab",
            )
            occurrences = grids(j)
            j.require(occurrences.count() >= 2, "the group's occurrences table is not shown")
            click_row(j, occurrences.nth(1), 0)
            fill(j, "Note", undo_note)
            press(j, re.compile(r"^\s*Unresolve selected \(1\)", re.I))
            confirm_if_asked(j, yes=CONFIRM_RESOLVE)
            j.check(
                j.has(main(j).get_by_text(re.compile(r"Unresolved \d+|Reopened \d+", re.I))),
                "no message after unresolving one occurrence",
            )
            reopened = [i for i, at in _notes(site, note).items() if at is None]
            still = [i for i, at in _notes(site, note).items() if at is not None]
            undone = site.query(
                select(CriticalErrorLog.id).where(
                    CriticalErrorLog.resolved_at.is_(None), CriticalErrorLog.id.in_(list(resolved))
                )
            )
            j.check(
                len(undone) == 1,
                f"unresolving one occurrence reopened {len(undone)} of the group's errors",
            )
            j.check(
                len(still) >= len(resolved) - 1 - len(reopened),
                "unresolving one occurrence changed the others' notes",
            )

        with j.step("its resolution history on the occurrence"):
            occ = undone[0].id if undone else ""
            j.goto(site.link("errors", tab="all", group=group, occ=occ))
            history = main(j).get_by_role("tab", name=re.compile("history", re.I))
            if j.check(j.has(history, 5000), "the occurrence has no resolution history"):
                history.first.click()
                j.settle()
                panel = main(j).locator('[role="tabpanel"]:visible')
                shown = [
                    cell
                    for g in panel.locator('[data-testid="stDataFrame"]').all()
                    for row in read_grid(j, g)
                    for cell in row.values()
                ]
                j.check(
                    note in shown or note in str(panel.first.inner_text()),
                    "the occurrence's history does "
                    "not show the note it was resolved with before it was reopened",
                )

        with j.step("the audit log"):
            sidebar_link(j, "Audit log")
            text = main_text(j)
            entries = site.query(select(AuditLog.action, AuditLog.note, AuditLog.target_id))
            ours = [e for e in entries if e.note in (note, undo_note)]
            j.check(
                any(e.note == undo_note for e in ours),
                "the audit table has no entry for the unresolve",
            )
            j.check(
                sum(e.note == note for e in ours) >= 1,
                "the audit table has no entry for the resolve",
            )
            j.check(
                undo_note in text,
                "the audit log page does not show the newest entry's note (the unresolve)",
            )
            j.check("No audit entries match" not in text, "the audit log page shows no entries")
