"""Helpers every page uses at its top: the frame and the check that its tables exist."""

from __future__ import annotations

import streamlit as st

from db import data
from db.auth import VIEW
from db.queries import meta
from ui.shell import Frame, frame
from ui.widgets import guard


def start(title: str, *, tables: tuple[str, ...] = ()) -> Frame:
    """Frame the page, title it, and stop with a clear message when a table it needs is missing."""
    f = frame()
    st.title(title)
    if not f.identity.can(VIEW):  # signed in, but no group maps to a role: deny by default
        st.warning("Your account has no role in this console, so it may not see any data. Ask an admin to "
                   "map one of your groups to a role ([roles] in the settings).", icon="🔒")
        st.stop()
    with guard("Database", stop=True):
        present = data.fetch(meta.existing_tables)
    missing = [t for t in tables if t not in present]
    if missing:
        for table in missing:
            st.warning(meta.table_missing_message(table), icon="⚠️")
        st.stop()
    return f
