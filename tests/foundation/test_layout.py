"""The layout shows the architecture: each layer imports only the layers below it, sections do
not import each other, a page is one screen of under 150 lines, every module is typed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.foundation.conftest import ROOT

APP_PACKAGES = ("db", "domain", "demo", "perf", "ui", "pages")
# What each part of the console may not import (prefixes of module names).
FORBIDDEN = {
    "db": ("ui", "pages", "demo", "harness", "bench", "tests"),
    "domain": (
        "ui",
        "pages",
        "demo",
        "harness",
        "bench",
        "tests",
        "streamlit",
        "db.queries",
        "db.commands",
    ),
    "perf": ("ui", "pages", "demo", "harness", "bench", "tests"),
    "demo": ("ui", "pages", "harness", "bench", "tests", "streamlit"),
    "ui/kit": ("ui.sections", "pages", "harness", "bench", "tests"),
    "ui/charts": ("ui.sections", "ui.kit", "db", "pages", "harness", "bench", "tests"),
    "ui/sections": ("pages", "harness", "bench", "tests"),
    "pages": ("pages", "harness", "bench", "tests", "sqlalchemy"),
}


def _modules(folder: str) -> list[Path]:
    return sorted(
        p for p in (ROOT / folder).rglob("*.py") if "alembic/versions" not in p.as_posix()
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def _section(path: Path) -> str:
    """The section a module under ui/sections belongs to: its module or its package."""
    return path.relative_to(ROOT / "ui" / "sections").parts[0].removesuffix(".py")


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_layer_imports_only_what_lies_below_it(folder: str) -> None:
    bad = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _modules(folder)
        for name in sorted(_imports(p))
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[folder])
    ]
    assert not bad, bad


def test_in_db_only_the_cached_data_module_knows_streamlit() -> None:
    users = [
        p.relative_to(ROOT).as_posix()
        for p in _modules("db")
        if any(n.split(".")[0] == "streamlit" for n in _imports(p))
    ]
    assert users == ["db/data.py"]


def test_sections_do_not_import_each_other() -> None:
    bad = []
    for p in _modules("ui/sections"):
        own = _section(p)
        for name in _imports(p):
            parts = name.split(".")
            if parts[:2] == ["ui", "sections"] and len(parts) > 2 and parts[2] != own:
                bad.append(f"{p.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def test_the_layer_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from ui.sections.health import tiles\nimport db.models\n")
    assert "ui.sections.health" in _imports(bad) and "db.models" in _imports(bad)


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")))
def test_a_page_is_one_screen_under_150_lines(page: str) -> None:
    lines = (ROOT / "pages" / page).read_text().splitlines()
    assert len(lines) < 150, f"pages/{page} has {len(lines)} lines"


def test_every_app_module_lives_in_a_package_of_the_layout() -> None:
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top <= set(APP_PACKAGES) | {"bench", "harness", "tests"}, sorted(top)
