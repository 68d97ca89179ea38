"""Typed settings of the console: where the database is and how long anything may take.

Order of precedence for the database URL: the `DATABASE_URL` environment variable, then
`[database] url` in `.streamlit/secrets.toml`, then a local SQLite file in `data/`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "console.db"
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

# The roles a group can grant; `admin` implies every permission.
DEFAULT_ROLE_GROUPS: dict[str, list[str]] = {
    "analyst": ["analysts"],
    "strategy_developer": ["strategy-developers"],
    "ops": ["ops"],
    "admin": ["admins"],
}


# Parsed secrets files by path, with the (mtime, size) they were parsed at: every cached read
# asks for the settings, and a stat costs far less than reading and parsing the file again.
_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def _read_secrets(path: Path = SECRETS_PATH) -> dict[str, Any]:
    """The parsed secrets file, or {} when there is none or it does not parse (re-read when it changes)."""
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _parsed.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    _parsed[path] = (stamp, parsed)
    return parsed


def _env_float(name: str, default: float, env: dict[str, str] | None = None) -> float:
    raw = (os.environ if env is None else env).get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    # 0, negatives, inf and nan would disable a limit or make every statement fail.
    return value if 0 < value < 86_400 else default


@dataclass(frozen=True)
class Settings:
    """Everything the data layer needs to connect; one line of help per field."""

    # Main URL: reads and writes (sandbox saves, error resolutions, purges).
    database_url: str
    # Optional read-replica URL for the read paths; None means reads use `database_url`.
    read_database_url: str | None = None
    # True when neither env nor secrets named a database: the embedded SQLite demo default.
    is_default_sqlite: bool = False
    # Seconds a read may run before it is cancelled ("narrow the filter").
    statement_timeout_s: float = 10.0
    # Seconds to wait for a connection to the server.
    connect_timeout_s: float = 5.0
    # Seconds SQLite waits for another writer's lock before "database busy".
    sqlite_busy_timeout_s: float = 5.0
    # Seconds before a pooled connection is replaced (server-side idle limits).
    pool_recycle_s: int = 1800
    # Group names (from the sign-in provider) that grant each role.
    role_groups: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_ROLE_GROUPS))

    @property
    def read_url(self) -> str:
        """The URL the read paths use."""
        return self.read_database_url or self.database_url


# The environment variables the settings read (every cached read asks for the settings: they are
# rebuilt only when one of these or the secrets file changes).
ENV_NAMES = ("DATABASE_URL", "DATABASE_READ_URL", "CONSOLE_STATEMENT_TIMEOUT_S", "CONSOLE_CONNECT_TIMEOUT_S",
             "CONSOLE_SQLITE_BUSY_TIMEOUT_S")
_last: tuple[tuple[Any, ...], Settings] | None = None


def load_settings(env: dict[str, str] | None = None, secrets_path: Path = SECRETS_PATH) -> Settings:
    """Settings from the environment, then secrets.toml, then the local SQLite default."""
    global _last
    if env is not None or secrets_path != SECRETS_PATH:
        return _load(env if env is not None else dict(os.environ), secrets_path)
    try:
        st = secrets_path.stat()
        file_stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        file_stamp = None
    stamp = (tuple(os.environ.get(n) for n in ENV_NAMES), file_stamp)
    last = _last
    if last is not None and last[0] == stamp:
        return last[1]
    settings = _load(dict(os.environ), secrets_path)
    _last = (stamp, settings)
    return settings


def _load(env: dict[str, str], secrets_path: Path) -> Settings:
    secrets = _read_secrets(secrets_path)
    db_secrets = secrets.get("database", {}) if isinstance(secrets.get("database"), dict) else {}
    db_secrets = {k: v for k, v in db_secrets.items() if isinstance(v, str)}  # a number is no URL
    url = env.get("DATABASE_URL") or db_secrets.get("url")
    read_url = env.get("DATABASE_READ_URL") or db_secrets.get("read_url") or None
    is_default = not url
    if not url:
        url = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    roles = secrets.get("roles", {}) if isinstance(secrets.get("roles"), dict) else {}
    role_groups = {k: list(v) for k, v in roles.items() if isinstance(v, list)} or dict(DEFAULT_ROLE_GROUPS)
    return Settings(
        database_url=str(url),
        read_database_url=str(read_url) if read_url else None,
        is_default_sqlite=is_default,
        statement_timeout_s=_env_float("CONSOLE_STATEMENT_TIMEOUT_S", 10.0, env),
        connect_timeout_s=_env_float("CONSOLE_CONNECT_TIMEOUT_S", 5.0, env),
        sqlite_busy_timeout_s=_env_float("CONSOLE_SQLITE_BUSY_TIMEOUT_S", 5.0, env),
        role_groups=role_groups,
    )


def safe_url(url: str) -> str:
    """The URL as it may be shown: engine, host and database, never user or password."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as nothing at all
        return "(unparseable database URL)"
    if u.get_backend_name() == "sqlite":
        return f"sqlite · {Path(u.database).name if u.database else 'memory'}"
    # An unescaped '@' in a password makes the parser put the password's tail into the host.
    host = (u.host or "localhost").rsplit("@", 1)[-1]
    database = Path(u.database).name if u.database else ""
    return f"{u.get_backend_name()} · {host}/{database}"
