"""Where the database URL comes from, and how it may be shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.settings import DEFAULT_SQLITE_PATH, ROOT, load_settings, safe_url

PG = "postgresql+psycopg://console:s3cret@db.example.internal:5432/scanner"


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(
        '[database]\nurl = "mysql+pymysql://app:pw@maria.internal/scanner"\n'
        'read_url = "mysql+pymysql://ro:pw@replica.internal/scanner"\n'
        '[roles]\nops = ["oncall", "sre"]\n'
    )
    return path


def test_environment_wins_over_secrets(secrets: Path) -> None:
    s = load_settings(
        env={"DATABASE_URL": PG, "DATABASE_READ_URL": PG + "_ro"}, secrets_path=secrets
    )
    assert s.database_url == PG and s.read_url == PG + "_ro" and not s.is_default_sqlite


def test_secrets_are_used_when_the_environment_names_no_database(secrets: Path) -> None:
    s = load_settings(env={}, secrets_path=secrets)
    assert s.database_url == "mysql+pymysql://app:pw@maria.internal/scanner"
    assert s.read_url == "mysql+pymysql://ro:pw@replica.internal/scanner"
    assert s.role_groups == {"ops": ["oncall", "sre"]}
    assert not s.is_default_sqlite


def test_environment_url_with_secrets_read_url(secrets: Path) -> None:
    s = load_settings(env={"DATABASE_URL": PG}, secrets_path=secrets)
    assert s.database_url == PG
    assert s.read_url == "mysql+pymysql://ro:pw@replica.internal/scanner"


def test_default_is_the_embedded_sqlite_file_in_the_ignored_data_folder(tmp_path: Path) -> None:
    s = load_settings(env={}, secrets_path=tmp_path / "missing.toml")
    assert s.is_default_sqlite
    assert s.database_url == f"sqlite:///{DEFAULT_SQLITE_PATH}"
    assert DEFAULT_SQLITE_PATH == ROOT / "data" / "console.db"
    assert s.read_url == s.database_url and s.read_database_url is None
    assert s.role_groups == {}  # no [roles]: no role groups, never built-in names
    assert "data/" in (ROOT / ".gitignore").read_text().splitlines()


def test_empty_environment_value_falls_through(secrets: Path) -> None:
    s = load_settings(env={"DATABASE_URL": ""}, secrets_path=secrets)
    assert s.database_url.startswith("mysql+pymysql://app")


@pytest.mark.parametrize("content", ["[database]\nurl = 5\n", 'database = "x"\n', ""])
def test_broken_secrets_fall_back_to_the_default(tmp_path: Path, content: str) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(content)
    s = load_settings(env={}, secrets_path=path)
    assert s.is_default_sqlite and s.database_url == f"sqlite:///{DEFAULT_SQLITE_PATH}"


def test_timeouts_come_from_the_given_environment(tmp_path: Path) -> None:
    s = load_settings(
        env={
            "CONSOLE_STATEMENT_TIMEOUT_S": "2.5",
            "CONSOLE_CONNECT_TIMEOUT_S": "1",
            "CONSOLE_SQLITE_BUSY_TIMEOUT_S": "0.25",
        },
        secrets_path=tmp_path / "none.toml",
    )
    assert (s.statement_timeout_s, s.connect_timeout_s, s.sqlite_busy_timeout_s) == (2.5, 1.0, 0.25)


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "inf", "nan", ""])
def test_unusable_timeouts_keep_the_default(tmp_path: Path, raw: str) -> None:
    s = load_settings(env={"CONSOLE_STATEMENT_TIMEOUT_S": raw}, secrets_path=tmp_path / "none.toml")
    assert s.statement_timeout_s == 10.0


def test_committed_secrets_example_parses_and_real_secrets_are_ignored_by_git() -> None:
    example = ROOT / ".streamlit" / "secrets.toml.example"
    s = load_settings(env={}, secrets_path=example)
    assert s.database_url.startswith("postgresql+psycopg://")
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (PG, "postgresql · db.example.internal/scanner"),
        ("postgresql://u:p@ss@host/db", "postgresql · host/db"),
        ("postgresql+psycopg://user:pw@/db?host=/var/run/postgresql", "postgresql · localhost/db"),
        (
            "mysql+pymysql://root:pw@db.internal:3306/scanner?charset=utf8mb4&ssl_key=/etc/k.pem",
            "mysql · db.internal/scanner",
        ),
        ("mariadb+pymysql://root:pw@maria/scanner", "mariadb · maria/scanner"),
        ("sqlite:////home/alice/secret/backend/dev.db", "sqlite · dev.db"),
        ("sqlite:///file:/srv/a/b.db?mode=ro&uri=true", "sqlite · b.db"),
        ("sqlite://", "sqlite · memory"),
        ("not a url at all", "(unparseable database URL)"),
    ],
)
def test_safe_url_never_shows_credentials_or_paths(url: str, shown: str) -> None:
    out = safe_url(url)
    assert out == shown
    for secret in (
        "s3cret",
        "pw",
        "p@ss",
        "console:",
        "root",
        "user",
        "alice",
        "/srv",
        "/etc",
        "/var",
    ):
        assert secret not in out


def test_an_edited_secrets_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text('[database]\nurl = "sqlite:///first.db"\n', encoding="utf-8")
    assert load_settings(env={}, secrets_path=path).database_url == "sqlite:///first.db"
    path.write_text('[database]\nurl = "sqlite:///the-second-one.db"\n', encoding="utf-8")
    assert load_settings(env={}, secrets_path=path).database_url == "sqlite:///the-second-one.db"
    path.unlink()
    assert load_settings(env={}, secrets_path=path).is_default_sqlite
