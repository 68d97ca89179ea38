"""The detectors the robustness tests rely on really detect: Markdown-rendered database text,
leaked error details, formula cells, and the messy generator's coverage of every column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from robust_support import PAGES, all_texts, leaks, markdown_texts
from sqlalchemy import JSON, String, select
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from db.models import Base
from demo import messy
from ui.kit.widgets import to_csv_bytes


def _script_markdown() -> None:
    import streamlit as st

    st.markdown("**MSY00001 bold**")
    st.code("MSY00002 shown literally")
    st.text("MSY00003 plain")
    st.warning("careful MSY00004")
    st.selectbox("Pick", ["MSY00005 option"])
    st.radio("Radio MSY00006", ["a"])


def test_markdown_detector_flags_markdown_and_not_code() -> None:
    at = AppTest.from_function(_script_markdown).run()
    md = " ".join(s for _, s in markdown_texts(at))
    assert "MSY00001" in md and "MSY00004" in md and "MSY00006" in md
    assert "MSY00002" not in md and "MSY00003" not in md and "MSY00005" not in md
    assert any("MSY00002" in s for _, s in all_texts(at))


def test_leak_detector() -> None:
    assert leaks([("error", "(sqlite3.OperationalError) no such table")])
    assert leaks([("code", 'Traceback (most recent call last):\n  File "/work/main/db/x.py"')])
    assert leaks([("error", "[SQL: SELECT id FROM critical_error_logs WHERE x = ?]")])
    assert not leaks([("warning", "The database cannot be reached right now. Try again.")])
    assert not leaks([("code", "bogus KeyError")], ignore=("bogus KeyError",))


def test_registered_pages_exist() -> None:
    assert len(PAGES) >= 5
    for page in PAGES:
        assert (Path(__file__).resolve().parents[2] / page.path).exists(), page.path


def test_messy_generator_fills_every_text_and_json_column(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'm.db'}", read_timeout=False)
    Base.metadata.create_all(eng)
    report = messy.generate(eng, seed=3)
    kinds = {"javascript:": 0, "<script>": 0, "![": 0, "$$": 0, "=cmd": 0, "\u202e": 0, "👨": 0}
    with eng.connect() as conn:
        for table in Base.metadata.sorted_tables:
            assert report.rows[table.name] >= 25
            for col in table.columns:
                if col.foreign_keys or col.primary_key:
                    continue
                values = [v for v in conn.execute(select(col)).scalars() if v is not None]
                if (
                    isinstance(col.type, String)
                    and getattr(col.type, "length", None) in (None,)
                    or (isinstance(col.type, String) and col.type.length and col.type.length >= 50)
                ):
                    joined = " ".join(map(str, values))
                    assert messy.MARKER in joined, f"{table.name}.{col.name}"
                    for k in kinds:
                        kinds[k] += k in joined
                if isinstance(col.type, JSON):
                    assert any(isinstance(v, list) for v in values), (
                        f"{table.name}.{col.name}: no array"
                    )
                    assert any(isinstance(v, dict) and "level_29" in str(v) for v in values) or any(
                        isinstance(v, list) and "level_" in str(v) for v in values
                    ), f"{table.name}.{col.name}"
        years = {
            y
            for y in conn.execute(
                select(Base.metadata.tables["scan_sessions"].c.started_at)
            ).scalars()
        }
    assert min(years).year == 1970 and max(years).year == 2099
    assert all(n > 0 for n in kinds.values()), kinds
    eng.dispose()


def _spreadsheet_cells(data: bytes) -> list[list[str]]:
    """Records as a spreadsheet reads them: a bare CR or LF outside quotes starts a new row."""
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_export_neutralises_formulas() -> None:
    hostile = [
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=2",
        "x\r=HYPERLINK(1)",
        "y\n=3",
        "plain",
        "a=b",
    ]
    df = pd.DataFrame(
        {
            "v": hostile,  # a pure-text column: pandas 3 gives it the `str` dtype
            "=head": range(len(hostile)),
            "j": [{"k": "=x"}, ["=y"], None, *hostile[3:]],
        }
    )
    assert str(df["v"].dtype) != "object"
    rows = _spreadsheet_cells(to_csv_bytes(df))
    assert rows[0][1] == "'=head"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (row, cell)
    body = rows[1:]
    assert len(body) == len(hostile), "a CR or LF in a cell split a record"
    assert [r[0] for r in body][-2:] == ["plain", "a=b"]
    assert body[0][0] == "'=cmd|' /C calc'!A0"


def _leaky_handlers(source: str) -> list[int]:
    """Lines where an `except` catching database or arbitrary errors puts the exception into text."""
    import ast

    broad = {
        "SQLAlchemyError",
        "DBAPIError",
        "OperationalError",
        "ProgrammingError",
        "Exception",
        "BaseException",
        "IntegrityError",
        "DatabaseError",
    }
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler) or node.name is None or node.type is None:
            continue
        caught = {
            n.id if isinstance(n, ast.Name) else getattr(n, "attr", "")
            for n in ast.walk(node.type)
            if isinstance(n, ast.Name | ast.Attribute)
        }
        if not caught & broad:
            continue
        for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if (
                isinstance(inner, ast.Call)
                and getattr(inner.func, "id", "") in ("str", "repr")
                and any(isinstance(a, ast.Name) and a.id == node.name for a in inner.args)
            ):
                lines.append(inner.lineno)
            if (
                isinstance(inner, ast.FormattedValue)
                and isinstance(inner.value, ast.Name)
                and inner.value.id == node.name
            ):
                lines.append(inner.lineno)
    return lines


def test_error_details_are_off_everywhere() -> None:
    """Uncaught errors show no details (config); no page or widget prints an exception itself
    (st.exception ignores that setting) or puts a database exception's text on the page."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    offenders = []
    for path in [*(root / "pages").glob("*.py"), *(root / "ui").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for needle in ("st.exception(", "traceback.format_exc", "traceback.print_exc"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
        offenders += [
            f"{path.relative_to(root)}:{n}: exception text shown" for n in _leaky_handlers(text)
        ]
    assert not offenders, offenders


def test_leaky_handler_detector() -> None:
    bad = "try:\n    x()\nexcept SQLAlchemyError as exc:\n    st.error(str(exc))\n"
    bad_f = "try:\n    x()\nexcept Exception as e:\n    st.text(f'failed: {e}')\n"
    fine = "try:\n    x()\nexcept PermissionDenied as exc:\n    st.text(str(exc))\n"
    assert (
        _leaky_handlers(bad) == [4]
        and _leaky_handlers(bad_f) == [4]
        and _leaky_handlers(fine) == []
    )
