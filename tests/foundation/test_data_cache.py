"""The cached data module: one cache per domain, keyed on the question and its arguments,
cleared by our own writes; plus the shared query helpers (capped counts, typed frames)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import data
from db.engine import write_session
from db.models import ScanSession
from db.queries import common, meta
from tests.foundation.conftest import ROOT

CALLS: list[tuple[str, dict[str, object]]] = []


def scans_by_strategy(
    session: Session, *, strategy: str, symbols: list[str] | None = None
) -> pd.DataFrame:
    """Test question: the scan ids of one strategy."""
    CALLS.append((strategy, {"symbols": symbols}))
    rows = session.execute(select(ScanSession.id).where(ScanSession.strategy == strategy)).all()
    return common.frame(rows, {"id": "str"})


def errors_question(session: Session, *, n: int) -> int:
    """Test question routed to the 'errors' domain by its module name."""
    CALLS.append(("errors", {"n": n}))
    return n


errors_question.__module__ = "db.queries.errors"


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    CALLS.clear()
    engine = data.write_engine()
    with write_session(engine) as s:
        s.add_all(
            [
                ScanSession(id="a", strategy="quick_scalp"),
                ScanSession(id="b", strategy="theta_crop"),
            ]
        )
    yield engine
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_repeated_question_is_answered_from_the_cache(db: Engine) -> None:
    first = data.fetch(scans_by_strategy, strategy="quick_scalp")
    with write_session(db) as s:
        s.add(ScanSession(id="c", strategy="quick_scalp"))
    again = data.fetch(scans_by_strategy, strategy="quick_scalp")
    assert list(first["id"]) == list(again["id"]) == ["a"]
    assert len(CALLS) == 1
    assert isinstance(data.as_of(again), datetime)


def test_other_arguments_are_other_questions(db: Engine) -> None:
    data.fetch(scans_by_strategy, strategy="quick_scalp")
    data.fetch(scans_by_strategy, strategy="theta_crop")
    data.fetch(scans_by_strategy, strategy="theta_crop", symbols=["SPY"])
    data.fetch(scans_by_strategy, strategy="theta_crop", symbols=["SPY"])
    assert [c[0] for c in CALLS] == ["quick_scalp", "theta_crop", "theta_crop"]


def test_invalidate_after_a_write_shows_the_write(db: Engine) -> None:
    data.fetch(scans_by_strategy, strategy="quick_scalp")
    with write_session(data.write_engine()) as s:
        s.add(ScanSession(id="c", strategy="quick_scalp"))
    data.invalidate()
    assert sorted(data.fetch(scans_by_strategy, strategy="quick_scalp")["id"]) == ["a", "c"]


def test_invalidating_one_domain_keeps_the_others(db: Engine) -> None:
    data.fetch(
        scans_by_strategy, strategy="quick_scalp"
    )  # 'meta' domain (module name not a domain)
    assert data.fetch(errors_question, n=3) == 3
    data.invalidate("errors")
    data.fetch(scans_by_strategy, strategy="quick_scalp")
    data.fetch(errors_question, n=3)
    assert [c[0] for c in CALLS] == ["quick_scalp", "errors", "errors"]


def test_a_cached_frame_cannot_be_changed_by_its_reader(db: Engine) -> None:
    df = data.fetch(scans_by_strategy, strategy="quick_scalp")
    df.loc[0, "id"] = "tampered"
    assert list(data.fetch(scans_by_strategy, strategy="quick_scalp")["id"]) == ["a"]


def test_uncached_fetch_always_reads(db: Engine) -> None:
    data.fetch_uncached(scans_by_strategy, strategy="quick_scalp")
    data.fetch_uncached(scans_by_strategy, strategy="quick_scalp")
    assert len(CALLS) == 2


def test_meta_questions(db: Engine) -> None:
    tables = data.fetch(meta.existing_tables)
    assert {"scan_sessions", "critical_error_logs", "console_audit_log"} <= tables
    msg = meta.table_missing_message("critical_error_logs")
    assert "critical_error_logs" in msg and "python -m db.schema.backend_tables" in msg


def test_every_domain_has_a_bounded_ttl() -> None:
    assert {"health", "errors", "scans", "opportunities", "sandbox", "meta"} <= set(data.TTL_S)
    assert all(0 < ttl <= 300 for ttl in data.TTL_S.values())


def test_caches_are_bounded() -> None:
    src = (ROOT / "db" / "data.py").read_text()
    assert "st.cache_resource(ttl=TTL_S[domain], max_entries=MAX_ENTRIES" in src
    assert 0 < data.MAX_ENTRIES <= 10_000


def test_what_one_caller_changes_in_a_cached_result_never_reaches_the_next(db: Engine) -> None:
    first = data.fetch(scans_by_strategy, strategy="quick_scalp")
    columns = list(first.columns)
    first.loc[0, "id"] = "changed"  # a page changing values, adding columns, tagging the frame
    first["extra"] = 1
    first.attrs["note"] = "changed"
    again = data.fetch(scans_by_strategy, strategy="quick_scalp")
    assert list(again["id"]) == ["a"] and list(again.columns) == columns
    assert "note" not in again.attrs


def test_a_cached_view_of_frames_and_containers_is_the_callers_own() -> None:
    @dataclasses.dataclass(frozen=True)
    class View:
        groups: pd.DataFrame
        facets: dict[str, list[int]]
        names: tuple[str, ...]

    cached = View(pd.DataFrame({"n": [1, 2]}), {"svc": [1]}, ("x",))
    mine = data._fresh(cached)
    mine.groups["n"] = 0
    mine.facets["svc"].append(2)
    mine.facets["new"] = [3]
    assert list(cached.groups["n"]) == [1, 2]
    assert cached.facets == {"svc": [1]}
    assert mine.names == ("x",) and list(mine.groups["n"]) == [0, 0]


def test_only_the_data_module_caches() -> None:
    offenders = []
    for path in [*ROOT.glob("db/**/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]:
        text = path.read_text()
        if "cache_data" in text and path.relative_to(ROOT).as_posix() != "db/data.py":
            lines = [
                ln
                for ln in text.splitlines()
                if "cache_data" in ln and not ln.strip().startswith("#")
            ]
            if any("@st.cache_data" in ln or "st.cache_data(" in ln for ln in lines):
                offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_queries_never_import_streamlit() -> None:
    for path in (ROOT / "db").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("db/queries/") or rel.startswith("db/commands/"):
            assert "import streamlit" not in path.read_text(), rel


# --- shared query helpers -------------------------------------------------------------------


def test_capped_count_stops_at_the_cap(engine: Engine) -> None:
    with write_session(engine) as s:
        s.add_all(ScanSession(strategy="quick_scalp") for _ in range(7))
    stmt = select(ScanSession.id).where(ScanSession.strategy == "quick_scalp")
    with Session(engine) as s:
        assert common.capped_count(s, stmt, cap=5) == 5
        assert common.capped_count(s, stmt, cap=100) == 7
        assert common.capped_count(s, stmt.where(ScanSession.status == "FAILED")) == 0
        assert common.has_table(s, "scan_sessions") and not common.has_table(s, "no_such_table")


def test_empty_dataframes_keep_columns_after_the_cache(db: Engine) -> None:
    df = data.fetch(scans_by_strategy, strategy="nothing")
    assert list(df.columns) == ["id"] and df.empty


def audit_question(session: Session, *, n: int) -> int:
    CALLS.append(("audit", n))
    return n


audit_question.__module__ = "db.queries.audit"


def test_any_write_invalidation_also_drops_the_audit_log(db: Engine) -> None:
    # A resolve only names "errors", but it wrote an audit row: the audit page must not lag.
    data.fetch(audit_question, n=1)
    data.invalidate("errors")
    data.fetch(audit_question, n=1)
    assert [c[0] for c in CALLS] == ["audit", "audit"]
