"""The README stays true: two set-up commands, every setting and command documented, CI runs the
README's test command."""

from __future__ import annotations

import os
import re
import subprocess

from tests.foundation.conftest import ROOT

README = (ROOT / "README.md").read_text()
CI = ROOT / ".ci" / "run"


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert m, f"README has no section '{title}'"
    return m.group(1)


def _commands(text: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    return [
        ln.strip()
        for b in blocks
        for ln in b.splitlines()
        if ln.strip() and not ln.strip().startswith("#")
    ]


def test_exactly_two_set_up_commands() -> None:
    cmds = _commands(_section("Set-up on a fresh machine (Python 3.11+)"))
    assert len(cmds) == 2, cmds
    run, test = cmds
    assert "pip install -r requirements.txt" in run and "streamlit run app.py" in run
    assert "pip install -r requirements-dev.txt" in test and "-m pytest" in test


def test_ci_runs_the_readmes_test_command_with_every_engine_required() -> None:
    test_cmd = _commands(_section("Set-up on a fresh machine (Python 3.11+)"))[1]
    pytest_part = test_cmd.split("&&")[-1].strip().removeprefix("python3 ")
    src = CI.read_text()
    assert pytest_part in src.replace('"$PY" ', "")
    assert "set -euo pipefail" in src
    assert (
        "export REQUIRE_ENGINES=sqlite,postgresql,mariadb" in src
        and "export REQUIRE_BROWSER=1" in src
    )
    assert os.access(CI, os.X_OK)
    assert subprocess.run(["bash", "-n", str(CI)], capture_output=True).returncode == 0


def test_requirements_files_exist_and_dev_includes_runtime() -> None:
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and "pytest-xdist" in dev
    runtime = (ROOT / "requirements.txt").read_text()
    for pkg in ("streamlit", "sqlalchemy", "alembic", "psycopg", "pymysql", "pandas", "plotly"):
        assert pkg in runtime.lower()


def test_every_environment_setting_is_documented() -> None:
    names = set()
    for path in (ROOT / "db").rglob("*.py"):
        names |= set(re.findall(r"""environ(?:\.get)?\(\s*["']([A-Z_]+)["']""", path.read_text()))
        names |= set(re.findall(r"""_env_float\(\s*["']([A-Z_]+)["']""", path.read_text()))
    names |= {"DATABASE_URL", "DATABASE_READ_URL"}
    assert {"CONSOLE_STATEMENT_TIMEOUT_S", "DATABASE_URL"} <= names
    undocumented = sorted(n for n in names if n not in README)
    assert not undocumented, f"README does not mention {undocumented}"


def test_every_command_line_module_is_documented() -> None:
    modules = []
    for path in (ROOT / "db").rglob("*.py"):
        if '__name__ == "__main__"' in path.read_text():
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert "db.schema.migrate" in modules and "db.schema.backend_tables" in modules
    undocumented = sorted(m for m in modules if f"python -m {m}" not in README)
    assert not undocumented, f"README does not document {undocumented}"


def test_operations_sections_exist() -> None:
    scale = _section("Running several dashboard processes")
    assert "sticky" in scale and "DATABASE_READ_URL" in scale and "TTL" in scale
    assert "console_alembic_version" in _section("Migrations")
    roles = _section("Sign-in and roles")
    for role in ("analyst", "strategy_developer", "ops", "admin"):
        assert f"`{role}`" in roles
    assert "secrets.toml.example" in _section("Configuration")
