"""Severity is grouped, filtered and counted trimmed and case-folded (as Health compares statuses), on
every engine: ' HIGH', 'high ' and 'HIGH' are one severity, not three options and 'other'."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.queries import errors as eq
from tests.monitor.conftest import NOW, NOW_UTC, add_errors, ago

SINCE, UNTIL = NOW_UTC - timedelta(hours=24), NOW_UTC
KEY = {"error_type": "t", "service": "svc", "messages": ("m",)}


def _seed(engine: Engine) -> list[str]:
    sev = ["HIGH", " HIGH", "high ", "  High  ", "MEDIUM", " low", "CRITICAL"]
    ids = add_errors(
        engine, [{"severity": s, "created_at": ago(minutes=10 + i)} for i, s in enumerate(sev)]
    )
    add_errors(
        engine, [{"severity": " HIGH", "created_at": ago(days=3)}]
    )  # before the window: not counted
    return ids


def test_facets_groups_and_timeline_count_trimmed_severities(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        view = eq.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600)
        timeline = eq.error_timeline(s, since=SINCE, until=UNTIL, bucket_s=86_400 * 2)
    facets = {
        v: int(n)
        for f, v, n in zip(
            view.facets["facet"], view.facets["value"], view.facets["count"], strict=True
        )
        if f == "severity"
    }
    assert facets == {"HIGH": 4, "MEDIUM": 1, "LOW": 1, "CRITICAL": 1}
    (group,) = view.groups.to_dict("records")
    assert (
        group["count"],
        group["high"],
        group["medium"],
        group["low"],
        group["other_severity"],
    ) == (7, 4, 1, 1, 1)
    assert timeline.groupby("severity")["count"].sum().to_dict() == {
        "CRITICAL": 1,
        "HIGH": 4,
        "LOW": 1,
        "MEDIUM": 1,
    }


def test_a_severity_filter_keeps_every_spelling_of_it(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        view = eq.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600, severities=("high",))
        occ = eq.occurrences(s, **KEY, since=SINCE, until=UNTIL, severities=(" HIGH ",))
        groups = eq.groups_during(s, service="svc", start=NOW - timedelta(hours=1), end=NOW)
    assert int(view.groups["count"].sum()) == 4
    assert occ.attrs["total"] == 4 and len(occ) == 4
    assert sorted(occ["severity"]) == sorted(
        ["HIGH", " HIGH", "high ", "  High  "]
    )  # raw values in the rows
    assert (int(groups["high"].iloc[0]), int(groups["other_severity"].iloc[0])) == (4, 1)
