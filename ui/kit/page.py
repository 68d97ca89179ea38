"""Helpers every page uses at its top: the frame and the check that its tables exist."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

import ui
from db import data
from db.auth import VIEW
from db.errors import classify
from db.queries import meta
from perf import memory
from ui.kit.frame import Frame, frame, framed, is_framed
from ui.kit.widgets import guard, show_problem


def run_guarded(run: Callable[[], object], title: str) -> None:
    """Run a page; a database failure no panel caught is still a clear message, never a trace."""
    memory.tune(preload=ui)
    try:
        run()
    except SQLAlchemyError as exc:
        show_problem(classify(exc), where=title)


def _run_page(path: str) -> None:
    """Run a page file as __main__."""
    code = compile(Path(path).read_bytes(), path, "exec")
    # Correctness, not speed: the page runs again inside app.py's frame and guard.
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
