"""Helpers every page uses at its top: the frame and the check that its tables exist."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import VIEW
from db.errors import classify
from db.queries import meta
from ui.kit.frame import Frame, frame, framed, is_framed
from ui.kit.widgets import guard, show_problem
from ui.perf import memory

# Page scripts running at once in this process. Python runs one thread at a time, so more
# would not finish sooner: they would interleave, each holding its working memory, and every
# one of them would finish late. The rest wait their turn (first come, first served).
MAX_RUNNING_PAGES = 3
_slots = threading.BoundedSemaphore(MAX_RUNNING_PAGES)


@contextmanager
def _slot() -> Iterator[None]:
    if not _slots.acquire(timeout=0.05):
        with st.spinner("Many people are using the console right now: your page is next…"):
            _slots.acquire()
    try:
        yield
    finally:
        _slots.release()


def run_guarded(run: Callable[[], object], title: str) -> None:
    """Run a page; a database failure no panel caught is still a clear message, never a trace."""
    memory.tune()  # once per process: the server's malloc arenas and trimming
    with _slot():
        try:
            run()
        except SQLAlchemyError as exc:
            show_problem(classify(exc), where=title)


@functools.lru_cache(maxsize=32)
def _compiled(path: str, mtime_ns: int) -> CodeType:
    return compile(Path(path).read_bytes(), path, "exec")


def _run_page(path: str) -> None:
    """Run a page file as __main__ (compiled once per version of the file)."""
    code = _compiled(path, os.stat(path).st_mtime_ns)
    exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})  # noqa: S102 - our own page file


def start(title: str, *, tables: tuple[str, ...] = ()) -> Frame:
    """Frame the page, title it, and stop with a clear message when a table it needs is missing.

    A page Streamlit runs without app.py (a deep link as a fresh server's first request, see
    STREAMLIT_NOTES.md) is framed here and run again inside the same guard app.py uses.
    """
    if not is_framed():
        page_file = sys._getframe(1).f_code.co_filename  # the page that called start()
        with framed(frame()):
            run_guarded(lambda: _run_page(page_file), title)
        st.stop()
    f = frame()
    st.title(title)
    if not f.identity.can(VIEW):  # signed in, but no group maps to a role: deny by default
        st.warning(
            "Your account has no role in this console, so it may not see any data. Ask an admin to "
            "map one of your groups to a role ([roles] in the settings).",
            icon="🔒",
        )
        st.stop()
    with guard("Database", stop=True):
        present = data.fetch(meta.existing_tables)
    missing = [t for t in tables if t not in present]
    if missing:
        for table in missing:
            st.warning(meta.table_missing_message(table), icon="⚠️")
        st.stop()
    return f
