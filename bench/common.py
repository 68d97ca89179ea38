"""Shared pieces of the benchmark: paths, the pages under test, database URLs, statistics."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DBS = BENCH / "dbs"
OUT = BENCH / "out"
NAIVE_PAGE = BENCH / "naive_page.py"
# The big tables the demo generator grows, and the page that shows each.
BIG_TABLES = (
    "system_health_status",
    "critical_error_logs",
    "scan_sessions",
    "opportunity_snapshots",
)


@dataclass(frozen=True)
class PageUnderTest:
    """A page registered in the app: its script, URL path, title and the tables it checks for."""

    path: str
    url_path: str
    title: str
    tables: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.url_path

    @property
    def big_table(self) -> str | None:
        """The big table this page is about (for the naive comparison), if any."""
        return next((t for t in self.tables if t in BIG_TABLES), None)


def _declared_tables(path: Path) -> tuple[str, ...]:
    """The `tables=(...)` a page passes to `ui.kit.page.start`, read from its source."""
    try:
        src = path.read_text(encoding="utf-8")
    except OSError:
        return ()
    m = re.search(r"tables\s*=\s*\(([^)]*)\)", src)
    return tuple(re.findall(r"['\"]([a-z_]+)['\"]", m.group(1))) if m else ()


def registered_pages() -> list[PageUnderTest]:
    """Every page the app registers (ui.kit.nav.SECTIONS), in menu order."""
    from ui.kit.nav import SECTIONS

    return [
        PageUnderTest(p.path, p.url_path, p.title, _declared_tables(ROOT / p.path))
        for specs in SECTIONS.values()
        for p in specs
    ]


def db_url(profile: str, rows: int, base_url: str | None = None) -> str:
    """The benchmark database of a profile and size: a SQLite file in bench/dbs/, or a database
    named `<base>_<profile>_<rows>` on the server of `base_url`."""
    if not base_url or make_url(base_url).get_backend_name() == "sqlite":
        return f"sqlite:///{DBS / f'{profile}-{rows}.db'}"
    u = make_url(base_url)
    return u.set(database=f"{u.database or 'bench'}_{profile}_{rows}").render_as_string(
        hide_password=False
    )


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) of values, nearest-rank."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[k]


def save_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
