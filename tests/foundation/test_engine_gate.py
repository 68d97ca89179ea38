"""The engine fixtures skip an unreachable server with a reason, and fail under REQUIRE_ENGINES
(which .ci/run sets), so CI cannot pass without PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.foundation.conftest import ROOT

PROBE = "tests/foundation/test_schema.py::test_named_indexes_and_fks_exist_on_every_engine"
CLOSED = {
    "TEST_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    "TEST_MYSQL_URL": "mysql+pymysql://root@127.0.0.1:1/test",
}


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "REQUIRE_"))}
    full.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            PROBE,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-rs",
        ],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("required", ["", "sqlite,postgresql,mariadb"])
def test_unreachable_servers_skip_unless_required(required: str) -> None:
    done = _pytest(**CLOSED, **({"REQUIRE_ENGINES": required} if required else {}))
    out = done.stdout + done.stderr
    if required:
        assert done.returncode != 0, out
        assert "required by REQUIRE_ENGINES" in out
        assert "1 passed" in out  # SQLite still ran
    else:
        assert done.returncode == 0, out
        assert "1 passed, 2 skipped" in out
        assert "postgresql not reachable" in out and "mariadb not reachable" in out
