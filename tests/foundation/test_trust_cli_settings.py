"""Command-line tools refuse to guess a database when the secrets file is broken (fail closed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOOLS = [
    ["db.schema.migrate"],
    ["demo.generate", "--rows", "10"],
    ["db.schema.indexes"],
    ["db.schema.backend_tables"],
]


@pytest.fixture
def broken_checkout(tmp_path: Path) -> Path:
    """A copy of the code whose .streamlit/secrets.toml does not parse."""
    copy = tmp_path / "console"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".git", "data", "tests", "bench", "__pycache__")
    )
    (copy / ".streamlit" / "secrets.toml").write_text(
        '[database]\nurl = "sqlite:///x.db"\n[roles\n'
    )
    return copy


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t[0])
def test_a_tool_without_a_url_refuses_broken_settings_and_creates_nothing(
    broken_checkout: Path, tool: list[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_READ_URL")}
    done = subprocess.run(
        [sys.executable, "-m", *tool],
        cwd=broken_checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "settings are broken" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (broken_checkout / "data").exists(), "the demo default database was created anyway"
