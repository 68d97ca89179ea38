"""Audit log: every write the console made (config saves, activations, rollbacks, deletes, error
resolutions, cache purges): who, when, action, target, before and after, note."""

from __future__ import annotations

import streamlit as st

from db import data
from db.queries import audit as qa
from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections import audit as ui

f = start("Audit log", tables=("console_audit_log",))

with guard("Audit log"):
    # --- filters and page position from the URL --------------------------------------------------
    values = data.fetch(qa.audit_filter_values, since=f.since, until=f.until)
    filt = ui.filters(f, values)
    stack = ui.position()
    before_at, before_id = stack[-1] if stack else (None, "")

    # --- counts, export, the page of entries and one entry ----------------------------------------
    rows = data.fetch(qa.audit_entries, before_at=before_at, before_id=before_id, **filt)
    total = data.fetch(qa.audit_count, **filt)
    ui.summary(f, rows, total)
    ui.export(data.fetch(qa.audit_entries, limit=ui.EXPORT_LIMIT, **filt), total)
    if rows.empty:
        st.info("No audit entries match.", icon="ℹ️")
    else:
        ui.table(rows, f)
        ui.pager(stack, rows)
        ui.detail(rows, f)
