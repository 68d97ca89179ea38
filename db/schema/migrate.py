"""Apply the console's own migrations (audit log, config history): `python -m db.schema.migrate [URL]`."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from db.settings import BrokenSettings, configured_url, load_settings, safe_url

INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for `url` (default: the configured database)."""
    cfg = Config(str(INI))
    cfg.attributes["url"] = url or load_settings().database_url
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the console's own tables on `engine` up to the newest revision."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def main(argv: list[str]) -> int:
    try:
        url = argv[0] if argv else configured_url()
    except BrokenSettings as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        command.upgrade(alembic_config(url), "head")
    except Exception as exc:  # noqa: BLE001 - the CLI reports, it does not trace
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(
            f"migration failed on {safe_url(url)}: {type(exc).__name__}: {first}", file=sys.stderr
        )
        return 1
    print(f"console tables are up to date on {safe_url(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
