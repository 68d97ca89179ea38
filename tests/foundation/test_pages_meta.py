"""Pages stay thin and safe: no SQL, no sqlalchemy, no Session, no raw HTML."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.foundation.conftest import ROOT

PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
# Upper-case SQL anywhere; lower-case SQL only against a table-like name (so UI prose such as
# "Select a date from the list" is not mistaken for a query).
SQL_UPPER = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM|CREATE TABLE|DROP TABLE)\b",
    re.DOTALL,
)
SQL_LOWER = re.compile(
    r"\b(select\s+[\w*,.\s()]+?\s+from|delete\s+from|insert\s+into|update)\s+\w+_\w+", re.IGNORECASE
)
BANNED_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "pymysql", "db.engine")
BANNED_NAMES = {
    "Session",
    "sessionmaker",
    "create_engine",
    "text",
    "select",
    "insert",
    "update",
    "delete",
}


def _is_sql(value: str) -> bool:
    return bool(SQL_UPPER.search(value) or SQL_LOWER.search(value))


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith(BANNED_MODULES)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(BANNED_MODULES):
                found.append(f"from {node.module} import")
            found += [f"imports {a.name}" for a in node.names if a.name in BANNED_NAMES]
        elif isinstance(node, ast.Name) and node.id in ("Session", "sessionmaker"):
            found.append(f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in (
            "html",
            "Session",
            "execute",
            "exec_driver_sql",
        ):
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
            found.append("unsafe_allow_html")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_sql(node.value):
            found.append(f"SQL text {node.value[:40]!r}")
    if "components.v1" in path.read_text():
        found.append("streamlit.components")
    return found


def test_there_are_pages() -> None:
    assert len(PAGE_FILES) >= 5


@pytest.mark.parametrize("path", PAGE_FILES, ids=[p.name for p in PAGE_FILES])
def test_page_has_no_sql_sessions_or_raw_html(path: Path) -> None:
    assert _problems(path) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "from sqlalchemy import select\n",
        "import sqlalchemy as sa\n",
        "from sqlalchemy.orm import Session\n",
        "from db.engine import make_engine\n",
        "with Session(e) as s: pass\n",
        "st.markdown(x, unsafe_allow_html=True)\n",
        "st.html('<b>x</b>')\n",
        "q = 'SELECT id FROM scan_sessions'\n",
        "q = '''delete from critical_error_logs'''\n",
        "q = 'select count(*) from scan_sessions'\n",
        "import streamlit.components.v1 as components\n",
        "conn.execute(q)\n",
    ],
)
def test_the_checker_catches_each_kind(tmp_path: Path, snippet: str) -> None:
    page = tmp_path / "bad.py"
    page.write_text(snippet)
    assert _problems(page)


def test_the_checker_passes_ordinary_page_code(tmp_path: Path) -> None:
    page = tmp_path / "ok.py"
    page.write_text(
        'from db import data\nfrom ui.kit.page import start\nf = start("Scans")\n'
        'st.caption("Select a row to see its details")\n'
        'st.caption("Select a date from the list, then update the view")\n'
    )
    assert _problems(page) == []
