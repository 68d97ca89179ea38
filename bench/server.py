"""The console server of the browser and concurrency measures (harness.server), its log in bench/out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import OUT
from harness.server import Server, running_server


@contextmanager
def streamlit_server(db_url: str, name: str) -> Iterator[Server]:
    """The console on a free loopback port with DATABASE_URL=db_url, logging to
    bench/out/server-<name>.log; stopped afterwards."""
    OUT.mkdir(parents=True, exist_ok=True)
    with running_server(db_url, OUT / f"server-{name}.log") as srv:
        yield srv
