"""Typed settings of the console: where the database is and how long anything may take.

Order of precedence for the database URL: the `DATABASE_URL` environment variable, then
`[database] url` in `.streamlit/secrets.toml`, then a local SQLite file in `data/`.

Fail closed: a secrets file that does not parse, or an [auth] or [roles] section that is
malformed, is listed in `Settings.problems` (and the console refuses to run, see ui/kit/auth.py);
it is never read as "no secrets", and no built-in group names stand in for a missing [roles].
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from db.auth import ROLE_PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "console.db"
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

log = logging.getLogger("console.settings")

# The group names of `.streamlit/secrets.toml.example` (and of the tests' identities). Never a
# fallback: with no [roles] section, no group grants a role.
EXAMPLE_ROLE_GROUPS: dict[str, list[str]] = {
    "analyst": ["analysts"],
    "strategy_developer": ["strategy-developers"],
    "ops": ["ops"],
    "admin": ["admins"],
}

# What st.login() (the default provider) needs from [auth], as Streamlit checks it when a user
# clicks "Sign in": checked at every run instead, so a broken section stops the console at once.
AUTH_KEYS = ("redirect_uri", "cookie_secret")
AUTH_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_TOML_POSITION = re.compile(r"line (\d+), column (\d+)")


def parse_problem(message: str) -> str:
    """What to show for a secrets file that does not parse: where, never the path or the content."""
    found = _TOML_POSITION.search(message)
    where = f" (line {found[1]}, column {found[2]})" if found else ""
    return f"A secrets file does not parse{where}; see the server log for which."


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def auth_problems(raw: object) -> list[str]:
    """Why an [auth] section cannot sign anybody in ([] when it can, or when there is none)."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [
            "[auth] must be a section with redirect_uri, cookie_secret, client_id, client_secret and "
            "server_metadata_url."
        ]
    problems = [f"[auth] has no {key}." for key in AUTH_KEYS if not _text(raw.get(key))]
    redirect = raw.get("redirect_uri")
    if _text(redirect) and not str(redirect).endswith("/oauth2callback"):
        problems.append("[auth] redirect_uri must end with /oauth2callback.")
    provider = raw.get(
        "default", raw
    )  # st.login() uses [auth.default], else the keys of [auth] itself
    if not isinstance(provider, Mapping):
        return [
            *problems,
            "[auth.default] must be a section with client_id, client_secret and server_metadata_url.",
        ]
    name = "[auth.default]" if "default" in raw else "[auth]"
    return problems + [
        f"{name} has no {key}." for key in AUTH_PROVIDER_KEYS if not _text(provider.get(key))
    ]


def role_groups_from(raw: object) -> tuple[dict[str, list[str]], str | None]:
    """The [roles] map (role -> group names), and why it is malformed ({} then: no role for anybody)."""
    if raw is None:
        return {}, None
    if not isinstance(raw, Mapping):
        return {}, "[roles] must be a section of role = [group names]."
    groups: dict[str, list[str]] = {}
    for role, names in raw.items():
        if role not in ROLE_PERMISSIONS:
            known = ", ".join(sorted(ROLE_PERMISSIONS))
            return {}, f"[roles] names an unknown role {str(role)!r} (the roles are {known})."
        if not isinstance(names, list) or not all(_text(n) for n in names):
            return (
                {},
                f'[roles] {role} must be a list of group names, like {role} = ["group-a", "group-b"].',
            )
        groups[str(role)] = [str(n) for n in names]
    return groups, None


def secrets_problems(secrets: Mapping[str, Any]) -> list[str]:
    """Everything wrong with the sign-in sections of parsed secrets ([auth] and [roles])."""
    roles_problem = role_groups_from(secrets.get("roles"))[1]
    return auth_problems(secrets.get("auth")) + ([roles_problem] if roles_problem else [])


# Parsed secrets files by path, with the (mtime, size) they were parsed at: every cached read
# asks for the settings, and a stat costs far less than reading and parsing the file again.
_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any], str | None]] = {}


def _read_secrets(path: Path = SECRETS_PATH) -> tuple[dict[str, Any], str | None]:
    """The parsed secrets file ({} when there is none), and why it cannot be used when it does not
    parse (re-read when it changes). A file that exists but does not parse is never "no secrets":
    that silently turned sign-in off and gave local mode every permission."""
    try:
        st = path.stat()
    except OSError:
        return {}, None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _parsed.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    try:
        parsed, problem = tomllib.loads(path.read_text(encoding="utf-8")), None
    except (OSError, ValueError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        log.error("the secrets file %s cannot be used: %s", path, exc)
        parsed, problem = {}, parse_problem(str(exc))
    _parsed[path] = (stamp, parsed, problem)
    return parsed, problem


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
    # Never True while the secrets file does not parse (it may name another database).
    is_default_sqlite: bool = False
    # Seconds a read may run before it is cancelled ("narrow the filter").
    statement_timeout_s: float = 10.0
    # Seconds to wait for a connection to the server.
    connect_timeout_s: float = 5.0
    # Seconds SQLite waits for another writer's lock before "database busy".
    sqlite_busy_timeout_s: float = 5.0
    # Seconds before a pooled connection is replaced (server-side idle limits).
    pool_recycle_s: int = 1800
    # Group names (from the sign-in provider) that grant each role: [roles]; none without it.
    role_groups: dict[str, list[str]] = field(default_factory=dict)
    # What is wrong with the secrets file ([] when nothing): the console refuses to run (ui.kit.auth).
    problems: tuple[str, ...] = ()

    @property
    def read_url(self) -> str:
        """The URL the read paths use."""
        return self.read_database_url or self.database_url


# The environment variables the settings read (every cached read asks for the settings: they are
# rebuilt only when one of these or the secrets file changes).
ENV_NAMES = (
    "DATABASE_URL",
    "DATABASE_READ_URL",
    "CONSOLE_STATEMENT_TIMEOUT_S",
    "CONSOLE_CONNECT_TIMEOUT_S",
    "CONSOLE_SQLITE_BUSY_TIMEOUT_S",
)
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


class BrokenSettings(Exception):
    """The secrets file does not parse or a section is malformed: no database URL can be trusted."""


def configured_url() -> str:
    """The configured main database URL for a command-line tool; raises BrokenSettings on broken secrets."""
    settings = load_settings()
    if settings.problems:
        raise BrokenSettings(
            "the settings are broken (fix them or pass a URL): " + " ".join(settings.problems)
        )
    return settings.database_url


def _load(env: dict[str, str], secrets_path: Path) -> Settings:
    secrets, unreadable = _read_secrets(secrets_path)
    db_secrets = secrets.get("database", {}) if isinstance(secrets.get("database"), dict) else {}
    db_secrets = {k: v for k, v in db_secrets.items() if isinstance(v, str)}  # a number is no URL
    url = env.get("DATABASE_URL") or db_secrets.get("url")
    read_url = env.get("DATABASE_READ_URL") or db_secrets.get("read_url") or None
    is_default = not url and unreadable is None
    if not url:
        url = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    role_groups = role_groups_from(secrets.get("roles"))[0]
    problems = ([unreadable] if unreadable else []) + secrets_problems(secrets)
    return Settings(
        database_url=str(url),
        read_database_url=str(read_url) if read_url else None,
        is_default_sqlite=is_default,
        statement_timeout_s=_env_float("CONSOLE_STATEMENT_TIMEOUT_S", 10.0, env),
        connect_timeout_s=_env_float("CONSOLE_CONNECT_TIMEOUT_S", 5.0, env),
        sqlite_busy_timeout_s=_env_float("CONSOLE_SQLITE_BUSY_TIMEOUT_S", 5.0, env),
        role_groups=role_groups,
        problems=tuple(problems),
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
