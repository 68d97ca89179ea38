"""Audit log: every write the console made (config saves, activations, rollbacks, deletes, error
resolutions, cache purges): who, when, action, target, before and after, note."""

from __future__ import annotations

from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections import audit

f = start("Audit log", tables=("console_audit_log",))

with guard("Audit log"):
    filt = audit.filters(f)
    rows = audit.page(f, filt)
    audit.detail(rows, f)
