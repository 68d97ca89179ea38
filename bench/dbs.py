"""Benchmark databases: built once with the demo generator, reused while their marker says so.

`python -m bench.dbs --sizes 10000,100000,1000000 [--profile history|window] [--url URL] [--no-indexes]`
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import DBS, db_url, load_json, save_json
from db.engine import dialect_name, make_engine
from db.models import Base
from db.settings import safe_url

SEED = 7


def _marker(url: str) -> Path:
    u = make_url(url)
    name = (
        Path(u.database).name
        if u.get_backend_name() == "sqlite"
        else f"{u.get_backend_name()}-{u.database}"
    )
    return DBS / f"{name}.ok.json"


def _create_server_database(url: str) -> None:
    u = make_url(url)
    kind = dialect_name(url)
    admin_db = "postgres" if kind == "postgresql" else "mysql"
    admin = create_engine(u.set(database=admin_db), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{u.database}"'))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
                conn.execute(
                    text(
                        f"CREATE DATABASE `{u.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    finally:
        admin.dispose()


def _progress(label: str):  # type: ignore[no-untyped-def]
    state = {"next": 0.0, "t0": time.perf_counter()}

    def report(frac: float, what: str) -> None:
        if frac >= state["next"] or frac >= 1.0:
            print(
                f"  {label}: {frac:4.0%} {what} ({time.perf_counter() - state['t0']:.0f} s)",
                flush=True,
            )
            state["next"] = frac + 0.1

    return report


def build(
    profile: str,
    rows: int,
    base_url: str | None = None,
    *,
    indexes: bool = True,
    force: bool = False,
) -> str:
    """The URL of the benchmark database of `profile` at `rows` per big table, built if missing."""
    from db.schema import indexes as ix
    from db.schema import migrate

    url = db_url(profile, rows, base_url)
    marker = _marker(url)
    meta = load_json(marker)
    if meta and not force and meta.get("rows") == rows and meta.get("profile") == profile:
        if (
            indexes
        ):  # also the recommendations added since it was built (apply creates only what is missing)
            _apply_indexes(url, marker, meta)
        return url
    DBS.mkdir(parents=True, exist_ok=True)
    if dialect_name(url) == "sqlite":
        path = Path(make_url(url).database or "")
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    else:
        _create_server_database(url)
    marker.unlink(missing_ok=True)
    engine = make_engine(url, read_timeout=False)
    t0 = time.perf_counter()
    try:
        Base.metadata.create_all(engine)
        migrate.upgrade(engine)
        if rows > 0:
            from demo import generate as demo

            demo.generate(
                engine,
                rows=rows,
                seed=SEED,
                profile=profile,
                progress=_progress(f"{profile} {rows:,}"),
            )
        gen_s = time.perf_counter() - t0
        if indexes:
            ix.apply(engine)
    finally:
        engine.dispose()
    meta = {
        "rows": rows,
        "profile": profile,
        "generate_s": round(gen_s, 1),
        "indexes": indexes,
        "index_s": round(time.perf_counter() - t0 - gen_s, 1),
        "url": safe_url(url),
    }
    save_json(marker, meta)
    print(f"built {safe_url(url)}: generate {gen_s:.1f} s, indexes {meta['index_s']} s", flush=True)
    return url


def _apply_indexes(url: str, marker: Path, meta: dict) -> None:  # type: ignore[type-arg]
    from db.schema import indexes as ix

    engine = make_engine(url, read_timeout=False)
    try:
        ix.apply(engine)
    finally:
        engine.dispose()
    save_json(marker, {**meta, "indexes": True})


def build_info(url: str) -> dict | None:  # type: ignore[type-arg]
    """The marker of a built database (rows, profile, generation time), if any."""
    return load_json(_marker(url))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dbs")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--profile", default="history", choices=["history", "window"])
    parser.add_argument(
        "--url",
        default=None,
        help="server URL; databases <name>_<profile>_<rows> are created on it",
    )
    parser.add_argument("--no-indexes", action="store_true")
    parser.add_argument("--force", action="store_true", help="rebuild even when a marker exists")
    args = parser.parse_args(argv)
    for rows in [0, *(int(s) for s in args.sizes.split(","))]:
        url = build(
            args.profile if rows else "empty",
            rows,
            args.url,
            indexes=not args.no_indexes,
            force=args.force,
        )
        print(safe_url(url), build_info(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
